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

export type Outcome = 'passed' | 'limited' | 'other';

/** 429 is limited; a 2xx or 3xx passed the limiter; anything else (5xx, no answer) is other. */
export function outcomeOf(sample: LimitSample): Outcome {
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
  /** 1-based position of the first 429, in send order. */
  firstLimitedAt: number | undefined;
  passed: number;
  /** Passes past position `limit + tolerance`, sent before the edge: must be none. */
  leaks: number;
  /** Positions (1-based) of those leaks. */
  leakPositions: number[];
  /** Passes past the limit sent within the edge tolerance of the window's end (not counted). */
  edgePasses: number;
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
 * 1. sort by actual send time, the order the target received them in;
 * 2. a window opens at the first request not in an earlier one and lasts `windowMs`;
 * 3. in each window, position `limit + 1` should be the first 429; a pass at a position past
 *    `limit + tolerance` is a leak, unless it was sent within `edgeToleranceMs` of the
 *    window's end, where the target's window may already have rolled over.
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
      firstLimitedAt: undefined,
      passed: 0,
      leaks: 0,
      leakPositions: [],
      edgePasses: 0,
    };
    while (i < sorted.length && (sorted[i] as LimitSample).startUs < endUs) {
      const sample = sorted[i] as LimitSample;
      window.samples.push(sample);
      const position = window.samples.length;
      const outcome = outcomeOf(sample);
      if (outcome === 'limited' && window.firstLimitedAt === undefined) {
        window.firstLimitedAt = position;
      }
      if (outcome === 'passed') {
        window.passed++;
        if (position > allowed) {
          if (sample.startUs < endUs - edgeUs) {
            window.leaks++;
            window.leakPositions.push(position);
          } else {
            window.edgePasses++;
          }
        }
      }
      i++;
    }
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
