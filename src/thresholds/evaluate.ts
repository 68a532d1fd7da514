import { LaunchproofError } from '../errors.ts';
import type { MetricKind, MetricSource } from './metric-source.ts';
import type { ParsedThreshold, ThresholdAggregation } from './parse.ts';

/** A threshold with what the run showed: `observed` is null when there was nothing to read. */
export type ThresholdResult = ParsedThreshold & {
  observed: number | null;
  ok: boolean;
  /** Why `observed` is null (`'no samples'`), when it is. */
  note?: string;
};

type AggregationKind = ThresholdAggregation['kind'];

/** The aggregations each kind supports, as k6's `supportedAggregationMethods`. */
const SUPPORTED: Record<MetricKind, readonly AggregationKind[]> = {
  trend: ['avg', 'min', 'max', 'med', 'percentile'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value'],
};

const SUPPORTED_TEXT: Record<MetricKind, string> = {
  trend: 'avg, min, max, med and p(N)',
  counter: 'count and rate',
  rate: 'rate',
  gauge: 'value',
};

const NO_SAMPLES = 'no samples';

/**
 * Checks, before a run spends any load, that every threshold names a metric the run knows
 * and uses an aggregation its kind supports (as k6 validates thresholds at start). Collects
 * every problem, then throws LP_ERR_THRESHOLD_INVALID naming the metric, its kind and what
 * it supports. `knownMetrics`, when given, is listed in the message for an unknown name.
 */
export function validateThresholdMetrics(
  parsed: readonly ParsedThreshold[],
  kindOf: (name: string) => MetricKind | undefined,
  knownMetrics?: readonly string[],
): void {
  const problems: string[] = [];

  for (const threshold of parsed) {
    const place = `thresholds[${JSON.stringify(threshold.metric)}]`;
    const where = `${place}: invalid threshold "${threshold.expression}"`;
    const kind = kindOf(threshold.metricName);
    if (kind === undefined) {
      const expected =
        knownMetrics === undefined || knownMetrics.length === 0
          ? 'expected a metric this run records'
          : `expected one of ${[...knownMetrics].sort().join(', ')}`;
      problems.push(`${where}: unknown metric "${threshold.metricName}", ${expected}`);
    } else if (!SUPPORTED[kind].includes(threshold.aggregation.kind)) {
      problems.push(
        `${where}: ${aggregationText(threshold.aggregation)} does not apply to ` +
          `${threshold.metricName}, a ${kind} metric, which supports ${SUPPORTED_TEXT[kind]}`,
      );
    }
  }

  if (problems.length === 0) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new LaunchproofError('LP_ERR_THRESHOLD_INVALID', `${problems[0]}${more}`, {
    details: problems,
  });
}

/**
 * Evaluates thresholds against a run's metrics at `elapsedMs` into the run, as k6 does:
 * 1. Validate every threshold's metric and aggregation (see `validateThresholdMetrics`).
 * 2. Read the figure: a trend's avg (mean), min, max, med (= p(50)) or p(N); a counter's
 *    count, or its rate per second, count / (elapsedMs / 1000), over the time given here
 *    exactly as k6 divides by the run time it evaluates at (the store's `ratePerSec` is
 *    not read, so a mid-run check sees the rate so far); a rate metric's passes / total;
 *    a gauge's value.
 * 3. Compare it with the limit.
 *
 * No evidence, no pass: k6 passes a trend with no samples (it reads as 0) and skips a rate
 * with none, but a threshold that saw nothing has shown nothing, so here a trend, rate or
 * gauge with no samples is `ok: false, observed: null, note: 'no samples'`. A counter with
 * no samples is a real 0 ("no request was dropped") and counts as such.
 */
export function evaluateThresholds(
  parsed: readonly ParsedThreshold[],
  source: MetricSource,
  elapsedMs: number,
  knownMetrics?: readonly string[],
): ThresholdResult[] {
  validateThresholdMetrics(parsed, (name) => source.kindOf(name), knownMetrics);

  return parsed.map((threshold) => {
    const reading = observe(threshold, source, elapsedMs);
    if (reading.observed === null) {
      return { ...threshold, observed: null, ok: false, note: reading.note };
    }
    return { ...threshold, observed: reading.observed, ok: compare(threshold, reading.observed) };
  });
}

/**
 * The threshold that should stop the run now, if any, as k6's `abortOnFail`: the first
 * failed result with `abortOnFail` once `elapsedMs` is past its `delayAbortEvalMs` (strictly
 * past, as k6 compares). A result with nothing observed never aborts, since k6 does not
 * evaluate a metric without samples during the run.
 */
export function shouldAbort(
  results: readonly ThresholdResult[],
  elapsedMs: number,
): ThresholdResult | undefined {
  return results.find(
    (result) =>
      result.abortOnFail &&
      !result.ok &&
      result.observed !== null &&
      elapsedMs > result.delayAbortEvalMs,
  );
}

/** One human line: `latency p(95)<500: 431.2 ok`, `latency p(95)<500: n/a failed (no samples)`. */
export function formatThresholdResult(result: ThresholdResult): string {
  const observed = result.observed === null ? 'n/a' : formatNumber(result.observed);
  const note = result.note === undefined ? '' : ` (${result.note})`;
  return `${result.metric} ${result.expression}: ${observed} ${result.ok ? 'ok' : 'failed'}${note}`;
}

function observe(
  threshold: ParsedThreshold,
  source: MetricSource,
  elapsedMs: number,
): { observed: number } | { observed: null; note: string } {
  const { metricName: name, tags, aggregation } = threshold;

  switch (aggregation.kind) {
    case 'avg':
    case 'min':
    case 'max':
    case 'med':
    case 'percentile': {
      const stats = source.trend(name, tags);
      if (stats === undefined || stats.count === 0) return { observed: null, note: NO_SAMPLES };
      if (aggregation.kind === 'percentile') return { observed: stats.percentile(aggregation.p) };
      if (aggregation.kind === 'med') return { observed: stats.percentile(50) };
      if (aggregation.kind === 'avg') return { observed: stats.mean };
      return { observed: aggregation.kind === 'min' ? stats.min : stats.max };
    }
    case 'count':
      return { observed: source.counter(name, tags)?.count ?? 0 };
    case 'rate': {
      if (source.kindOf(name) === 'counter') {
        if (!(elapsedMs > 0)) return { observed: null, note: 'no time elapsed' };
        const count = source.counter(name, tags)?.count ?? 0;
        return { observed: count / (elapsedMs / 1_000) };
      }
      const rate = source.rate(name, tags);
      if (rate === undefined || rate.total === 0) return { observed: null, note: NO_SAMPLES };
      return { observed: rate.passes / rate.total };
    }
    case 'value': {
      const gauge = source.gauge(name, tags);
      if (gauge === undefined) return { observed: null, note: NO_SAMPLES };
      return { observed: gauge.value };
    }
  }
}

function compare(threshold: ParsedThreshold, observed: number): boolean {
  const { limit } = threshold;
  switch (threshold.operator) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
      return observed === limit;
    case '!=':
      return observed !== limit;
  }
}

function aggregationText(aggregation: ThresholdAggregation): string {
  return aggregation.kind === 'percentile' ? `p(${aggregation.p})` : aggregation.kind;
}

/** Whole numbers as they are; otherwise about four significant figures, trailing zeros cut. */
function formatNumber(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return String(Number(value.toFixed(1)));
  if (magnitude >= 1) return String(Number(value.toFixed(2)));
  return String(Number(value.toPrecision(3)));
}
