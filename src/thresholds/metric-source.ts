/** The four metric types of k6, which decide the aggregations a threshold may use. */
export type MetricKind = 'trend' | 'counter' | 'rate' | 'gauge';

/** Values are in the metric's unit: milliseconds for timings, raw numbers otherwise. */
export interface TrendStats {
  /** Samples recorded; 0 counts as no samples. */
  count: number;
  min: number;
  max: number;
  mean: number;
  /** The p-th percentile with p in percent, 0 to 100: `percentile(95)` for `p(95)`. */
  percentile(p: number): number;
}

/**
 * What thresholds read from a run's metrics. The engine's metric store implements it.
 * Tag matching is the store's job: for a sub-metric, each method is given the tags of
 * `name{tag:value,...}` and answers for the samples whose tags include all of them; for a
 * plain metric the tags are empty and every sample of the metric counts.
 */
export interface MetricSource {
  /**
   * The kind of every metric the run declares, whether or not it has samples yet;
   * undefined only for a name the run does not know (a threshold on it is an error).
   */
  kindOf(name: string): MetricKind | undefined;
  /** undefined when no sample matched the tags */
  trend(name: string, tags: Readonly<Record<string, string>>): TrendStats | undefined;
  /** count is the sum of added values (k6's counter); ratePerSec = count / elapsed seconds */
  counter(
    name: string,
    tags: Readonly<Record<string, string>>,
  ): { count: number; ratePerSec: number } | undefined;
  /** passes: samples that were true (non-zero); total: all samples */
  rate(
    name: string,
    tags: Readonly<Record<string, string>>,
  ): { passes: number; total: number } | undefined;
  /** value: the last value set */
  gauge(name: string, tags: Readonly<Record<string, string>>): { value: number } | undefined;
}
