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

type FlowTiming = 'latency' | 'duration' | 'ttft';
const FLOW_TIMINGS: readonly FlowTiming[] = ['latency', 'duration', 'ttft'];

/**
 * The per-second series of a run in bounded memory: it holds one second's histograms per flow
 * and turns each finished second into a small row, so memory grows with the run's length in
 * seconds, never with its request count. The last five seconds of `latency` are kept in a
 * `RecentWindow` for the live progress line.
 *
 * Closing a second runs on the event loop once a second, among due sends, so it holds the
 * loop as little as it can:
 *
 * 1. `rollTo` only swaps the second's non-empty histograms for empty ones and queues their
 *    work: each row's percentiles, each interval's encoding, each histogram's reset.
 * 2. The queue is worked one step a loop turn (`setImmediate`), so due timers and answers run
 *    between steps; a step is at most one histogram's encoding.
 * 3. Reading `rows`, `intervals` or `flowSeconds` first finishes the queue, so a reader never
 *    sees a second half-closed.
 * 4. With one flow, the logged histograms are the flow's own (recorded and encoded once, and
 *    a worker's flow second reuses the interval's encoding); encoding is node's zlib.
 */
export class TimeSeries {
  readonly #rows: SecondRow[] = [];
  readonly #intervals: IntervalHistogram[] = [];
  readonly #flowSeconds: FlowSecondHistograms[] = [];
  readonly #keepFlowHistograms: boolean;
  readonly #flows = new Map<string, FlowAccumulator>();
  /** This second's values of every flow; with one flow, that flow's own histograms. */
  #logged: Record<LoggedMetric, ValueHistogram>;
  readonly #loggedShared: boolean;
  readonly #recent = new RecentWindow(RECENT_SECONDS);
  /** Closed seconds' work still to do, in order; one step a loop turn. */
  readonly #steps: Array<() => void> = [];
  #stepping: NodeJS.Immediate | undefined;
  /** Empty histograms to swap in at a second's close; every histogram made, to free them. */
  readonly #spares: ValueHistogram[] = [];
  readonly #made = new Set<ValueHistogram>();
  #second = 0;
  #planned = 0;
  #sent = 0;
  #dropped = 0;

  constructor(flowNames: readonly string[], options: { keepFlowHistograms?: boolean } = {}) {
    this.#keepFlowHistograms = options.keepFlowHistograms === true;
    for (const name of flowNames) {
      this.#flows.set(name, {
        requests: {},
        ratelimited: 0,
        fallback: 0,
        failures: 0,
        latency: this.#histogram(),
        duration: this.#histogram(),
        ttft: this.#histogram(),
      });
    }
    this.#loggedShared = this.#flows.size === 1;
    this.#logged = this.#loggedShared
      ? this.#sharedLogged()
      : {
          latency: this.#histogram(),
          http_req_duration: this.#histogram(),
          chat_ttft: this.#histogram(),
        };
  }

  /** One row per closed second. */
  get rows(): SecondRow[] {
    this.#finishSteps();
    return this.#rows;
  }

  /** An encoded histogram per closed second and logged metric, for HdrHistogram logs. */
  get intervals(): IntervalHistogram[] {
    this.#finishSteps();
    return this.#intervals;
  }

  /** Filled only when asked (`keepFlowHistograms`): workers send these to be merged. */
  get flowSeconds(): FlowSecondHistograms[] {
    this.#finishSteps();
    return this.#flowSeconds;
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
    this.#scheduleStep();
  }

  /**
   * p95 of `latency` over the current second and the four before it, in ms (undefined with
   * no sample).
   */
  recentLatencyP95Ms(): number | undefined {
    const p95Us = this.#recent.percentile(95);
    return p95Us === undefined ? undefined : p95Us / 1_000;
  }

  /** Frees every histogram; queued work is dropped. The series is unusable afterwards. */
  destroy(): void {
    if (this.#stepping !== undefined) clearImmediate(this.#stepping);
    this.#stepping = undefined;
    this.#steps.length = 0;
    for (const histogram of this.#made) histogram.destroy();
    this.#made.clear();
    this.#spares.length = 0;
  }

  /** Swaps the second's histograms out and queues what turns them into its row and logs. */
  #closeSecond(generator: GeneratorSecond): void {
    const t = this.#second;
    const encoded = new Map<ValueHistogram, string>();
    const encodeOnce = (histogram: ValueHistogram): string => {
      let text = encoded.get(histogram);
      if (text === undefined) {
        text = histogram.encode();
        encoded.set(histogram, text);
      }
      return text;
    };
    const closed = new Set<ValueHistogram>();

    const logged = this.#logged;
    for (const metric of LOGGED_METRICS) {
      const histogram = logged[metric];
      if (histogram.count === 0) continue;
      closed.add(histogram);
      this.#steps.push(() => {
        this.#intervals.push({
          startMs: t * 1_000,
          durationMs: 1_000,
          tag: metric,
          encoded: encodeOnce(histogram),
        });
      });
    }
    if (!this.#loggedShared) {
      for (const metric of LOGGED_METRICS) {
        if (logged[metric].count > 0) logged[metric] = this.#histogram();
      }
    }

    const flows: Record<string, FlowSecond> = {};
    for (const [name, acc] of this.#flows) {
      const flowSecond: FlowSecond = {
        requests: acc.requests,
        ratelimited: acc.ratelimited,
        fallback: acc.fallback,
        failures: acc.failures,
        latency: null,
        duration: null,
        ttft: null,
      };
      flows[name] = flowSecond;
      const kept: FlowSecondHistograms = {
        t,
        flow: name,
        latency: undefined,
        duration: undefined,
        ttft: undefined,
      };
      if (this.#keepFlowHistograms) this.#flowSeconds.push(kept);
      for (const timing of FLOW_TIMINGS) {
        const histogram = acc[timing];
        if (histogram.count === 0) continue;
        closed.add(histogram);
        acc[timing] = this.#histogram();
        this.#steps.push(() => {
          flowSecond[timing] = percentiles(histogram);
          if (this.#keepFlowHistograms) kept[timing] = encodeOnce(histogram);
        });
      }
      acc.requests = {};
      acc.ratelimited = 0;
      acc.fallback = 0;
      acc.failures = 0;
    }
    if (this.#loggedShared) this.#logged = this.#sharedLogged();

    for (const histogram of closed) {
      this.#steps.push(() => {
        histogram.reset();
        this.#spares.push(histogram);
      });
    }
    this.#rows.push({
      t,
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

  #scheduleStep(): void {
    if (this.#stepping !== undefined || this.#steps.length === 0) return;
    this.#stepping = setImmediate(() => {
      this.#stepping = undefined;
      this.#steps.shift()?.();
      this.#scheduleStep();
    });
    // Pending steps alone must not keep a finished process alive; readers finish them.
    this.#stepping.unref();
  }

  #finishSteps(): void {
    if (this.#stepping !== undefined) clearImmediate(this.#stepping);
    this.#stepping = undefined;
    for (let step = this.#steps.shift(); step !== undefined; step = this.#steps.shift()) step();
  }

  /** An empty histogram, a spare when there is one. */
  #histogram(): ValueHistogram {
    const spare = this.#spares.pop();
    if (spare !== undefined) return spare;
    const made = new ValueHistogram();
    this.#made.add(made);
    return made;
  }

  #sharedLogged(): Record<LoggedMetric, ValueHistogram> {
    const only = [...this.#flows.values()][0] as FlowAccumulator;
    return { latency: only.latency, http_req_duration: only.duration, chat_ttft: only.ttft };
  }
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
