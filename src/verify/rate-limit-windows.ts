import type { HeaderBag } from './ratelimit-headers.ts';

/** One finished request as the rate-limit verifier keeps it. Times are engine microseconds. */
export interface LimitSample {
  flow: string;
  status: number;
  intendedUs: number;
  startUs: number;
  headersUs: number;
  endUs: number;
  firstContentUs: number | undefined;
  headers: HeaderBag;
  /** The value the declared limiter counts by (a real address, a session, a key). */
  key: string;
  /** How evidence names that key: an address, or `session of identity 3` (never a value). */
  keyLabel: string;
  identityIndex: number;
  /** The identity's session setup failed, so it sent without one. */
  setupFailed: boolean;
}

export type Outcome = 'passed' | 'limited' | 'other' | 'unanswered';

/**
 * 429 is limited; a 2xx or 3xx passed; another status (a 5xx, a 400) is other, but the
 * limiter let it through; no answer at all (reset, timeout) is unanswered and not counted.
 */
export function outcomeOf(sample: LimitSample): Outcome {
  if (sample.status === 0) return 'unanswered';
  if (sample.status === 429) return 'limited';
  if (sample.status >= 200 && sample.status < 400) return 'passed';
  return 'other';
}

/** One counting window of one key, as the verifier reconstructs it. */
export interface CountWindow {
  startUs: number;
  endUs: number;
  /** The window's requests in send order. */
  samples: LimitSample[];
  /** Requests the target let through (anything but a 429). */
  admitted: number;
  passed: number;
  limited: number;
  /** Where a clean counter puts the first 429: after every request it let through. */
  tripAt: number;
  /** 1-based position of the first 429 in send order (the target may have read otherwise). */
  firstLimitedInSendOrder: number | undefined;
  /** Requests let through past `limit + tolerance`, not counting the edge: must be none. */
  leaks: number;
  /** Send-order positions of those leaks. */
  leakPositions: number[];
  /** Requests let through past the limit but sent within the edge tolerance (not counted). */
  edgeAdmitted: number;
}

export interface WindowRules {
  limit: number;
  windowMs: number;
  tolerance: number;
  edgeToleranceMs: number;
}

/**
 * Cuts one key's requests into fixed counting windows, as most limiters count (the
 * in-memory stores of @fastify/rate-limit and express-rate-limit among them):
 * 1. sort by actual send time; a window opens at the first request not in an earlier one and
 *    lasts `windowMs`;
 * 2. count what the target let through (anything but a 429): a limiter that keeps its promise
 *    lets through at most `limit` per window, so the first 429 belongs at `admitted + 1`;
 * 3. what it let through past `limit + tolerance` is a leak, except requests sent within
 *    `edgeToleranceMs` of the window's end, where the target's window may have rolled over.
 * Counts, not positions, decide: requests on fresh connections of a busy client can reach the
 * target after later ones on warm connections, so send order is only shown, never judged.
 * A token bucket's refills show up as leaks here, which they are against a promise of
 * `limit` requests per `window`.
 */
export function countWindows(samples: readonly LimitSample[], rules: WindowRules): CountWindow[] {
  const sorted = [...samples].sort((a, b) => a.startUs - b.startUs);
  const windowUs = rules.windowMs * 1_000;
  const edgeUs = rules.edgeToleranceMs * 1_000;
  const allowed = rules.limit + rules.tolerance;
  const windows: CountWindow[] = [];

  let i = 0;
  while (i < sorted.length) {
    const startUs = (sorted[i] as LimitSample).startUs;
    const endUs = startUs + windowUs;
    const window: CountWindow = {
      startUs,
      endUs,
      samples: [],
      admitted: 0,
      passed: 0,
      limited: 0,
      tripAt: 1,
      firstLimitedInSendOrder: undefined,
      leaks: 0,
      leakPositions: [],
      edgeAdmitted: 0,
    };
    let admittedBeforeEdge = 0;
    while (i < sorted.length && (sorted[i] as LimitSample).startUs < endUs) {
      const sample = sorted[i] as LimitSample;
      window.samples.push(sample);
      const outcome = outcomeOf(sample);
      if (outcome === 'unanswered') {
        i++;
        continue;
      }
      if (outcome === 'limited') {
        window.limited++;
        window.firstLimitedInSendOrder ??= window.samples.length;
      } else {
        window.admitted++;
        if (outcome === 'passed') window.passed++;
        if (sample.startUs < endUs - edgeUs) {
          admittedBeforeEdge++;
          if (admittedBeforeEdge > allowed) window.leakPositions.push(window.samples.length);
        } else if (window.admitted > allowed) {
          window.edgeAdmitted++;
        }
      }
      i++;
    }
    window.tripAt = window.admitted + 1;
    window.leaks = window.leakPositions.length;
    windows.push(window);
  }
  return windows;
}

/** Samples grouped by the key their limiter counts, in first-seen order. */
export function groupByKey(samples: readonly LimitSample[]): Map<string, LimitSample[]> {
  const groups = new Map<string, LimitSample[]>();
  for (const sample of samples) {
    let group = groups.get(sample.key);
    if (group === undefined) {
      group = [];
      groups.set(sample.key, group);
    }
    group.push(sample);
  }
  return groups;
}

/** The p-th percentile (0..100) of values, nearest-rank; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** `12–15` or `12` for a run of positions; long lists are cut with a count. */
export function formatPositions(positions: readonly number[], max = 6): string {
  const runs: string[] = [];
  let from = positions[0];
  let to = from;
  for (let i = 1; i <= positions.length; i++) {
    const value = positions[i];
    if (value !== undefined && to !== undefined && value === to + 1) {
      to = value;
      continue;
    }
    if (from !== undefined) runs.push(from === to ? `${from}` : `${from}–${to}`);
    from = value;
    to = value;
  }
  if (runs.length <= max) return runs.join(', ');
  return `${runs.slice(0, max).join(', ')} and ${runs.length - max} more runs`;
}

/** Seconds with one decimal, for evidence. */
export function seconds(us: number): string {
  return `${(us / 1_000_000).toFixed(1)} s`;
}

/** `60 s`, `1.5 s` or `250 ms`, for a window or a threshold. */
export function formatMs(ms: number): string {
  if (ms >= 1_000) return `${Number((ms / 1_000).toFixed(1))} s`;
  return `${Math.round(ms)} ms`;
}
