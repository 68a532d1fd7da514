import { describe, expect, it } from 'vitest';
import { LaunchproofError } from '../../src/errors.ts';
import {
  evaluateThresholds,
  formatThresholdResult,
  shouldAbort,
  type ThresholdResult,
  validateThresholdMetrics,
} from '../../src/thresholds/evaluate.ts';
import type { MetricKind, MetricSource, TrendStats } from '../../src/thresholds/metric-source.ts';
import { type ParsedThreshold, parseThresholds } from '../../src/thresholds/parse.ts';

type Tags = Readonly<Record<string, string>>;

/** A trend whose percentiles are a fixed table; asking for one not in it is a test bug. */
function trend(
  count: number,
  min: number,
  max: number,
  mean: number,
  percentiles: Record<number, number>,
): TrendStats {
  return {
    count,
    min,
    max,
    mean,
    percentile(p) {
      const value = percentiles[p];
      if (value === undefined) throw new Error(`percentile(${p}) is not in the fixture`);
      return value;
    },
  };
}

interface Figures {
  trend?: TrendStats;
  counter?: { count: number; ratePerSec: number };
  rate?: { passes: number; total: number };
  gauge?: { value: number };
}

/**
 * A metric store with fixed golden figures, keyed by name and exact tag set (the real store
 * matches tag subsets; that is its job). Records every read, so tests can see what was asked.
 */
class FixedSource implements MetricSource {
  readonly reads: string[] = [];

  constructor(
    private readonly kinds: Record<string, MetricKind>,
    private readonly figures: Record<string, Figures>,
  ) {}

  kindOf(name: string): MetricKind | undefined {
    return this.kinds[name];
  }

  trend(name: string, tags: Tags) {
    return this.read('trend', name, tags)?.trend;
  }

  counter(name: string, tags: Tags) {
    return this.read('counter', name, tags)?.counter;
  }

  rate(name: string, tags: Tags) {
    return this.read('rate', name, tags)?.rate;
  }

  gauge(name: string, tags: Tags) {
    return this.read('gauge', name, tags)?.gauge;
  }

  private read(method: string, name: string, tags: Tags): Figures | undefined {
    const key = seriesKey(name, tags);
    this.reads.push(`${method} ${key}`);
    return this.figures[key];
  }
}

function seriesKey(name: string, tags: Tags): string {
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? name : `${name}{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`;
}

const KINDS: Record<string, MetricKind> = {
  latency: 'trend',
  chat_ttft: 'trend',
  chat_itl: 'trend',
  http_reqs: 'counter',
  dropped_iterations: 'counter',
  http_req_failed: 'rate',
  ratelimited: 'rate',
  fallback: 'rate',
  vus: 'gauge',
  vus_max: 'gauge',
};

// Golden figures. chat_ttft, dropped_iterations, ratelimited and vus_max have no samples;
// chat_itl and fallback report empty stats.
const FIGURES: Record<string, Figures> = {
  latency: {
    trend: trend(1_000, 12, 980, 250.5, { 50: 200, 90: 400, 95: 431.2, 99: 480, 99.9: 499 }),
  },
  'latency{route:chat}': { trend: trend(400, 40, 1_200, 610, { 50: 580, 95: 1_100 }) },
  'latency{route:chat,status:200}': { trend: trend(380, 40, 900, 590, { 95: 870 }) },
  chat_itl: { trend: trend(0, 0, 0, 0, {}) },
  // ratePerSec is the store's own figure over its own clock; thresholds divide by elapsedMs.
  http_reqs: { counter: { count: 120, ratePerSec: 1.9 } },
  'http_reqs{status:429}': { counter: { count: 30, ratePerSec: 0.5 } },
  http_req_failed: { rate: { passes: 3, total: 200 } },
  fallback: { rate: { passes: 0, total: 0 } },
  vus: { gauge: { value: 25 } },
};

const ELAPSED_MS = 60_000;

function evaluate(thresholds: Record<string, unknown[]>, elapsedMs = ELAPSED_MS) {
  const source = new FixedSource(KINDS, FIGURES);
  return evaluateThresholds(parseThresholds(thresholds), source, elapsedMs);
}

/** Evaluates one expression on one metric and returns [observed, ok]. */
function single(metric: string, expression: string, elapsedMs = ELAPSED_MS) {
  const [result] = evaluate({ [metric]: [expression] }, elapsedMs);
  expect(result).toBeDefined();
  return [result?.observed, result?.ok];
}

function thrown(run: () => unknown): LaunchproofError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LaunchproofError);
    return error as LaunchproofError;
  }
  throw new Error('expected a LaunchproofError, but nothing was thrown');
}

describe('evaluateThresholds: aggregations', () => {
  it.each([
    ['avg<251', 250.5],
    ['min<251', 12],
    ['max<251', 980],
    ['med<251', 200],
    ['p(50)<251', 200],
    ['p(90)<251', 400],
    ['p(95)<251', 431.2],
    ['p(99)<251', 480],
    ['p(99.9)<251', 499],
  ])('reads %j on a trend as %d', (expression, observed) => {
    expect(single('latency', expression)[0]).toBe(observed);
  });

  it('reads count on a counter as the sum of its values', () => {
    expect(single('http_reqs', 'count>=120')).toEqual([120, true]);
  });

  it('reads rate on a counter per second over the elapsed time it is given', () => {
    expect(single('http_reqs', 'rate==2')).toEqual([2, true]);
    expect(single('http_reqs', 'rate==4', 30_000)).toEqual([4, true]);
  });

  it('reads rate on a rate metric as passes over total', () => {
    expect(single('http_req_failed', 'rate<0.01')).toEqual([0.015, false]);
    expect(single('http_req_failed', 'rate<0.02')).toEqual([0.015, true]);
  });

  it('reads value on a gauge', () => {
    expect(single('vus', 'value<=25')).toEqual([25, true]);
    expect(single('vus', 'value<25')).toEqual([25, false]);
  });
});

describe('evaluateThresholds: operators at the boundary', () => {
  // latency p(95) is 431.2 in the fixture.
  it.each([
    ['p(95)<431.3', true],
    ['p(95)<431.2', false],
    ['p(95)<=431.2', true],
    ['p(95)<=431.1', false],
    ['p(95)>431.1', true],
    ['p(95)>431.2', false],
    ['p(95)>=431.2', true],
    ['p(95)>=431.3', false],
    ['p(95)==431.2', true],
    ['p(95)==431', false],
    ['p(95)===431.2', true],
    ['p(95)!=431', true],
    ['p(95)!=431.2', false],
    ['p(95) > -1', true],
  ])('judges %j as ok=%s', (expression, ok) => {
    expect(single('latency', expression)).toEqual([431.2, ok]);
  });
});

describe('evaluateThresholds: sub-metrics', () => {
  it('reads each sub-metric with its own tags, apart from the parent', () => {
    const results = evaluate({
      latency: ['p(95)<500'],
      'latency{route:chat}': ['p(95)<500'],
      'latency{ route : chat , status:"200" }': ['p(95)<1000'],
      'http_reqs{status:429}': ['count<10'],
    });
    expect(results.map((r) => [r.metric, r.observed, r.ok])).toEqual([
      ['latency', 431.2, true],
      ['latency{route:chat}', 1_100, false],
      ['latency{route:chat,status:200}', 870, true],
      ['http_reqs{status:429}', 30, false],
    ]);
  });

  it('hands the store the metric name and the tags, never the key', () => {
    const source = new FixedSource(KINDS, FIGURES);
    evaluateThresholds(parseThresholds({ 'latency{route:chat}': ['avg<1'] }), source, ELAPSED_MS);
    expect(source.reads).toEqual(['trend latency{route:chat}']);
  });
});

describe('evaluateThresholds: no samples', () => {
  it('fails a trend with no samples instead of passing on no evidence', () => {
    const [result] = evaluate({ chat_ttft: ['p(95)<500'] });
    expect(result).toMatchObject({ observed: null, ok: false, note: 'no samples' });
  });

  it('fails a trend whose stats count no samples', () => {
    const [result] = evaluate({ chat_itl: ['max>=0'] });
    expect(result).toMatchObject({ observed: null, ok: false, note: 'no samples' });
  });

  it('fails a rate with no samples, and one with a total of 0', () => {
    const results = evaluate({ ratelimited: ['rate<0.5'], fallback: ['rate==0'] });
    for (const result of results) {
      expect(result).toMatchObject({ observed: null, ok: false, note: 'no samples' });
    }
  });

  it('fails a gauge with no samples', () => {
    const [result] = evaluate({ vus_max: ['value>=0'] });
    expect(result).toMatchObject({ observed: null, ok: false, note: 'no samples' });
  });

  it('counts a counter with no samples as 0, as k6 does', () => {
    const results = evaluate({ dropped_iterations: ['count==0', 'rate<1', 'count>0'] });
    expect(results.map((r) => [r.observed, r.ok, r.note])).toEqual([
      [0, true, undefined],
      [0, true, undefined],
      [0, false, undefined],
    ]);
  });

  it('cannot read a per-second rate when no time has elapsed', () => {
    const [result] = evaluate({ http_reqs: ['rate<100'] }, 0);
    expect(result).toMatchObject({ observed: null, ok: false, note: 'no time elapsed' });
  });
});

describe('evaluateThresholds: invalid thresholds for the metric', () => {
  it.each([
    [
      'http_reqs',
      'p(95)<500',
      'p(95) does not apply to http_reqs, a counter metric, which supports count and rate',
    ],
    [
      'latency',
      'value<500',
      'value does not apply to latency, a trend metric, which supports avg, min, max, med and p(N)',
    ],
    [
      'latency',
      'count<500',
      'count does not apply to latency, a trend metric, which supports avg, min, max, med and p(N)',
    ],
    [
      'http_req_failed',
      'count<5',
      'count does not apply to http_req_failed, a rate metric, which supports rate',
    ],
    [
      'http_req_failed',
      'avg<5',
      'avg does not apply to http_req_failed, a rate metric, which supports rate',
    ],
    ['vus', 'rate<5', 'rate does not apply to vus, a gauge metric, which supports value'],
    ['vus', 'max<5', 'max does not apply to vus, a gauge metric, which supports value'],
  ])(
    'refuses %s %j, naming the metric, its kind and what it supports',
    (metric, expression, why) => {
      const error = thrown(() => evaluate({ [metric]: [expression] }));
      expect(error.code).toBe('LP_ERR_THRESHOLD_INVALID');
      expect(error.message).toBe(
        `thresholds["${metric}"]: invalid threshold "${expression}": ${why}`,
      );
    },
  );

  it('refuses an unknown metric, listing the known ones when given', () => {
    const parsed = parseThresholds({ 'latncy{route:chat}': ['p(95)<500'] });
    const source = new FixedSource(KINDS, FIGURES);
    const error = thrown(() =>
      evaluateThresholds(parsed, source, ELAPSED_MS, ['latency', 'http_reqs', 'chat_ttft']),
    );
    expect(error.message).toBe(
      'thresholds["latncy{route:chat}"]: invalid threshold "p(95)<500": unknown metric "latncy", ' +
        'expected one of chat_ttft, http_reqs, latency',
    );
  });

  it('refuses an unknown metric without a list when none is given', () => {
    const error = thrown(() => evaluate({ latncy: ['p(95)<500'] }));
    expect(error.message).toBe(
      'thresholds["latncy"]: invalid threshold "p(95)<500": unknown metric "latncy", ' +
        'expected a metric this run records',
    );
  });

  it('collects every problem and reads no figure before refusing', () => {
    const source = new FixedSource(KINDS, FIGURES);
    const parsed = parseThresholds({
      latency: ['p(95)<500'],
      http_reqs: ['p(95)<500'],
      nope: ['avg<1'],
      vus: ['value<1', 'rate<1'],
    });
    const error = thrown(() => evaluateThresholds(parsed, source, ELAPSED_MS));
    expect(error.details).toHaveLength(3);
    expect(error.message).toBe(`${error.details[0]} (and 2 more)`);
    expect(source.reads).toEqual([]);
  });

  it('validates without a source, from a kind lookup alone', () => {
    const parsed = parseThresholds({ http_reqs: ['count>0'], latency: ['rate<1'] });
    const kindOf = (name: string) => KINDS[name];
    expect(() => validateThresholdMetrics(parsed.slice(0, 1), kindOf)).not.toThrow();
    expect(() => validateThresholdMetrics(parsed, kindOf)).toThrow(
      'rate does not apply to latency, a trend metric',
    );
  });
});

describe('shouldAbort', () => {
  function results(
    thresholds: Record<string, unknown[]>,
    elapsedMs = ELAPSED_MS,
  ): ThresholdResult[] {
    return evaluate(thresholds, elapsedMs);
  }

  it('stops on a failed threshold with abortOnFail', () => {
    const evaluated = results({
      latency: ['p(95)<500', { threshold: 'p(99)<450', abortOnFail: true }],
    });
    expect(shouldAbort(evaluated, ELAPSED_MS)?.expression).toBe('p(99)<450');
  });

  it('does not stop on a failed threshold without abortOnFail', () => {
    const evaluated = results({ latency: ['p(99)<450', { threshold: 'p(99)<450' }] });
    expect(evaluated.every((r) => !r.ok)).toBe(true);
    expect(shouldAbort(evaluated, ELAPSED_MS)).toBeUndefined();
  });

  it('does not stop on a passing threshold with abortOnFail', () => {
    const evaluated = results({ latency: [{ threshold: 'p(99)<500', abortOnFail: true }] });
    expect(shouldAbort(evaluated, ELAPSED_MS)).toBeUndefined();
  });

  it('waits until the run is strictly past delayAbortEval', () => {
    const evaluated = results({
      latency: [{ threshold: 'p(99)<450', abortOnFail: true, delayAbortEval: '10s' }],
    });
    expect(shouldAbort(evaluated, 9_999)).toBeUndefined();
    expect(shouldAbort(evaluated, 10_000)).toBeUndefined();
    expect(shouldAbort(evaluated, 10_001)?.expression).toBe('p(99)<450');
  });

  it('never stops on a threshold that saw no samples yet', () => {
    const evaluated = results({
      chat_ttft: [{ threshold: 'p(95)<500', abortOnFail: true }],
    });
    expect(evaluated[0]?.ok).toBe(false);
    expect(shouldAbort(evaluated, ELAPSED_MS)).toBeUndefined();
  });

  it('returns the first threshold, in the order written, that should stop the run', () => {
    const evaluated = results({
      http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true }],
      latency: [{ threshold: 'max<500', abortOnFail: true }],
    });
    expect(shouldAbort(evaluated, ELAPSED_MS)?.metric).toBe('http_req_failed');
  });
});

describe('formatThresholdResult', () => {
  it.each([
    ['latency', 'p(95)<500', 'latency p(95)<500: 431.2 ok'],
    ['latency', 'p(95) < 400', 'latency p(95) < 400: 431.2 failed'],
    ['latency{ route : chat }', 'avg<1000', 'latency{route:chat} avg<1000: 610 ok'],
    ['http_req_failed', 'rate<0.01', 'http_req_failed rate<0.01: 0.015 failed'],
    ['http_reqs', 'rate>1', 'http_reqs rate>1: 2 ok'],
    ['chat_ttft', 'p(95)<500', 'chat_ttft p(95)<500: n/a failed (no samples)'],
  ])('renders %s %j as one line', (metric, expression, line) => {
    const [result] = evaluate({ [metric]: [expression] });
    expect(formatThresholdResult(result as ThresholdResult)).toBe(line);
  });

  it.each([
    [1234.5678, 'latency avg<1: 1234.6 failed'],
    [12.3456, 'latency avg<1: 12.35 failed'],
    [0.000123456, 'latency avg<1: 0.000123 ok'],
    [42, 'latency avg<1: 42 failed'],
  ])('rounds %d for reading', (observed, line) => {
    const [parsed] = parseThresholds({ latency: ['avg<1'] }) as [ParsedThreshold];
    const result = { ...parsed, observed, ok: observed < 1 };
    expect(formatThresholdResult(result)).toBe(line);
  });
});

describe('a launch-ready threshold set, end to end', () => {
  it('parses, evaluates and renders every line', () => {
    const results = evaluate({
      latency: ['p(95)<500', { threshold: 'p(99)<1000', abortOnFail: true, delayAbortEval: '30s' }],
      'latency{route:chat}': ['med<600'],
      http_req_failed: ['rate<0.01'],
      http_reqs: ['count>100'],
      chat_ttft: ['p(95)<800'],
    });
    expect(results.map(formatThresholdResult)).toEqual([
      'latency p(95)<500: 431.2 ok',
      'latency p(99)<1000: 480 ok',
      'latency{route:chat} med<600: 580 ok',
      'http_req_failed rate<0.01: 0.015 failed',
      'http_reqs count>100: 120 ok',
      'chat_ttft p(95)<800: n/a failed (no samples)',
    ]);
    expect(shouldAbort(results, ELAPSED_MS)).toBeUndefined();
  });
});
