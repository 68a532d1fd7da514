import { ValueHistogram } from './histogram.ts';
import { RecentWindow } from './recent-window.ts';

/** Percentiles of one second, in milliseconds. */
export interface SecondPercentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One flow's second. Status classes are `2xx`…`5xx` and `error` (no response). */
export interface FlowSecond {
  requests: Record<string, number>;
  ratelimited: number;
  fallback: number;
  failures: number;
  latency: SecondPercentiles | null;
  duration: SecondPercentiles | null;
  ttft: SecondPercentiles | null;
}

/** One second of the run: per flow, and the generator's own health. */
export interface SecondRow {
  /** Seconds since the run's start (this row covers [t, t+1)). */
  t: number;
  flows: Record<string, FlowSecond>;
  planned: number;
  sent: number;
  dropped: number;
  inFlight: number;
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  loopDelayP99Ms: number;
  cpuPercent: number;
  /** Filled from the provider's counters after the run, when they are known. */
  providerCalls?: number;
  providerCostUsd?: number;
}

/** One flow's second as encoded histograms (µs), so seconds of several workers can merge. */
export interface FlowSecondHistograms {
  t: number;
  flow: string;
  latency: string | undefined;
  duration: string | undefined;
  ttft: string | undefined;
}

/** An encoded per-second histogram, for HdrHistogram interval logs. */
export interface IntervalHistogram {
  startMs: number;
  durationMs: number;
  tag: string;
  encoded: string;
}

const LOGGED_METRICS = ['latency', 'http_req_duration', 'chat_ttft'] as const;
type LoggedMetric = (typeof LOGGED_METRICS)[number];

interface FlowAccumulator {
  requests: Record<string, number>;
  ratelimited: number;
  fallback: number;
  failures: number;
  latency: ValueHistogram;
  duration: ValueHistogram;
  ttft: ValueHistogram;
}

export interface GeneratorSecond {
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  loopDelayP99Ms: number;
  cpuPercent: number;
  inFlight: number;
}

/** Seconds of `latency` behind the live progress line's p95. */
const RECENT_SECONDS = 5;

/**
 * The per-second series of a run in bounded memory: it holds one second's histograms per flow
 * and turns each finished second into a small row, so memory grows with the run's length in
 * seconds, never with its request count. The last five seconds of `latency` are kept in a
 * `RecentWindow` for the live progress line.
 *
 * Closing a second runs on the event loop once a second, ahead of due sends, so it is kept
 * short: with one flow the logged histograms are the flow's own (recorded and encoded once,
 * and a worker's flow second reuses the interval's encoding), and encoding is node's zlib.
 */
export class TimeSeries {
  readonly rows: SecondRow[] = [];
  readonly intervals: IntervalHistogram[] = [];
  /** Filled only when asked (`keepFlowHistograms`): workers send these to be merged. */
  readonly flowSeconds: FlowSecondHistograms[] = [];
  readonly #keepFlowHistograms: boolean;
  readonly #flows = new Map<string, FlowAccumulator>();
  /** This second's values of every flow; with one flow, that flow's own histograms. */
  readonly #logged: Record<LoggedMetric, ValueHistogram>;
  readonly #loggedShared: boolean;
  readonly #recent = new RecentWindow(RECENT_SECONDS);
  #second = 0;
  #planned = 0;
  #sent = 0;
  #dropped = 0;

  constructor(flowNames: readonly string[], options: { keepFlowHistograms?: boolean } = {}) {
    this.#keepFlowHistograms = options.keepFlowHistograms === true;
    for (const name of flowNames) this.#flows.set(name, newAccumulator());
    const only = this.#flows.size === 1 ? [...this.#flows.values()][0] : undefined;
    this.#loggedShared = only !== undefined;
    this.#logged =
      only === undefined
        ? {
            latency: new ValueHistogram(),
            http_req_duration: new ValueHistogram(),
            chat_ttft: new ValueHistogram(),
          }
        : { latency: only.latency, http_req_duration: only.duration, chat_ttft: only.ttft };
  }

  /** The second that records currently go to. */
  get second(): number {
    return this.#second;
  }

  countPlanned(n = 1): void {
    this.#planned += n;
  }

  countSent(): void {
    this.#sent++;
  }

  countDropped(): void {
    this.#dropped++;
  }

  /** Records a finished request's timings (microseconds) in the current second. */
  recordResponse(
    flow: string,
    statusClassName: string,
    latencyUs: number,
    durationUs: number,
    ttftUs: number | undefined,
    flags: { ratelimited: boolean; fallback: boolean; failed: boolean },
  ): void {
    const acc = this.#flows.get(flow);
    if (acc === undefined) return;
    acc.requests[statusClassName] = (acc.requests[statusClassName] ?? 0) + 1;
    if (flags.ratelimited) acc.ratelimited++;
    if (flags.fallback) acc.fallback++;
    if (flags.failed) acc.failures++;
    acc.latency.record(latencyUs);
    acc.duration.record(durationUs);
    this.#recent.record(latencyUs);
    if (ttftUs !== undefined) acc.ttft.record(ttftUs);
    if (this.#loggedShared) return;
    this.#logged.latency.record(latencyUs);
    this.#logged.http_req_duration.record(durationUs);
    if (ttftUs !== undefined) this.#logged.chat_ttft.record(ttftUs);
  }

  /**
   * Closes every second before `second`, emitting one row each (empty seconds included, so
   * charts show gaps as zeros rather than skipping them).
   */
  rollTo(second: number, generator: GeneratorSecond): void {
    while (this.#second < second) {
      this.#closeSecond(generator);
      this.#second++;
      this.#recent.advance();
    }
  }

  /**
   * p95 of `latency` over the current second and the four before it, in ms (undefined with
   * no sample).
   */
  recentLatencyP95Ms(): number | undefined {
    const p95Us = this.#recent.percentile(95);
    return p95Us === undefined ? undefined : p95Us / 1_000;
  }

  destroy(): void {
    for (const acc of this.#flows.values()) {
      acc.latency.destroy();
      acc.duration.destroy();
      acc.ttft.destroy();
    }
    if (this.#loggedShared) return;
    for (const histogram of Object.values(this.#logged)) histogram.destroy();
  }

  #closeSecond(generator: GeneratorSecond): void {
    const encoded = new Map<ValueHistogram, string>();
    const encode = (histogram: ValueHistogram): string | undefined => {
      if (histogram.count === 0) return undefined;
      let text = encoded.get(histogram);
      if (text === undefined) {
        text = histogram.encode();
        encoded.set(histogram, text);
      }
      return text;
    };

    for (const metric of LOGGED_METRICS) {
      const text = encode(this.#logged[metric]);
      if (text === undefined) continue;
      this.intervals.push({
        startMs: this.#second * 1_000,
        durationMs: 1_000,
        tag: metric,
        encoded: text,
      });
    }

    const flows: Record<string, FlowSecond> = {};
    for (const [name, acc] of this.#flows) {
      if (this.#keepFlowHistograms) {
        this.flowSeconds.push({
          t: this.#second,
          flow: name,
          latency: encode(acc.latency),
          duration: encode(acc.duration),
          ttft: encode(acc.ttft),
        });
      }
      flows[name] = {
        requests: acc.requests,
        ratelimited: acc.ratelimited,
        fallback: acc.fallback,
        failures: acc.failures,
        latency: percentiles(acc.latency),
        duration: percentiles(acc.duration),
        ttft: percentiles(acc.ttft),
      };
      acc.requests = {};
      acc.ratelimited = 0;
      acc.fallback = 0;
      acc.failures = 0;
      acc.latency.reset();
      acc.duration.reset();
      acc.ttft.reset();
    }
    if (!this.#loggedShared) {
      for (const metric of LOGGED_METRICS) this.#logged[metric].reset();
    }

    this.rows.push({
      t: this.#second,
      flows,
      planned: this.#planned,
      sent: this.#sent,
      dropped: this.#dropped,
      ...generator,
    });
    this.#planned = 0;
    this.#sent = 0;
    this.#dropped = 0;
  }
}

function newAccumulator(): FlowAccumulator {
  return {
    requests: {},
    ratelimited: 0,
    fallback: 0,
    failures: 0,
    latency: new ValueHistogram(),
    duration: new ValueHistogram(),
    ttft: new ValueHistogram(),
  };
}

export function percentiles(histogram: ValueHistogram): SecondPercentiles | null {
  if (histogram.count === 0) return null;
  return {
    count: histogram.count,
    p50: histogram.percentile(50) / 1_000,
    p95: histogram.percentile(95) / 1_000,
    p99: histogram.percentile(99) / 1_000,
    max: histogram.max / 1_000,
  };
}
