import { describe, expect, it } from 'vitest';
import {
  type CountWindow,
  countWindows,
  type LimitSample,
} from '../../src/verify/rate-limit-windows.ts';
import { readRateLimitHeaders, readRetryAfter } from '../../src/verify/ratelimit-headers.ts';

const NOW_MS = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('reading rate-limit headers', () => {
  it('reads the legacy X-RateLimit form, reset as seconds from now', () => {
    const [reading] = readRateLimitHeaders(
      { 'x-ratelimit-limit': '20', 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '42' },
      NOW_MS,
    );
    expect(reading).toEqual({
      form: 'legacy',
      limit: 20,
      remaining: 7,
      resetS: 42,
      windowS: undefined,
      problems: [],
    });
  });

  it('turns a legacy reset given as an epoch time (seconds or ms) into seconds from now', () => {
    const inSeconds = readRateLimitHeaders(
      { 'x-ratelimit-reset': String(NOW_MS / 1_000 + 30) },
      NOW_MS,
    );
    expect(inSeconds[0]?.resetS).toBe(30);
    const inMs = readRateLimitHeaders({ 'x-ratelimit-reset': String(NOW_MS + 12_000) }, NOW_MS);
    expect(inMs[0]?.resetS).toBe(12);
  });

  it('reads draft 6 with its policy window, and draft 7 as one dictionary', () => {
    const draft6 = readRateLimitHeaders(
      {
        'ratelimit-limit': '100',
        'ratelimit-remaining': '99',
        'ratelimit-reset': '60',
        'ratelimit-policy': '100;w=60, 1000;w=3600',
      },
      NOW_MS,
    );
    expect(draft6).toMatchObject([
      { form: 'draft-6', limit: 100, remaining: 99, resetS: 60, windowS: 60 },
    ]);

    const draft7 = readRateLimitHeaders(
      { ratelimit: 'limit=100, remaining=50, reset=5', 'ratelimit-policy': '100;w=60' },
      NOW_MS,
    );
    expect(draft7).toMatchObject([
      { form: 'draft-7', limit: 100, remaining: 50, resetS: 5, windowS: 60 },
    ]);
    expect(draft7[0]?.problems).toEqual([]);
  });

  it('reads the structured fields of draft 8 and later, taking the most restrictive policy', () => {
    const [reading] = readRateLimitHeaders(
      {
        ratelimit: '"burst";r=40;t=1, "daily";r=3;t=3000',
        'ratelimit-policy': '"burst";q=100;w=60, "daily";q=1000;w=86400;pk=:cHJvamVjdDEyMw==:',
      },
      NOW_MS,
    );
    expect(reading).toMatchObject({
      form: 'structured',
      limit: 1000,
      remaining: 3,
      resetS: 3000,
      windowS: 86400,
    });
    expect(reading?.problems).toEqual([]);
  });

  it('names values that are malformed or contradict each other', () => {
    const readings = readRateLimitHeaders(
      {
        'x-ratelimit-limit': '20',
        'x-ratelimit-remaining': '25',
        'ratelimit-limit': '20',
        'ratelimit-remaining': '3',
        'ratelimit-reset': 'soon',
      },
      NOW_MS,
    );
    const problems = readings.flatMap((r) => r.problems);
    expect(problems).toEqual([
      'X-RateLimit-*: remaining 25 exceeds the limit 20',
      'RateLimit-Reset "soon" is not an integer',
      'RateLimit-Limit/-Remaining/-Reset (draft 6) says remaining 3, X-RateLimit-* says 25',
    ]);
    expect(readRateLimitHeaders({ ratelimit: '"x";r=oops' }, NOW_MS)[0]?.problems).toEqual([
      'RateLimit r "oops" is not an integer',
    ]);
  });

  it('reads Retry-After as seconds or as an HTTP date, and names anything else', () => {
    expect(readRetryAfter({ 'retry-after': '57' }, NOW_MS)).toEqual({ seconds: 57 });
    const date = new Date(NOW_MS + 90_000).toUTCString();
    expect(readRetryAfter({ 'retry-after': date }, NOW_MS)).toEqual({ seconds: 90 });
    expect(readRetryAfter({ 'retry-after': '-3' }, NOW_MS)).toEqual({
      problem: 'Retry-After "-3" is neither seconds nor an HTTP date',
    });
    expect(readRetryAfter({}, NOW_MS)).toBeUndefined();
  });
});

/** A request of one key: `P` passed, `L` a 429, `E` a 500, `-` no answer; 100 ms apart. */
function samples(pattern: string, gapMs = 100): LimitSample[] {
  return [...pattern].map((mark, i) => {
    const startUs = 1_000_000 + i * gapMs * 1_000;
    const status = { P: 200, L: 429, E: 500, '-': 0 }[mark] ?? 200;
    return {
      flow: 'abuser',
      status,
      intendedUs: startUs,
      startUs,
      headersUs: startUs + 5_000,
      endUs: startUs + 10_000,
      firstContentUs: undefined,
      headers: {},
      key: '127.0.0.10',
      keyLabel: '127.0.0.10',
      identityIndex: 0,
      setupFailed: false,
    };
  });
}

const RULES = { limit: 5, windowMs: 2_000, tolerance: 0, edgeToleranceMs: 300 };

function summary(window: CountWindow | undefined) {
  if (window === undefined) throw new Error('no window');
  const {
    admitted,
    passed,
    limited,
    tripAt,
    firstLimitedInSendOrder,
    leaks,
    leakPositions,
    edgeAdmitted,
  } = window;
  return {
    admitted,
    passed,
    limited,
    tripAt,
    firstLimitedInSendOrder,
    leaks,
    leakPositions,
    edgeAdmitted,
  };
}

describe('counting windows', () => {
  it('puts the first 429 after the requests let through, with no leaks on a clean counter', () => {
    const [window] = countWindows(samples('PPPPPLLLL'), RULES);
    expect(summary(window)).toEqual({
      admitted: 5,
      passed: 5,
      limited: 4,
      tripAt: 6,
      firstLimitedInSendOrder: 6,
      leaks: 0,
      leakPositions: [],
      edgeAdmitted: 0,
    });
  });

  it('judges by counts, not send order, when requests reached the target out of order', () => {
    const [window] = countWindows(samples('PPPPLPLL'), RULES);
    expect(summary(window)).toMatchObject({ tripAt: 6, firstLimitedInSendOrder: 5, leaks: 0 });
  });

  it('counts every request let through past the limit as a leak, a 500 included', () => {
    const [window] = countWindows(samples('PPPPPPEPL'), RULES);
    expect(summary(window)).toMatchObject({
      admitted: 8,
      tripAt: 9,
      leaks: 3,
      leakPositions: [6, 7, 8],
    });
  });

  it('leaves requests without an answer out of the count', () => {
    const [window] = countWindows(samples('PP-PPPLL'), RULES);
    expect(summary(window)).toMatchObject({ admitted: 5, tripAt: 6, leaks: 0 });
  });

  it('does not count passes sent within the edge tolerance of the window end as leaks', () => {
    // 20 requests 100 ms apart: a 2 s window holds them all; the last three (1.7 s on) are
    // within 300 ms of its end.
    const [window] = countWindows(samples('PPPPPLLLLLLLLLLLLPPP'), RULES);
    expect(summary(window)).toMatchObject({ leaks: 0, edgeAdmitted: 3 });
  });

  it('opens a new window at the first request after the last one ended', () => {
    const windows = countWindows(samples('PPPPPLLLLLLLLLLLLLLLLLLLLPPPPPL'), RULES);
    expect(windows.map((w) => [w.samples.length, w.admitted, w.tripAt, w.leaks])).toEqual([
      [20, 5, 6, 0],
      [11, 5, 6, 0],
    ]);
  });
});
