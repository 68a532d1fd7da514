/** The share of one core the open loop may spend waiting out sub-millisecond rests. */
export const SPIN_SHARE = 0.03;

/** The most spin time saved up, so an idle stretch cannot pay for a long busy one. */
export const SPIN_SAVED_MAX_US = 30_000;

/**
 * How much busy-waiting a run's open loops may do. Node's timers count whole milliseconds, so a
 * timer wakes the loop up to about 1 ms before or after a send's due instant. Woken early, the
 * loop may wait out the rest a loop turn at a time (`setImmediate`), which keeps I/O flowing
 * but keeps the core busy. This budget refills with elapsed time at `share` of a core and is
 * spent by the time actually spun; a spin is allowed only when the whole rest fits.
 *
 * At a few hundred sends a second, that puts each send within tens of microseconds of its due
 * instant instead of half a millisecond behind. Schedules whose sends are under 1 ms apart
 * never sleep a whole millisecond, and only a wake-up from such a sleep may spin.
 */
export class SpinBudget {
  readonly #shareOfCore: number;
  readonly #savedMaxUs: number;
  #savedUs: number;
  #refilledAtUs: number;

  constructor(nowUs: number, shareOfCore = SPIN_SHARE, savedMaxUs = SPIN_SAVED_MAX_US) {
    this.#shareOfCore = shareOfCore;
    this.#savedMaxUs = savedMaxUs;
    this.#savedUs = savedMaxUs;
    this.#refilledAtUs = nowUs;
  }

  /** True when a spin of `restUs` fits what is saved up at `nowUs`. */
  allows(nowUs: number, restUs: number): boolean {
    this.#refill(nowUs);
    return restUs <= this.#savedUs;
  }

  /** Charges a spin that ran from `fromUs` to `nowUs`. */
  spend(fromUs: number, nowUs: number): void {
    this.#refill(nowUs);
    this.#savedUs = Math.max(0, this.#savedUs - Math.max(0, nowUs - fromUs));
  }

  /** What is saved up at `nowUs`, in microseconds of spinning. */
  savedUs(nowUs: number): number {
    this.#refill(nowUs);
    return this.#savedUs;
  }

  #refill(nowUs: number): void {
    const elapsedUs = nowUs - this.#refilledAtUs;
    if (elapsedUs <= 0) return;
    this.#refilledAtUs = nowUs;
    this.#savedUs = Math.min(this.#savedMaxUs, this.#savedUs + elapsedUs * this.#shareOfCore);
  }
}
