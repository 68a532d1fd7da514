import type { RunProgress } from '../engine/run-scenario.ts';
import type { MetricSummary, Summary } from '../report/summary-schema.ts';
import type { Paint } from './terminal.ts';

/** The live progress line: elapsed of planned, achieved rate, in flight, recent p95, errors. */
export function renderProgress(progress: RunProgress): string {
  const p95 = progress.recentP95Ms === undefined ? '-' : `${progress.recentP95Ms.toFixed(1)} ms`;
  return [
    `${seconds(progress.elapsedMs)}/${seconds(progress.plannedMs)}`,
    `${progress.sent} sent`,
    `${progress.achievedRatePerSec.toFixed(1)} req/s`,
    `in flight ${progress.inFlight}`,
    `p95(5s) ${p95}`,
    `errors ${progress.errors}`,
    ...(progress.dropped > 0 ? [`dropped ${progress.dropped}`] : []),
  ].join(' · ');
}

/** Ends the one warning line of a saturated generator, whose reasons come before it. */
export const SATURATED_SUFFIX =
  ' (the load generator was saturated: its figures may be unreliable)';

/**
 * The console's warning lines: one a warning, except the generator's saturation reasons
 * (`summary.generator.reasons`), which all say one thing, that the figures may not describe
 * the target, and so share one line where the first of them came.
 */
export function renderWarnings(
  warnings: readonly string[],
  saturationReasons: readonly string[],
): string[] {
  const reasons = new Set(saturationReasons);
  const saturated = warnings.filter((warning) => reasons.has(warning));
  const lines: string[] = [];
  for (const warning of warnings) {
    if (!reasons.has(warning)) lines.push(`warning: ${warning}`);
    else if (warning === saturated[0]) {
      lines.push(`warning: ${saturated.join('; ')}${SATURATED_SUFFIX}`);
    }
  }
  return lines;
}

const TREND_COLUMNS = ['count', 'min', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'] as const;

/**
 * The end-of-run report for the terminal: one table of timings (min to max, in the metric's
 * unit), then rates and counters, thresholds, verifications, failures and warnings.
 */
export function renderSummaryTable(summary: Summary, paint: Paint): string {
  const lines: string[] = [];
  const thresholdKeys = new Set(summary.thresholds.map((t) => t.metric));
  const entries = Object.entries(summary.metrics).filter(([key]) => shown(key, thresholdKeys));

  const trends = entries.filter(
    (entry): entry is [string, Extract<MetricSummary, { kind: 'trend' }>] =>
      entry[1].kind === 'trend',
  );
  if (trends.length > 0) {
    const header = ['metric', ...TREND_COLUMNS];
    const rows = trends.map(([name, m]) => [
      `${name}${m.unit === 'ms' ? '' : ` (${m.unit})`}`,
      String(m.count),
      ...TREND_COLUMNS.slice(1).map((column) => fixed(m[column])),
    ]);
    lines.push(table(header, rows), '');
  }

  const others = entries.filter(([, m]) => m.kind !== 'trend');
  for (const [name, m] of others) {
    if (m.kind === 'rate') {
      lines.push(
        `  ${name.padEnd(40)} ${(m.rate * 100).toFixed(2)}%  ` +
          `(${m.passes} of ${m.passes + m.fails})`,
      );
    } else if (m.kind === 'counter') {
      lines.push(`  ${name.padEnd(40)} ${fixed(m.count)}  (${fixed(m.ratePerSec)}/s)`);
    } else if (m.kind === 'gauge') {
      lines.push(`  ${name.padEnd(40)} ${fixed(m.value)}`);
    }
  }
  if (others.length > 0) lines.push('');

  if (Object.keys(summary.statusCodes).length > 0) {
    const codes = Object.entries(summary.statusCodes)
      .map(([code, count]) => `${code === '0' ? 'no response' : code}: ${count}`)
      .join(', ');
    lines.push(`status codes  ${codes}`);
  }
  for (const check of summary.checks) {
    const ok = check.fails === 0;
    lines.push(
      `${paint(ok ? 'green' : 'red', ok ? '✓' : '✗')} check ${check.flow}: ${check.name} ` +
        `(${check.passes} passed, ${check.fails} failed)`,
    );
  }
  for (const failure of summary.failures) {
    lines.push(`${paint('yellow', '!')} ${failure.count} × ${failure.message} [${failure.kind}]`);
  }

  if (summary.thresholds.length > 0) lines.push('', 'thresholds');
  for (const t of summary.thresholds) {
    const observed = t.observed === null ? (t.note ?? 'no data') : fixed(t.observed);
    lines.push(
      `  ${paint(t.ok ? 'green' : 'red', t.ok ? '✓' : '✗')} ${t.metric} ${t.expression}  ` +
        `observed ${observed}`,
    );
  }
  if (summary.verifications.length > 0) lines.push('', 'verifications');
  for (const v of summary.verifications) {
    lines.push(`  ${paint(v.ok ? 'green' : 'red', v.ok ? '✓' : '✗')} ${v.name}`);
    for (const line of v.evidence) lines.push(`      ${line}`);
  }

  const g = summary.generator;
  lines.push(
    '',
    `generator  planned ${fixed(g.plannedRatePerSec)}/s, ` +
      `achieved ${fixed(g.achievedRatePerSec)}/s, ` +
      `send lag p99 ${fixed(g.sendLagMs.p99)} ms, ` +
      `loop delay p99 ${fixed(g.eventLoopDelayMs.p99)} ms, ` +
      `cpu ${fixed(g.cpuPercent)}%`,
  );
  for (const note of summary.notes) lines.push(`${paint('yellow', 'note')} ${note}`);
  lines.push(
    '',
    `verdict  ${summary.verdict === 'pass' ? paint('green', 'PASS') : paint('red', 'FAIL')}` +
      `${summary.complete ? '' : ' (incomplete run)'}`,
  );
  return lines.join('\n');
}

/** Per-flow rows only for the figures people compare across flows, and what thresholds read. */
const PER_FLOW = new Set(['latency', 'chat_ttft', 'http_reqs', 'http_req_failed']);

function shown(key: string, thresholdKeys: ReadonlySet<string>): boolean {
  const brace = key.indexOf('{');
  if (brace === -1 || thresholdKeys.has(key)) return true;
  return PER_FLOW.has(key.slice(0, brace)) && /^\{flow:[^,]*\}$/.test(key.slice(brace));
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const render = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [render(header), ...rows.map(render)].map((line) => `  ${line}`).join('\n');
}

function fixed(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value >= 100 ? value.toFixed(1) : value.toFixed(2);
}

function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)}s`;
}
