import type { ProviderCounters } from '../provider/counters.ts';
import type { CounterSample } from './observed-run.ts';

/** What the sampler needs of the provider: ProviderControl fits. */
export interface CounterSource {
  counters(): Promise<ProviderCounters>;
}

/** How often the provider's counters are read, unless told otherwise. */
export const DEFAULT_SAMPLE_EVERY_MS = 100;

/**
 * Reads the provider's counters every `everyMs` while a run goes on, so that checks can
 * tell when the provider saw calls and aborted streams, not only how many.
 *
 * 1. Each sample is stamped halfway between sending the read and getting its answer.
 * 2. A read still in flight when the next is due is not doubled: that tick is skipped.
 * 3. Counters that go down were reset by someone else; the sampler carries the earlier
 *    total over, so its series only ever grow.
 * 4. A failed read is counted and skipped: the checks say so rather than the run crashing.
 */
export class ProviderSampler {
  readonly everyMs: number;
  readonly #source: CounterSource;
  readonly #nowUs: () => number;
  readonly #samples: CounterSample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #last: { calls: number; abortedStreams: number } | undefined;
  #carried = { calls: 0, abortedStreams: 0 };
  #failures = 0;
  #lastError: string | undefined;

  constructor(source: CounterSource, nowUs: () => number, everyMs = DEFAULT_SAMPLE_EVERY_MS) {
    this.#source = source;
    this.#nowUs = nowUs;
    this.everyMs = everyMs;
  }

  get samples(): readonly CounterSample[] {
    return this.#samples;
  }

  /** Reads that failed, and the last reason. */
  get failures(): { count: number; lastError: string | undefined } {
    return { count: this.#failures, lastError: this.#lastError };
  }

  /** Takes a first sample (throws when the provider does not answer), then keeps sampling. */
  async start(): Promise<void> {
    const sentUs = this.#nowUs();
    this.#record(await this.#source.counters(), sentUs);
    this.#timer = setInterval(() => {
      this.#inFlight ??= this.#read().finally(() => {
        this.#inFlight = undefined;
      });
    }, this.everyMs);
    this.#timer.unref?.();
  }

  /** Stops sampling after one last read, so the series covers everything until now. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    if (this.#last !== undefined) await this.#read();
  }

  /** Stops at once, without a last read (the run is being torn down). */
  dispose(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<void> {
    const sentUs = this.#nowUs();
    try {
      this.#record(await this.#source.counters(), sentUs);
    } catch (error) {
      this.#failures++;
      this.#lastError = error instanceof Error ? error.message : String(error);
    }
  }

  #record(counters: ProviderCounters, sentUs: number): void {
    const last = this.#last;
    if (
      last !== undefined &&
      (counters.calls < last.calls || counters.abortedStreams < last.abortedStreams)
    ) {
      this.#carried = {
        calls: this.#carried.calls + last.calls,
        abortedStreams: this.#carried.abortedStreams + last.abortedStreams,
      };
    }
    this.#last = { calls: counters.calls, abortedStreams: counters.abortedStreams };
    this.#samples.push({
      atUs: Math.round((sentUs + this.#nowUs()) / 2),
      calls: this.#carried.calls + counters.calls,
      abortedStreams: this.#carried.abortedStreams + counters.abortedStreams,
    });
  }
}
