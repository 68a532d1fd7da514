import { appendFile } from 'node:fs/promises';
import { LaunchproofError } from '../errors.ts';
import { escapeMarkdownCell, escapeMarkdownText } from './escape.ts';
import {
  findMetric,
  formatCount,
  formatFixed,
  formatMs,
  formatObserved,
  formatRate,
  formatSeconds,
} from './format.ts';
import type { Summary } from './summary-schema.ts';

/**
 * Renders `summary.md`: the verdict, the key figures, and every failed threshold and
 * verification as a Markdown table (GitHub-flavoured, for a pull request or a step summary),
 * then request failures, warnings and notes. Every string from the summary is escaped.
 */
export function renderMarkdown(summary: Summary): string {
  const out: string[] = [];
  const passed = summary.verdict === 'pass';
  out.push(
    `## ${passed ? '✅' : '❌'} ${escapeMarkdownText(summary.scenario)}: ${passed ? 'passed' : 'failed'}`,
  );
  out.push('');
  if (summary.description !== undefined) out.push(escapeMarkdownText(summary.description), '');
  out.push(runLine(summary), '');

  out.push(...warnings(summary));
  out.push('| figure | value |', '| --- | --- |');
  for (const [figure, value] of keyFigures(summary)) out.push(`| ${figure} | ${value} |`);
  out.push('');

  const thresholdsOk = summary.thresholds.filter((t) => t.ok).length;
  const verificationsOk = summary.verifications.filter((v) => v.ok).length;
  out.push(
    `Thresholds: ${thresholdsOk} of ${summary.thresholds.length} passed. ` +
      `Verifications: ${verificationsOk} of ${summary.verifications.length} passed.`,
    '',
  );

  const failed = failedRows(summary);
  if (failed.length > 0) {
    out.push(
      '### Failed',
      '',
      '| kind | name | observed | evidence |',
      '| --- | --- | --- | --- |',
    );
    out.push(...failed.map((row) => `| ${row.join(' | ')} |`), '');
  }

  if (summary.failures.length > 0) {
    out.push(
      '### Request failures',
      '',
      '| kind | count | flows | message |',
      '| --- | --: | --- | --- |',
    );
    for (const failure of summary.failures) {
      const cells = [
        escapeMarkdownCell(failure.kind),
        formatCount(failure.count),
        escapeMarkdownCell(failure.flows.join(', ')),
        escapeMarkdownCell(failure.message),
      ];
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  }

  if (summary.notes.length > 0) {
    out.push('Notes:', '');
    for (const note of summary.notes) out.push(`- ${escapeMarkdownCell(note)}`);
    out.push('');
  }
  return out.join('\n');
}

/**
 * Appends `markdown` to the file GitHub Actions names in `GITHUB_STEP_SUMMARY`, when set.
 * The runner owns that file and reads it after the step, so this appends (one write) rather
 * than replacing it. Returns the file's path, or undefined when the variable is not set.
 */
export async function appendStepSummary(
  env: Readonly<Record<string, string | undefined>>,
  markdown: string,
): Promise<string | undefined> {
  const path = env.GITHUB_STEP_SUMMARY;
  if (path === undefined || path === '') return undefined;
  try {
    await appendFile(path, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  } catch (error) {
    throw new LaunchproofError(
      'LP_ERR_RESULTS_WRITE',
      `could not append to GITHUB_STEP_SUMMARY (${path}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, hint: 'GITHUB_STEP_SUMMARY must name a writable file' },
    );
  }
  return path;
}

function runLine(summary: Summary): string {
  const facts = [
    `target ${escapeMarkdownText(summary.target)}`,
    `started ${summary.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`,
    formatSeconds(summary.durationMs),
    `seed ${summary.seed}`,
    `launchproof ${escapeMarkdownText(summary.tool.version)}`,
  ];
  return facts.join(' · ');
}

function warnings(summary: Summary): string[] {
  const out: string[] = [];
  if (!summary.complete) {
    out.push(
      `> **Incomplete run** (stopped: ${summary.stopReason}): the figures cover only what ran.`,
      '',
    );
  }
  if (summary.generator.saturated) {
    const reasons = summary.generator.reasons.map(escapeMarkdownCell).join('; ');
    out.push(
      `> **The load generator was saturated**${reasons === '' ? '' : ` (${reasons})`}: ` +
        'latency figures include its own delays and are not reliable.',
      '',
    );
  }
  return out;
}

function keyFigures(summary: Summary): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const reqs = findMetric(summary, 'http_reqs');
  if (reqs?.kind === 'counter') {
    rows.push(['requests', `${formatCount(reqs.count)} (${formatFixed(reqs.ratePerSec, 2)}/s)`]);
  }
  const failed = findMetric(summary, 'http_req_failed');
  if (failed?.kind === 'rate')
    rows.push(['error rate (http\\_req\\_failed)', formatRate(failed.rate)]);
  for (const [name, label] of TIMING_FIGURES) {
    const metric = findMetric(summary, name);
    if (metric?.kind !== 'trend' || metric.count === 0) continue;
    rows.push([label, [metric.p50, metric.p95, metric.p99].map(formatMs).join(' / ')]);
  }
  for (const [name, label] of RATE_FIGURES) {
    const metric = findMetric(summary, name);
    if (metric?.kind === 'rate') rows.push([label, formatRate(metric.rate)]);
  }
  const calls = findMetric(summary, 'provider_calls');
  const cost = findMetric(summary, 'provider_cost_usd');
  if (calls?.kind === 'counter' || cost?.kind === 'counter') {
    const callText = calls?.kind === 'counter' ? formatCount(calls.count) : 'unknown';
    const costText = cost?.kind === 'counter' ? `$${formatFixed(cost.count, 2)}` : 'unknown';
    rows.push(['provider calls / spend', `${callText} / ${costText}`]);
  }
  const g = summary.generator;
  rows.push([
    'generator',
    `${formatFixed(g.achievedRatePerSec, 1)} of ${formatFixed(g.plannedRatePerSec, 1)} requests/s; ` +
      `${formatCount(g.late)} late, ${formatCount(g.dropped)} dropped; ` +
      `send lag p99 ${formatMs(g.sendLagMs.p99)}; saturated: ${g.saturated ? 'yes' : 'no'}`,
  ]);
  return rows;
}

const TIMING_FIGURES: ReadonlyArray<[string, string]> = [
  ['latency', 'latency p50 / p95 / p99'],
  ['http_req_duration', 'http\\_req\\_duration p50 / p95 / p99'],
  ['chat_ttft', 'chat TTFT p50 / p95 / p99'],
];

const RATE_FIGURES: ReadonlyArray<[string, string]> = [
  ['ratelimited', 'rate-limited (429)'],
  ['fallback', 'fallback answers'],
  ['checks', 'checks passed'],
];

function failedRows(summary: Summary): string[][] {
  const rows: string[][] = [];
  for (const t of summary.thresholds) {
    if (t.ok) continue;
    const evidence = [
      ...(t.note === undefined ? [] : [t.note]),
      ...(t.abortOnFail && summary.stopReason === 'threshold-abort' ? ['aborted the run'] : []),
    ];
    rows.push([
      'threshold',
      escapeMarkdownCell(`${t.metric}: ${t.expression}`),
      escapeMarkdownCell(formatObserved(summary, t)),
      evidenceCell(evidence),
    ]);
  }
  for (const v of summary.verifications) {
    if (v.ok) continue;
    const name = v.subject === undefined ? v.name : `${v.name} (${v.subject})`;
    rows.push(['verification', escapeMarkdownCell(name), 'failed', evidenceCell(v.evidence)]);
  }
  return rows;
}

function evidenceCell(lines: readonly string[]): string {
  return lines.length === 0 ? '—' : lines.map(escapeMarkdownCell).join('<br>');
}
