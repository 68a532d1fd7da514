import { metricDefinition, type TrendUnit } from '../metrics/metric-catalog.ts';
import type { MetricStore } from '../metrics/metric-store.ts';
import { subMetricName, type Tags } from '../metrics/tags.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import {
  type MetricSummary,
  SUMMARY_SCHEMA_VERSION,
  type Summary,
  type Verification,
} from '../report/summary-schema.ts';
import type { Flow, Scenario } from '../scenario/schema.ts';
import type { ThresholdResult } from '../thresholds/evaluate.ts';
import type { FailureTally } from './flow-runtime.ts';
import type { GeneratorHealth } from './generator-monitor.ts';

export interface SummaryInput {
  scenario: Scenario;
  scenarioFile: string | undefined;
  target: string;
  startedAt: Date;
  durationMs: number;
  plannedMs: number;
  complete: boolean;
  stopReason: Summary['stopReason'];
  flows: readonly FlowOutcome[];
  store: MetricStore;
  series: TimeSeries;
  failures: FailureTally;
  thresholdResults: readonly ThresholdResult[];
  verifications: readonly Verification[];
  notes: readonly string[];
  faultWindows: Summary['faultWindows'];
  generator: GeneratorHealth;
  /** Processes that sent the load (1, or the worker count). */
  workers: number;
  toolVersion: string;
}

/** What one flow did, as plain data (merged across workers by adding). */
export interface FlowOutcome {
  flow: Flow;
  model: 'open' | 'closed';
  sent: number;
  checks: Array<{ name: string; passes: number; fails: number }>;
  /** What the flow's tag caps grouped, if anything. */
  notes?: readonly string[];
}

/** Whole-run histograms kept in the summary, for spectra and comparisons. */
const KEPT_HISTOGRAMS = ['latency', 'http_req_duration', 'chat_ttft', 'chat_ttft_send'] as const;

/** Turns a finished run's store and series into `summary.json`'s object. */
export function buildSummary(input: SummaryInput): Summary {
  const { scenario, store } = input;
  const flowNames = scenario.flows.map((flow) => flow.name);

  const metrics: Record<string, MetricSummary> = {};
  for (const name of store.names()) {
    addMetric(metrics, store, name, {});
    if (flowNames.length > 1) {
      for (const flow of flowNames) addMetric(metrics, store, name, { flow });
    }
  }
  for (const result of input.thresholdResults) {
    addMetric(metrics, store, result.metricName, result.tags);
  }

  const statusCodes: Record<string, number> = {};
  for (const tags of store.tagSets('http_reqs')) {
    const status = tags.status ?? '0';
    if (statusCodes[status] !== undefined) continue;
    statusCodes[status] = store.counter('http_reqs', { status })?.count ?? 0;
  }

  const histograms: Record<string, string> = {};
  for (const name of KEPT_HISTOGRAMS) {
    const histogram = store.mergedHistogram(name, {});
    if (histogram !== undefined && histogram.count > 0) histograms[name] = histogram.encode();
  }

  const verdict =
    input.thresholdResults.every((result) => result.ok) &&
    input.verifications.every((verification) => verification.ok)
      ? 'pass'
      : 'fail';

  const notes = [...input.notes, ...new Set(input.flows.flatMap((flow) => flow.notes ?? []))];
  if (!input.complete) {
    notes.push(
      `the run stopped early (${input.stopReason}): figures cover ${Math.round(input.durationMs)} ms`,
    );
  }
  if (input.generator.saturated) {
    notes.push(`figures may be unreliable: ${input.generator.reasons.join('; ')}`);
  }

  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    tool: { name: 'launchproof', version: input.toolVersion },
    scenario: scenario.name,
    ...(scenario.description ? { description: scenario.description } : {}),
    ...(input.scenarioFile ? { scenarioFile: input.scenarioFile } : {}),
    target: redactUrl(input.target),
    seed: scenario.seed,
    startedAt: input.startedAt.toISOString(),
    endedAt: new Date(input.startedAt.getTime() + input.durationMs).toISOString(),
    durationMs: round(input.durationMs),
    plannedDurationMs: round(input.plannedMs),
    complete: input.complete,
    stopReason: input.stopReason,
    verdict,
    flows: input.flows.map(({ flow, model, sent }) => ({
      name: flow.name,
      executor: flow.load.executor,
      model,
      planned: store.counter('iterations', { flow: flow.name })?.count ?? 0,
      sent,
      dropped: store.counter('dropped_iterations', { flow: flow.name })?.count ?? 0,
      identities: flow.identities.count,
      tags: flow.tags,
      ...(flow.stream
        ? { stream: typeof flow.stream.format === 'string' ? flow.stream.format : 'custom' }
        : {}),
    })),
    metrics,
    statusCodes,
    checks: input.flows.flatMap(({ flow, checks }) =>
      checks.map((check) => ({ flow: flow.name, ...check })),
    ),
    failures: [...input.failures.byKind].map(([kind, entry]) => ({
      kind,
      count: entry.count,
      message: entry.message,
      flows: [...entry.flows],
    })),
    thresholds: input.thresholdResults.map((result) => ({
      metric: result.metric,
      expression: result.expression,
      observed: result.observed === null ? null : round(result.observed, 6),
      ok: result.ok,
      abortOnFail: result.abortOnFail,
      ...(result.note ? { note: result.note } : {}),
    })),
    verifications: [...input.verifications],
    generator: {
      ...input.generator,
      plannedRatePerSec: round(input.generator.plannedRatePerSec),
      achievedRatePerSec: round(input.generator.achievedRatePerSec),
      cpuPercent: round(input.generator.cpuPercent),
      workers: input.workers,
    },
    notes,
    faultWindows: input.faultWindows,
    series: input.series.rows,
    histograms,
  };
}

function addMetric(
  out: Record<string, MetricSummary>,
  store: MetricStore,
  name: string,
  tags: Tags,
): void {
  const key = subMetricName(name, tags);
  if (out[key] !== undefined) return;
  const summary = summarizeMetric(store, name, tags);
  if (summary !== undefined) out[key] = summary;
}

function summarizeMetric(store: MetricStore, name: string, tags: Tags): MetricSummary | undefined {
  switch (store.kindOf(name)) {
    case 'trend': {
      const stats = store.trend(name, tags);
      if (stats === undefined) return undefined;
      const unit: TrendUnit = metricDefinition(name)?.unit ?? 'ms';
      // A percentile is the top of its HDR bucket, which can sit a hair above the true max.
      const at = (p: number) => round(Math.min(stats.percentile(p), stats.max));
      return {
        kind: 'trend',
        unit,
        count: stats.count,
        min: round(stats.min),
        mean: round(stats.mean),
        p50: at(50),
        p90: at(90),
        p95: at(95),
        p99: at(99),
        'p99.9': at(99.9),
        max: round(stats.max),
      };
    }
    case 'counter': {
      const counter = store.counter(name, tags);
      if (counter === undefined) return undefined;
      // Six decimals: a counter of dollars (provider_cost_usd) is often below a tenth of a cent.
      return {
        kind: 'counter',
        count: round(counter.count, 6),
        ratePerSec: round(counter.ratePerSec, 6),
      };
    }
    case 'rate': {
      const rate = store.rate(name, tags);
      if (rate === undefined) return undefined;
      return {
        kind: 'rate',
        rate: rate.total === 0 ? 0 : round(rate.passes / rate.total, 6),
        passes: rate.passes,
        fails: rate.total - rate.passes,
      };
    }
    case 'gauge': {
      const gauge = store.gauge(name, tags);
      return gauge === undefined ? undefined : { kind: 'gauge', value: gauge.value };
    }
    default:
      return undefined;
  }
}

/** Keeps three decimals (microsecond resolution for milliseconds). */
function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Drops user info and query secrets from a URL before it is written anywhere. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
