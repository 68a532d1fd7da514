import type { MetricSummary, Summary, ThresholdOutcome } from './summary-schema.ts';

/**
 * Number formatting shared by the reporters. Fixed English formatting, never the machine's
 * locale, so snapshots and reports read the same everywhere.
 */
const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators: `12,345`. */
export function formatCount(value: number): string {
  return GROUPED.format(value);
}

/** Milliseconds with two decimals: `612.40 ms`. */
export function formatMs(valueMs: number): string {
  return `${formatFixed(valueMs, 2)} ms`;
}

/** A 0–1 rate as a percentage with two decimals: `1.25%`. */
export function formatRate(rate: number): string {
  return `${formatFixed(rate * 100, 2)}%`;
}

/** A number with `digits` decimals and thousands separators. */
export function formatFixed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return String(value);
  return new Intl.NumberFormat('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** A value in a trend's unit: `612.40 ms`, `151.0 tokens`, `42.3 tokens/s`. */
export function formatTrendValue(value: number, unit: string): string {
  if (unit === 'ms') return formatMs(value);
  return `${formatFixed(value, 1)} ${unit}`;
}

/** Seconds, from milliseconds: `60.0 s`. */
export function formatSeconds(durationMs: number): string {
  return `${formatFixed(durationMs / 1_000, 1)} s`;
}

const AGGREGATION = /^\s*(avg|min|max|med|p\(\s*[\d.]+\s*\)|count|rate|value)/;

/**
 * A threshold's observed value in the unit its aggregation reads: a timing in ms, a rate as a
 * percentage, a counter's `rate` per second, a count as a count. `no samples` when null.
 */
export function formatObserved(summary: Summary, outcome: ThresholdOutcome): string {
  if (outcome.observed === null) return 'no samples';
  const aggregation = AGGREGATION.exec(outcome.expression)?.[1] ?? '';
  const metric = findMetric(summary, outcome.metric);
  return formatAggregate(outcome.observed, aggregation, metric);
}

function formatAggregate(
  value: number,
  aggregation: string,
  metric: MetricSummary | undefined,
): string {
  if (metric?.kind === 'trend') return formatTrendValue(value, metric.unit);
  if (metric?.kind === 'rate') return formatRate(value);
  if (metric?.kind === 'counter' && aggregation === 'rate') return `${formatFixed(value, 2)}/s`;
  if (metric?.kind === 'counter') return formatCount(value);
  return formatFixed(value, Number.isInteger(value) ? 0 : 4);
}

/** The summary of a metric or sub-metric by its key (`latency`, `latency{flow:visitors}`). */
export function findMetric(summary: Summary, key: string): MetricSummary | undefined {
  return Object.hasOwn(summary.metrics, key) ? summary.metrics[key] : undefined;
}
