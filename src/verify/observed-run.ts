import type { RequestFailure } from '../engine/request-failure.ts';
import { formatFailure } from '../engine/request-failure.ts';
import type { FaultRule } from '../provider/fault-rules.ts';
import type { Verification } from '../report/summary-schema.ts';

/** The phase of the timeline a request was sent in. */
export type TimelinePhase = 'before' | 'during' | 'after';

/** One finished request, as much of it as the resilience checks read. */
export interface ObservedRequest {
  flow: string;
  status: number;
  intendedUs: number;
  startUs: number;
  /** 0 when no response headers came. */
  headersUs: number;
  endUs: number;
  firstContentUs: number | undefined;
  failure: RequestFailure | undefined;
  fallback: boolean;
  /** The client left on purpose (`stream.abandonAfter`). */
  abandoned: boolean;
  /** The timeline window the request's phase refers to, and the phase. */
  fault: string | undefined;
  phase: TimelinePhase | undefined;
}

/** A timeline window as it was really applied, on the engine's clock. */
export interface ObservedWindow {
  name: string;
  rules: readonly FaultRule[];
  /** When the timeline asked the provider for the fault (its planned start). */
  requestedUs: number;
  /** When the provider acknowledged the fault (planned start when it never did). */
  startUs: number;
  /** When the provider acknowledged its clearing, or the run's end. */
  endUs: number;
  applied: boolean;
  cleared: boolean;
}

/** The provider's counters at one instant, made monotonic across counter resets. */
export interface CounterSample {
  atUs: number;
  calls: number;
  abortedStreams: number;
}

/** What the checks see of a run. Times are microseconds on the engine's clock. */
export interface ObservedRun {
  t0Us: number;
  endUs: number;
  /** Sorted by intended send time. */
  requests: readonly ObservedRequest[];
  windows: readonly ObservedWindow[];
  /** Provider counter samples in time order; undefined when no provider is in the path. */
  samples: readonly CounterSample[] | undefined;
  /** How often the samples were taken. */
  sampleEveryMs: number;
}

/** Seconds from the run's start, for evidence lines: `12.34 s`. */
export function atSeconds(run: ObservedRun, us: number): string {
  return `${((us - run.t0Us) / 1e6).toFixed(2)} s`;
}

/** A duration for evidence lines: `850 ms` below a second, `2.41 s` above. */
export function formatSpanUs(us: number): string {
  return us < 1e6 ? `${Math.round(us / 1_000)} ms` : `${(us / 1e6).toFixed(2)} s`;
}

/** A share as a percentage: `97.5%`. */
export function formatShare(value: number): string {
  return `${(Math.round(value * 1_000) / 10).toString()}%`;
}

/**
 * The nearest-rank percentile of `values` (any order): the smallest value with at least
 * p% of the values at or below it. Undefined for no values.
 */
export function nearestRank(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** The provider's counters as of `us`: the last sample taken at or before it. */
export function counterAt(
  samples: readonly CounterSample[],
  us: number,
): CounterSample | undefined {
  let low = 0;
  let high = samples.length - 1;
  let found: CounterSample | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const sample = samples[mid] as CounterSample;
    if (sample.atUs <= us) {
      found = sample;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

/** A response that served a normal answer: expected status, no failure, no fallback. */
export function isNormal(request: ObservedRequest): boolean {
  return (
    request.failure === undefined &&
    request.status >= 200 &&
    request.status < 400 &&
    !request.fallback
  );
}

/**
 * Requests the checks may judge: the client neither left on purpose nor had its request
 * cut by the run stopping.
 */
export function isJudged(request: ObservedRequest): boolean {
  return !request.abandoned && request.failure?.kind !== 'aborted';
}

/** What a response was, in a few words: `502`, `timed out waiting for headers`. */
export function outcomeOf(request: ObservedRequest): string {
  if (request.failure !== undefined) {
    const words = formatFailure(request.failure);
    return request.status > 0 ? `${request.status} then ${words}` : words;
  }
  if (request.fallback) return `${request.status} fallback`;
  return String(request.status);
}

/** `3 × 502, 2 × timed out waiting for headers`, most frequent first. */
export function tallyOutcomes(requests: readonly ObservedRequest[]): string {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const outcome = outcomeOf(request);
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, count]) => `${count} × ${outcome}`)
    .join(', ');
}

/** The requests sent while `window` was in force. */
export function sentDuring(
  requests: readonly ObservedRequest[],
  window: ObservedWindow,
): ObservedRequest[] {
  return requests.filter((request) => request.fault === window.name && request.phase === 'during');
}

/** `provider-timeout (2.00–10.00 s)`. */
export function windowLabel(run: ObservedRun, window: ObservedWindow): string {
  return `${window.name} (${atSeconds(run, window.startUs)}–${atSeconds(run, window.endUs)})`;
}

/** A verification with its subject, the one shape every check returns. */
export function verification(
  name: string,
  subject: string | undefined,
  ok: boolean,
  evidence: string[],
): Verification {
  return subject === undefined ? { name, ok, evidence } : { name, ok, evidence, subject };
}
