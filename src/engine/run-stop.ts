import type { RunEvent } from './run-scenario.ts';

export type StopReason = 'finished' | 'signal' | 'threshold-abort';

/**
 * How a run stops: on the caller's signal (also when it was aborted before the run began), on
 * an `abortOnFail` threshold, or at its end. Every engine uses one, so the three ways out
 * behave the same: the first reason wins, and one `stopping` event says it.
 */
export class RunStop {
  readonly #controller = new AbortController();
  readonly #emit: (event: RunEvent) => void;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuter = () => this.stop('signal');
  /** Resolves when the run starts stopping. */
  readonly stopped: Promise<void>;
  reason: StopReason = 'finished';

  constructor(emit: (event: RunEvent) => void, outer: AbortSignal | undefined) {
    this.#emit = emit;
    this.#outer = outer;
    this.stopped = new Promise<void>((resolve) =>
      this.#controller.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    outer?.addEventListener('abort', this.#onOuter, { once: true });
    if (outer?.aborted) this.#onOuter();
  }

  /** Aborted once the run is stopping, for whatever reason. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get stopping(): boolean {
    return this.#controller.signal.aborted;
  }

  stop(reason: 'signal' | 'threshold-abort', detail?: string): void {
    if (this.stopping) return;
    this.reason = reason;
    this.#emit({ type: 'stopping', reason, ...(detail ? { detail } : {}) });
    this.#controller.abort();
  }

  /** Releases waiters at the end of a run without naming a reason; detaches the signal. */
  close(): void {
    this.#outer?.removeEventListener('abort', this.#onOuter);
    this.#controller.abort();
  }
}
