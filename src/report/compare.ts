import { LaunchproofError } from '../errors.ts';
import { escapeMarkdownCell } from './escape.ts';
import { formatCount, formatFixed } from './format.ts';
import type { MetricSummary, Summary } from './summary-schema.ts';

/** When a change between two runs counts as a regression. */
export interface RegressionRules {
  /** How much a timing's p95 or p99 may grow, in percent of the baseline, before it regresses. */
  maxIncreasePercent: number;
  /** How much `http_req_failed` may rise, in percentage points, before it regresses. */
  maxErrorRateIncreasePoints: number;
}

export const DEFAULT_REGRESSION_RULES: RegressionRules = {
  maxIncreasePercent: 10,
  maxErrorRateIncreasePoints: 0.5,
};

/** One statistic of one metric (or sub-metric) in both runs. */
export interface MetricChange {
  metric: string;
  /** `p95`, `rate`, `count`…: the statistic compared. */
  stat: string;
  unit: 'ms' | 'tokens' | 'tokens/s' | 'rate' | 'count' | '/s' | 'value';
  /** null when the metric is absent from that run. */
  baseline: number | null;
  current: number | null;
  /** current − baseline (for rates, in percentage points); null when either is absent. */
  delta: number | null;
  /** delta in percent of the baseline; null when absent or the baseline is 0. */
  percent: number | null;
  regression: boolean;
}

/** A threshold or verification in both runs: true passed, false failed, null not run. */
export interface OutcomeChange {
  kind: 'threshold' | 'verification';
  name: string;
  baseline: boolean | null;
  current: boolean | null;
  regression: boolean;
}

export interface RunLabel {
  scenario: string;
  startedAt: string;
  target: string;
  verdict: Summary['verdict'];
}

/** Everything `launchproof compare` reports. */
export interface Comparison {
  baseline: RunLabel;
  current: RunLabel;
  rules: RegressionRules;
  metrics: MetricChange[];
  outcomes: OutcomeChange[];
  /** One sentence per regression, in table order. */
  regressions: string[];
  /** Reasons to read the figures with care (saturation, incomplete runs, other targets). */
  warnings: string[];
}

const TREND_STATS = ['p50', 'p95', 'p99', 'max'] as const;
const RULED_STATS: ReadonlySet<string> = new Set(['p95', 'p99']);

/**
 * Compares a run against a baseline of the same scenario, metric by metric and sub-metric by
 * sub-metric. Regressions, by default:
 *
 * 1. a timing (a trend in ms) whose p95 or p99 grew by more than `maxIncreasePercent`;
 * 2. `http_req_failed` (or any of its sub-metrics) up by more than
 *    `maxErrorRateIncreasePoints` percentage points;
 * 3. a threshold or verification that passed in the baseline and fails now.
 *
 * Different scenarios are LP_ERR_COMPARE: their metrics do not measure the same thing.
 */
export function compareSummaries(
  baseline: Summary,
  current: Summary,
  rules: RegressionRules = DEFAULT_REGRESSION_RULES,
): Comparison {
  if (baseline.scenario !== current.scenario) {
    throw new LaunchproofError(
      'LP_ERR_COMPARE',
      `cannot compare runs of different scenarios: the baseline ran "${baseline.scenario}", ` +
        `the run "${current.scenario}"`,
      { hint: 'compare two runs of the same scenario (for example before and after a change)' },
    );
  }

  const names = [...new Set([...Object.keys(baseline.metrics), ...Object.keys(current.metrics)])];
  names.sort(compareMetricNames);
  const metrics = names.flatMap((name) =>
    metricChanges(name, lookup(baseline, name), lookup(current, name), rules),
  );
  const outcomes = outcomeChanges(baseline, current);

  const regressions = [
    ...metrics.filter((m) => m.regression).map(describeMetricRegression),
    ...outcomes
      .filter((o) => o.regression)
      .map((o) => `${o.kind} ${o.name} passed in the baseline and fails now`),
  ];
  return {
    baseline: label(baseline),
    current: label(current),
    rules,
    metrics,
    outcomes,
    regressions,
    warnings: warnings(baseline, current),
  };
}

function metricChanges(
  metric: string,
  base: MetricSummary | undefined,
  cur: MetricSummary | undefined,
  rules: RegressionRules,
): MetricChange[] {
  const kind = base?.kind ?? cur?.kind;
  if (base !== undefined && cur !== undefined && base.kind !== cur.kind) {
    // A metric that changed kind is two different metrics that share a name.
    return [
      ...metricChanges(metric, base, undefined, rules),
      ...metricChanges(metric, undefined, cur, rules),
    ];
  }
  switch (kind) {
    case 'trend': {
      const b = base?.kind === 'trend' && base.count > 0 ? base : undefined;
      const c = cur?.kind === 'trend' && cur.count > 0 ? cur : undefined;
      const unit = (b ?? c)?.unit ?? 'ms';
      return TREND_STATS.map((stat) => {
        const change = numbers(metric, stat, unit, b?.[stat] ?? null, c?.[stat] ?? null);
        const ruled = unit === 'ms' && RULED_STATS.has(stat);
        change.regression =
          ruled && change.percent !== null && exceeds(change.percent, rules.maxIncreasePercent);
        return change;
      });
    }
    case 'rate': {
      const b = base?.kind === 'rate' ? base.rate * 100 : null;
      const c = cur?.kind === 'rate' ? cur.rate * 100 : null;
      const change = numbers(metric, 'rate', 'rate', b, c);
      change.percent = null;
      change.regression =
        baseName(metric) === 'http_req_failed' &&
        change.delta !== null &&
        exceeds(change.delta, rules.maxErrorRateIncreasePoints);
      return [change];
    }
    case 'counter': {
      const b = base?.kind === 'counter' ? base : undefined;
      const c = cur?.kind === 'counter' ? cur : undefined;
      return [
        numbers(metric, 'count', 'count', b?.count ?? null, c?.count ?? null),
        numbers(metric, 'rate', '/s', b?.ratePerSec ?? null, c?.ratePerSec ?? null),
      ];
    }
    case 'gauge': {
      const b = base?.kind === 'gauge' ? base.value : null;
      const c = cur?.kind === 'gauge' ? cur.value : null;
      return [numbers(metric, 'value', 'value', b, c)];
    }
    default:
      return [];
  }
}

/**
 * "More than the allowance", with floating-point noise forgiven: 279.807 × 1.1 is a 10%
 * growth even though the division gives 10.000000000000002.
 */
function exceeds(change: number, allowance: number): boolean {
  return change - allowance > 1e-9 * Math.max(1, Math.abs(allowance));
}

function numbers(
  metric: string,
  stat: string,
  unit: MetricChange['unit'],
  baseline: number | null,
  current: number | null,
): MetricChange {
  const delta = baseline === null || current === null ? null : current - baseline;
  const percent =
    delta === null || baseline === null || baseline === 0 ? null : (delta / baseline) * 100;
  return { metric, stat, unit, baseline, current, delta, percent, regression: false };
}

function outcomeChanges(baseline: Summary, current: Summary): OutcomeChange[] {
  const entries = new Map<string, OutcomeChange>();
  const put = (
    kind: OutcomeChange['kind'],
    name: string,
    run: 'baseline' | 'current',
    ok: boolean,
  ) => {
    const key = `${kind}\u0000${name}`;
    const entry = entries.get(key) ?? {
      kind,
      name,
      baseline: null,
      current: null,
      regression: false,
    };
    // The same name twice in one run: it counts as passed only if every instance passed.
    entry[run] = (entry[run] ?? true) && ok;
    entries.set(key, entry);
  };
  for (const [run, summary] of [
    ['baseline', baseline],
    ['current', current],
  ] as const) {
    for (const t of summary.thresholds) put('threshold', `${t.metric}: ${t.expression}`, run, t.ok);
    for (const v of summary.verifications) {
      put('verification', v.subject === undefined ? v.name : `${v.name} (${v.subject})`, run, v.ok);
    }
  }
  const out = [...entries.values()];
  for (const o of out) o.regression = o.baseline === true && o.current === false;
  return out;
}

function warnings(baseline: Summary, current: Summary): string[] {
  const out: string[] = [];
  for (const [which, s] of [
    ['baseline', baseline],
    ['run', current],
  ] as const) {
    if (s.generator.saturated) {
      out.push(`the ${which}'s load generator was saturated: its latency figures are not reliable`);
    }
    if (!s.complete) out.push(`the ${which} is incomplete (stopped: ${s.stopReason})`);
  }
  if (baseline.target !== current.target) {
    out.push(`the runs aimed at different targets: ${baseline.target} and ${current.target}`);
  }
  const b = baseline.generator.plannedRatePerSec;
  const c = current.generator.plannedRatePerSec;
  if (b > 0 && Math.abs(c - b) / b > 0.01) {
    out.push(`the planned rates differ: ${formatFixed(b, 2)}/s and ${formatFixed(c, 2)}/s`);
  }
  return out;
}

function describeMetricRegression(m: MetricChange): string {
  if (m.unit === 'rate') {
    return `${m.metric} rose by ${formatFixed(m.delta ?? 0, 2)} points, from ${formatValue(m.baseline, m.unit)} to ${formatValue(m.current, m.unit)}`;
  }
  return `${m.metric} ${m.stat} grew by ${formatFixed(m.percent ?? 0, 1)}%, from ${formatValue(m.baseline, m.unit)} to ${formatValue(m.current, m.unit)}`;
}

/**
 * The console table: one row per metric statistic, then one per threshold and verification,
 * then the regressions and warnings, then the verdict.
 */
export function renderComparisonTable(comparison: Comparison): string {
  const rows = [
    ['metric', 'stat', 'baseline', 'current', 'change', ''],
    ...comparison.metrics.map((m) => [
      m.metric,
      m.stat,
      formatValue(m.baseline, m.unit),
      formatValue(m.current, m.unit),
      formatChange(m),
      m.regression ? 'REGRESSION' : '',
    ]),
  ];
  const out = [header(comparison), '', ...alignColumns(rows, [2, 3, 4])];
  if (comparison.outcomes.length > 0) {
    const outcomeRows = [
      ['threshold / verification', 'baseline', 'current', ''],
      ...comparison.outcomes.map((o) => [
        `${o.kind} ${o.name}`,
        outcomeText(o.baseline),
        outcomeText(o.current),
        o.regression ? 'REGRESSION' : '',
      ]),
    ];
    out.push('', ...alignColumns(outcomeRows, []));
  }
  out.push('', ...footer(comparison));
  return `${out.join('\n')}\n`;
}

/** The same comparison as a GitHub-flavoured Markdown document, every name escaped. */
export function renderComparisonMarkdown(comparison: Comparison): string {
  const regressed = comparison.regressions.length > 0;
  const out = [
    `## ${regressed ? '❌' : '✅'} ${escapeMarkdownCell(comparison.current.scenario)}: ${regressed ? `${comparison.regressions.length} regression${comparison.regressions.length === 1 ? '' : 's'}` : 'no regression'}`,
    '',
    `Baseline ${escapeMarkdownCell(comparison.baseline.startedAt)} (${comparison.baseline.verdict}) · ` +
      `run ${escapeMarkdownCell(comparison.current.startedAt)} (${comparison.current.verdict}) · ${rulesText(comparison.rules)}`,
    '',
  ];
  if (regressed) {
    out.push(...comparison.regressions.map((r) => `- **${escapeMarkdownCell(r)}**`), '');
  }
  for (const w of comparison.warnings) out.push(`> ${escapeMarkdownCell(w)}`, '');
  out.push(
    '| metric | stat | baseline | current | change | |',
    '| --- | --- | --: | --: | --: | --- |',
  );
  for (const m of comparison.metrics) {
    const cells = [
      escapeMarkdownCell(m.metric),
      m.stat,
      formatValue(m.baseline, m.unit),
      formatValue(m.current, m.unit),
      formatChange(m),
      m.regression ? '**regression**' : '',
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  if (comparison.outcomes.length > 0) {
    out.push(
      '',
      '| threshold / verification | baseline | current | |',
      '| --- | --- | --- | --- |',
    );
    for (const o of comparison.outcomes) {
      const cells = [
        escapeMarkdownCell(`${o.kind} ${o.name}`),
        outcomeText(o.baseline),
        outcomeText(o.current),
        o.regression ? '**regression**' : '',
      ];
      out.push(`| ${cells.join(' | ')} |`);
    }
  }
  out.push('');
  return out.join('\n');
}

function header(c: Comparison): string {
  return (
    `compare ${c.current.scenario}: baseline ${c.baseline.startedAt} (${c.baseline.verdict}) ` +
    `vs run ${c.current.startedAt} (${c.current.verdict})\n${rulesText(c.rules)}`
  );
}

function footer(c: Comparison): string[] {
  const out: string[] = [];
  for (const w of c.warnings) out.push(`warning: ${w}`);
  if (c.regressions.length === 0) {
    out.push('no regression');
    return out;
  }
  out.push(`${c.regressions.length} regression${c.regressions.length === 1 ? '' : 's'}:`);
  for (const r of c.regressions) out.push(`  - ${r}`);
  return out;
}

function rulesText(rules: RegressionRules): string {
  return (
    `regression: timing p95/p99 up more than ${formatFixed(rules.maxIncreasePercent, 1)}%, ` +
    `http_req_failed up more than ${formatFixed(rules.maxErrorRateIncreasePoints, 2)} points, ` +
    'or a threshold or verification that passed now fails'
  );
}

function alignColumns(rows: string[][], rightAligned: readonly number[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        rightAligned.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}

function formatValue(value: number | null, unit: MetricChange['unit']): string {
  if (value === null) return '—';
  switch (unit) {
    case 'ms':
      return `${formatFixed(value, 2)} ms`;
    case 'rate':
      return `${formatFixed(value, 2)}%`;
    case 'count':
      return Number.isInteger(value) ? formatCount(value) : formatFixed(value, 4);
    case '/s':
      return `${formatFixed(value, 2)}/s`;
    case 'tokens':
    case 'tokens/s':
      return `${formatFixed(value, 1)} ${unit}`;
    default:
      return formatFixed(value, 2);
  }
}

function formatChange(m: MetricChange): string {
  if (m.delta === null) return m.baseline === null ? 'new' : 'gone';
  const sign = m.delta > 0 ? '+' : m.delta < 0 ? '−' : '±';
  const magnitude = Math.abs(m.delta);
  if (m.unit === 'rate') return `${sign}${formatFixed(magnitude, 2)} pts`;
  const absolute =
    m.unit === 'count' && Number.isInteger(magnitude)
      ? formatCount(magnitude)
      : formatFixed(magnitude, 2);
  const percent = m.percent === null ? '' : ` (${sign}${formatFixed(Math.abs(m.percent), 1)}%)`;
  return `${sign}${absolute}${m.unit === 'ms' ? ' ms' : ''}${percent}`;
}

function outcomeText(ok: boolean | null): string {
  return ok === null ? 'not run' : ok ? 'pass' : 'FAIL';
}

function label(s: Summary): RunLabel {
  return { scenario: s.scenario, startedAt: s.startedAt, target: s.target, verdict: s.verdict };
}

function lookup(s: Summary, name: string): MetricSummary | undefined {
  return Object.hasOwn(s.metrics, name) ? s.metrics[name] : undefined;
}

function baseName(metric: string): string {
  const brace = metric.indexOf('{');
  return brace === -1 ? metric : metric.slice(0, brace);
}

/** Plain metrics before their sub-metrics, each group alphabetical. */
function compareMetricNames(a: string, b: string): number {
  const [ba, bb] = [baseName(a), baseName(b)];
  if (ba !== bb) return ba < bb ? -1 : 1;
  if (a === ba) return -1;
  if (b === bb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
