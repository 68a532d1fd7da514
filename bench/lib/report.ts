import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CellReport, GoalOutcome } from './cell.ts';
import type { Machine } from './machine.ts';

/** Everything one bench run found, as bench/results/<date>.json holds it. */
export interface BenchRecord {
  startedAt: string;
  durationMs: number;
  command: string;
  machine: Machine;
  options: { long: boolean; runs: number; only: string[] | undefined };
  cells: CellReport[];
  /** Cells left out, and why (not installed, out of time). */
  skipped: Array<{ id: string; reason: string }>;
}

export const DOCS_BEGIN =
  '<!-- bench:begin (written by npm run bench; edit outside these marks) -->';
export const DOCS_END = '<!-- bench:end -->';

/** A cell as plain text for the terminal: its table aligned, then one line per goal. */
export function renderCellText(cell: CellReport): string {
  const lines = [`== ${cell.title}`, `   ${cell.setup}`];
  if (cell.table.length > 0) {
    const widths = (cell.table[0] ?? []).map((_, col) =>
      Math.max(...cell.table.map((row) => (row[col] ?? '').length)),
    );
    for (const row of cell.table) {
      lines.push(
        `   ${row.map((text, col) => text.padEnd(widths[col] ?? 0)).join('  ')}`.trimEnd(),
      );
    }
  }
  for (const goal of cell.goals)
    lines.push(`   ${goalWord(goal)}: ${goal.goal} — ${goal.observed}`);
  for (const note of cell.notes) lines.push(`   note: ${note}`);
  return lines.join('\n');
}

/** MET, NOT MET, FIGURE (reported only) or NOT MEASURED. */
export function goalWord(goal: GoalOutcome): string {
  if (goal.figure) return 'FIGURE';
  if (goal.met === undefined) return 'NOT MEASURED';
  return goal.met ? 'MET' : 'NOT MET';
}

/** The generated part of docs/benchmarks.md. */
export function renderDocs(record: BenchRecord, resultsFile: string): string {
  const m = record.machine;
  const out: string[] = [
    DOCS_BEGIN,
    '',
    `Last run: ${record.startedAt} (${(record.durationMs / 60_000).toFixed(1)} min), ` +
      `\`${record.command}\`; every figure below comes from \`${resultsFile}\`.`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ` +
      `${m.nginx ?? 'nginx not installed'}; ${m.wrk ?? 'wrk not installed'}; autocannon ${m.autocannon}; ` +
      `taskset ${m.taskset ? 'present (generator on core 0, target on core 1)' : 'missing (no pinning)'}; ` +
      `load average ${m.loadAverageStart.toFixed(1)} at the start, ${m.loadAverageEnd.toFixed(1)} at the end.`,
    '',
    '| goal | met | observed |',
    '| --- | --- | --- |',
  ];
  for (const cell of record.cells) {
    for (const goal of cell.goals) {
      out.push(
        `| ${cell.title}: ${goal.goal} | ${goalWord(goal).toLowerCase()} | ${goal.observed} |`,
      );
    }
  }
  for (const skipped of record.skipped) out.push(`| ${skipped.id} | skipped | ${skipped.reason} |`);
  for (const cell of record.cells) {
    out.push('', `### ${cell.title}`, '', cell.setup, '');
    if (cell.table.length > 0) {
      const [head, ...rows] = cell.table;
      out.push(`| ${(head ?? []).join(' | ')} |`, `|${(head ?? []).map(() => ' --- ').join('|')}|`);
      for (const row of rows) out.push(`| ${row.join(' | ')} |`);
      out.push('');
    }
    for (const note of cell.notes) out.push(`${note}`, '');
  }
  out.push(DOCS_END);
  return out.join('\n');
}

/**
 * Puts the generated part into docs/benchmarks.md between its marks, keeping what people
 * wrote outside them; a file without the marks gets them appended.
 */
export function updateDocs(path: string, generated: string, preamble: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : preamble;
  const begin = current.indexOf(DOCS_BEGIN);
  const end = current.indexOf(DOCS_END);
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + generated + current.slice(end + DOCS_END.length)
      : `${current.trimEnd()}\n\n${generated}\n`;
  writeWhole(path, next);
}

/** Writes a file whole: a temporary file beside it, then a rename. */
export function writeWhole(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
