import type { FaultKind } from './fault-rules.ts';

/** What the provider has seen since it started or since the last reset. */
export interface ProviderCounters {
  /** Chat completion calls received, whatever their outcome. */
  calls: number;
  /** Of those, calls that asked for `stream: true`. */
  streamingCalls: number;
  /**
   * Prompt tokens of calls the model started on (estimated, or the upstream's usage in
   * proxy mode); a call answered by a 429, a 5xx, a hang or a reset adds none.
   */
  promptTokens: number;
  /** Completion tokens actually sent (or the upstream's usage in proxy mode). */
  completionTokens: number;
  /** Calls the caller closed before the answer ended (streaming or not). */
  abortedStreams: number;
  /** Streaming calls open right now. */
  concurrentStreams: number;
  /** The most streaming calls open at once. */
  peakConcurrentStreams: number;
  /** Answers by HTTP status (`"200"`, `"429"`); calls answered by no status are not here. */
  byStatus: Record<string, number>;
  /** Calls each fault was applied to. */
  faultsApplied: Partial<Record<FaultKind, number>>;
}

/** The mutable counters behind ProviderCounters; `snapshot()` copies them out. */
export class CounterSet {
  #c: ProviderCounters = emptyCounters();

  snapshot(): ProviderCounters {
    return {
      ...this.#c,
      byStatus: { ...this.#c.byStatus },
      faultsApplied: { ...this.#c.faultsApplied },
    };
  }

  /** Zeroes everything except the streams open now, which are still open. */
  reset(): void {
    const open = this.#c.concurrentStreams;
    this.#c = emptyCounters();
    this.#c.concurrentStreams = open;
    this.#c.peakConcurrentStreams = open;
  }

  call(): void {
    this.#c.calls++;
  }

  /** Marks the call just counted as a streaming one, once its body is read. */
  markStreaming(): void {
    this.#c.streamingCalls++;
  }

  tokens(promptTokens: number, completionTokens: number): void {
    this.#c.promptTokens += promptTokens;
    this.#c.completionTokens += completionTokens;
  }

  status(status: number): void {
    const key = String(status);
    this.#c.byStatus[key] = (this.#c.byStatus[key] ?? 0) + 1;
  }

  fault(kind: FaultKind): void {
    this.#c.faultsApplied[kind] = (this.#c.faultsApplied[kind] ?? 0) + 1;
  }

  aborted(): void {
    this.#c.abortedStreams++;
  }

  streamOpened(): void {
    this.#c.concurrentStreams++;
    if (this.#c.concurrentStreams > this.#c.peakConcurrentStreams) {
      this.#c.peakConcurrentStreams = this.#c.concurrentStreams;
    }
  }

  streamClosed(): void {
    this.#c.concurrentStreams = Math.max(0, this.#c.concurrentStreams - 1);
  }
}

function emptyCounters(): ProviderCounters {
  return {
    calls: 0,
    streamingCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    abortedStreams: 0,
    concurrentStreams: 0,
    peakConcurrentStreams: 0,
    byStatus: {},
    faultsApplied: {},
  };
}
