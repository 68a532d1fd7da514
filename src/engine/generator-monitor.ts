import { type IntervalHistogram as LoopDelay, monitorEventLoopDelay } from 'node:perf_hooks';
import { ValueHistogram } from '../metrics/histogram.ts';
import type { GeneratorSecond } from '../metrics/time-series.ts';

/** Limits past which the generator's own figures are not to be trusted. */
export const SATURATION_LIMITS = {
  /** p99 of the lag between an open-model request's intended and actual dispatch. */
  sendLagP99Ms: 10,
  /** p99 of the event loop's delay: callbacks (responses, timers) ran this late. */
  loopDelayP99Ms: 50,
  /** Share of one core the process used, over the run. */
  cpuPercent: 95,
  /** Achieved sends as a share of the planned ones (drops at the in-flight cap excluded). */
  achievedShare: 0.95,
} as const;

/** One process's generator figures as plain data (workers send these to the coordinator). */
export interface GeneratorPart {
  /** The send-lag histogram, encoded (microseconds); undefined with no open-model send. */
  sendLag: string | undefined;
  late: number;
  veryLate: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  cpuMs: number;
  wallMs: number;
}

export interface GeneratorHealth {
  plannedRatePerSec: number;
  achievedRatePerSec: number;
  planned: number;
  sent: number;
  late: number;
  dropped: number;
  sendLagMs: { p50: number; p99: number; max: number };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  cpuPercent: number;
  saturated: boolean;
  reasons: string[];
}

/**
 * Judges the generator from one part per process: send lag from the merged histograms, the
 * worst event-loop delay, and CPU per process (each worker has a core of its own to fill).
 */
export function generatorHealth(
  parts: readonly GeneratorPart[],
  planned: number,
  sent: number,
  dropped: number,
  durationMs: number,
): GeneratorHealth {
  const lagHistogram = new ValueHistogram();
  for (const part of parts) {
    if (part.sendLag === undefined) continue;
    const decoded = ValueHistogram.decode(part.sendLag);
    lagHistogram.add(decoded);
    decoded.destroy();
  }
  const lag = {
    p50: lagHistogram.count > 0 ? lagHistogram.percentile(50) / 1_000 : 0,
    p99: lagHistogram.count > 0 ? lagHistogram.percentile(99) / 1_000 : 0,
    max: lagHistogram.count > 0 ? lagHistogram.max / 1_000 : 0,
  };
  const sends = lagHistogram.count;
  lagHistogram.destroy();
  const loop = {
    p50: Math.max(0, ...parts.map((part) => part.loopDelayMs.p50)),
    p99: Math.max(0, ...parts.map((part) => part.loopDelayMs.p99)),
    max: Math.max(0, ...parts.map((part) => part.loopDelayMs.max)),
  };
  const cpuPercent = Math.max(
    0,
    ...parts.map((part) => (part.wallMs > 0 ? (part.cpuMs / part.wallMs) * 100 : 0)),
  );
  const veryLate = parts.reduce((sum, part) => sum + part.veryLate, 0);

  const reasons: string[] = [];
  // p99 over a handful of sends is its slowest one: ask for 1% of sends and at least 3.
  if (lag.p99 > SATURATION_LIMITS.sendLagP99Ms && veryLate >= 3) {
    reasons.push(
      `send lag p99 ${lag.p99.toFixed(1)} ms is over ${SATURATION_LIMITS.sendLagP99Ms} ms ` +
        `(${veryLate} of ${sends} sends): the generator fell behind its schedule`,
    );
  }
  if (loop.p99 > SATURATION_LIMITS.loopDelayP99Ms) {
    reasons.push(
      `event-loop delay p99 ${loop.p99.toFixed(1)} ms is over ` +
        `${SATURATION_LIMITS.loopDelayP99Ms} ms: responses were timed late`,
    );
  }
  if (cpuPercent > SATURATION_LIMITS.cpuPercent && durationMs >= 1_000) {
    reasons.push(
      `generator CPU ${cpuPercent.toFixed(0)}% of a core: it was the bottleneck ` +
        '(use --workers or fewer flows)',
    );
  }
  const expected = planned - dropped;
  if (expected > 0 && sent / expected < SATURATION_LIMITS.achievedShare) {
    reasons.push(
      `sent ${sent} of ${expected} planned requests (${((sent / expected) * 100).toFixed(1)}%): ` +
        'the generator could not keep the rate',
    );
  }

  const seconds = durationMs / 1_000;
  return {
    plannedRatePerSec: seconds > 0 ? planned / seconds : 0,
    achievedRatePerSec: seconds > 0 ? sent / seconds : 0,
    planned,
    sent,
    late: parts.reduce((sum, part) => sum + part.late, 0),
    dropped,
    sendLagMs: lag,
    eventLoopDelayMs: loop,
    cpuPercent,
    saturated: reasons.length > 0,
    reasons,
  };
}

/**
 * The event-loop monitor's sampling interval. Node's monitor records the time between two
 * firings of a timer repeating every `resolution` ms (nodejs.org/api/perf_hooks.html,
 * `monitorEventLoopDelay`: "the sampling rate in milliseconds"), so each sample is the interval
 * plus how late the loop ran it, and the interval is taken off every figure here. At 1 ms,
 * libuv's timer granularity, a block of B ms shows as at least B − 1 ms, where at 10 ms a 9 ms
 * block can pass unseen. Measured on this machine: an idle loop costs about 20 ms of CPU a second
 * at 1 ms against 5 at 10 ms (two monitors fire in the same wake-up, so two cost as one); on a
 * busy loop no difference shows, as the timers run in C++ within turns the loop takes anyway.
 */
export const LOOP_SAMPLE_MS = 1;

/**
 * Event-loop delay figures in ms from a monitor's histogram (nanoseconds): each percentile and
 * the maximum less the sampling interval, never below 0; zeros with no sample.
 */
export function loopDelayMs(
  histogram: Pick<LoopDelay, 'count' | 'percentile' | 'max'>,
  sampleMs: number,
): { p50: number; p99: number; max: number } {
  if (histogram.count === 0) return { p50: 0, p99: 0, max: 0 };
  const late = (ns: number) => Math.max(0, ns / 1e6 - sampleMs);
  return {
    p50: late(histogram.percentile(50)),
    p99: late(histogram.percentile(99)),
    max: late(histogram.max),
  };
}

/** A send later than this after its intended time counts as late. */
const LATE_US = 1_000;

/** A send this late is past what the figures can absorb; 1% of them marks saturation. */
const VERY_LATE_US = SATURATION_LIMITS.sendLagP99Ms * 1_000;

/**
 * Watches the generator itself: the lag of each open-model send behind its schedule, the
 * event loop's delay and the process's CPU. A load generator that cannot keep its own schedule
 * reports figures that describe itself, not the target; this says when that happened and why.
 */
export class GeneratorMonitor {
  readonly #sendLag = new ValueHistogram();
  readonly #secondLag = new ValueHistogram();
  /** The whole run's event-loop delay, and this second's (reset every second). */
  readonly #loop: LoopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  readonly #secondLoop: LoopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  #cpuAt = process.cpuUsage();
  #cpuWallAt = performance.now();
  readonly #cpuStart = process.cpuUsage();
  readonly #wallStart = performance.now();
  #late = 0;
  #veryLate = 0;

  start(): void {
    this.#loop.enable();
    this.#secondLoop.enable();
  }

  /** Records one open-model send's lag behind its intended time. */
  recordSendLag(lagUs: number): void {
    const lag = Math.max(0, lagUs);
    this.#sendLag.record(lag);
    this.#secondLag.record(lag);
    if (lag > LATE_US) this.#late++;
    if (lag > VERY_LATE_US) this.#veryLate++;
  }

  /** This second's figures, for the time series; resets the per-second ones. */
  second(inFlight: number): GeneratorSecond {
    const now = performance.now();
    const cpu = process.cpuUsage(this.#cpuAt);
    const wallMs = now - this.#cpuWallAt;
    this.#cpuAt = process.cpuUsage();
    this.#cpuWallAt = now;
    const out: GeneratorSecond = {
      sendLagP99Ms: this.#secondLag.count > 0 ? this.#secondLag.percentile(99) / 1_000 : 0,
      sendLagMaxMs: this.#secondLag.count > 0 ? this.#secondLag.max / 1_000 : 0,
      loopDelayP99Ms: loopDelayMs(this.#secondLoop, LOOP_SAMPLE_MS).p99,
      cpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1_000 / wallMs) * 100 : 0,
      inFlight,
    };
    this.#secondLag.reset();
    this.#secondLoop.reset();
    return out;
  }

  /** This process's figures as plain data, to be judged alone or merged with other workers'. */
  part(): GeneratorPart {
    const cpu = process.cpuUsage(this.#cpuStart);
    return {
      sendLag: this.#sendLag.count > 0 ? this.#sendLag.encode() : undefined,
      late: this.#late,
      veryLate: this.#veryLate,
      loopDelayMs: loopDelayMs(this.#loop, LOOP_SAMPLE_MS),
      cpuMs: (cpu.user + cpu.system) / 1_000,
      wallMs: performance.now() - this.#wallStart,
    };
  }

  destroy(): void {
    this.#loop.disable();
    this.#secondLoop.disable();
    this.#sendLag.destroy();
    this.#secondLag.destroy();
  }
}
