/**
 * `npm run bench`: launchproof against its peers, and the engine at the machine's limit.
 *
 * 1. Describe the machine; start nginx (the bench's own config, in a temp dir, 127.0.0.1)
 *    on core 1; say how to install nginx and wrk when they are missing.
 * 2. Run each cell (bench/cells/): every tool in its own child process on core 0, targets on
 *    core 1, tools alternating round by round; medians, spreads and ratios.
 * 3. Print each cell's table and whether each goal of issue 8 was met, write
 *    bench/results/<date>.json and update docs/benchmarks.md between its marks.
 * Loopback only. Every child is killed past its own deadline, and the default bench stops
 * starting cells once its 15-minute budget would be passed.
 *
 * Flags: --long (the issue's lengths: 10 s cells, a 10-minute memory run), --runs N (default
 * 5), --only id,id (a subset; docs/benchmarks.md is then left alone), --profile (a CPU
 * profile of each cell's launchproof runs under bench/results/profiles/), --help.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { accuracyCell } from './cells/accuracy.ts';
import { costCell } from './cells/cost.ts';
import { fidelityCell } from './cells/fidelity.ts';
import { memoryCell } from './cells/memory.ts';
import { stallCell } from './cells/stall.ts';
import { streamsCell } from './cells/streams.ts';
import { throughputCell } from './cells/throughput.ts';
import type { BenchContext, BenchOptions, Cell, CellReport } from './lib/cell.ts';
import { describeMachine } from './lib/machine.ts';
import { hasCommand } from './lib/process.ts';
import {
  type BenchRecord,
  goalWord,
  renderCellText,
  renderDocs,
  updateDocs,
  writeWhole,
} from './lib/report.ts';
import { INSTALL_HINT, startNginx } from './lib/targets.ts';
import { hasWrk } from './lib/tools.ts';

const CELLS: readonly Cell[] = [
  throughputCell,
  fidelityCell,
  stallCell,
  accuracyCell,
  memoryCell,
  streamsCell,
  costCell,
];
/** The default bench's whole budget (the issue's bound); --long has none. */
const BUDGET_MS = 15 * 60_000;
const MIN_RUNS = 5;

const USAGE = `usage: npm run bench -- [--long] [--runs N] [--only ${CELLS.map((c) => c.id).join(',')}] [--profile]
  --long      the issue's lengths: 10 s cells, memory over 10 minutes (about an hour in all)
  --runs N    runs per tool and cell (default ${MIN_RUNS}; fewer is refused unless --only is given)
  --only IDS  run only these cells; docs/benchmarks.md is then not updated
  --profile   write a CPU profile of launchproof's runs to bench/results/profiles/`;

const DOCS_PREAMBLE = `# Benchmarks

\`npm run bench\` measures launchproof's engine against autocannon and wrk, and against the
goals of issue 8. The section between the marks below is rewritten by each full run.
`;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const rootDir = fileURLToPath(new URL('..', import.meta.url));

const options = parseArgs(process.argv.slice(2));
if (options === undefined) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
await main(options);

async function main(options: BenchOptions): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const machine = describeMachine();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const cells = CELLS.filter((cell) => options.only === undefined || options.only.has(cell.id));

  log(
    `launchproof bench: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ` +
      `load average ${machine.loadAverageStart.toFixed(1)}`,
  );
  const skipped: BenchRecord['skipped'] = [];
  if (!machine.taskset)
    log('taskset is missing: tools and targets are not pinned (util-linux has it)');
  if (machine.nginx === undefined) log(`nginx is missing; install it with: ${INSTALL_HINT}`);
  if (!hasWrk()) log(`wrk is missing, so it is left out; install it with: ${INSTALL_HINT}`);
  const estimateMs = cells.reduce((sum, cell) => sum + cell.estimateMs(options), 0);
  log(`${cells.length} cells, about ${(estimateMs / 60_000).toFixed(1)} min`);

  const nginx = await startNginx();
  const profileDir = `${benchDir}results/profiles/${stamp}`;
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const ctx: BenchContext = {
    options,
    nginx,
    wrk: hasWrk(),
    log,
    profilePath: (name) => (options.profile ? `${profileDir}/${name}.cpuprofile` : undefined),
  };

  const reports: CellReport[] = [];
  try {
    for (const cell of cells) {
      const elapsed = performance.now() - started;
      if (!options.long && elapsed + cell.estimateMs(options) > BUDGET_MS) {
        const reason = `left out: it would pass the ${BUDGET_MS / 60_000}-minute budget`;
        skipped.push({ id: cell.id, reason });
        log(`${cell.title}: ${reason}`);
        continue;
      }
      log(`${cell.title}…`);
      try {
        const report = await cell.run(ctx);
        reports.push(report);
        log(renderCellText(report));
      } catch (error) {
        const reason = `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
        skipped.push({ id: cell.id, reason });
        log(`${cell.title}: ${reason}`);
      }
    }
  } finally {
    await nginx?.stop();
  }

  machine.loadAverageEnd = loadavg()[0] ?? 0;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const record: BenchRecord = {
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - started,
    command,
    machine,
    options: { long: options.long, runs: options.runs, only: options.only && [...options.only] },
    cells: reports,
    skipped,
  };
  const resultsFile = `bench/results/${stamp}.json`;
  writeWhole(`${rootDir}${resultsFile}`, `${JSON.stringify(record, null, 2)}\n`);

  log('');
  log('== summary');
  for (const report of reports) {
    for (const goal of report.goals) {
      log(`${goalWord(goal).padEnd(12)} ${report.title}: ${goal.goal} — ${goal.observed}`);
    }
  }
  for (const s of skipped) log(`${'SKIPPED'.padEnd(12)} ${s.id}: ${s.reason}`);
  log(`results: ${resultsFile} (${(record.durationMs / 60_000).toFixed(1)} min)`);
  if (options.only === undefined) {
    updateDocs(`${rootDir}docs/benchmarks.md`, renderDocs(record, resultsFile), DOCS_PREAMBLE);
    // The project's formatter aligns Markdown tables; the doc is kept as `npm run lint` wants.
    spawnSync(`${rootDir}node_modules/.bin/biome`, ['format', '--write', 'docs/benchmarks.md'], {
      cwd: rootDir,
      stdio: 'ignore',
    });
    log('docs/benchmarks.md updated');
  }
}

function parseArgs(args: string[]): BenchOptions | undefined {
  let long = false;
  let runs = MIN_RUNS;
  let only: Set<string> | undefined;
  let profile = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') return undefined;
    else if (arg === '--long') long = true;
    else if (arg === '--profile') profile = true;
    else if (arg === '--runs') runs = Number(args[++i]);
    else if (arg === '--only') only = new Set((args[++i] ?? '').split(',').filter(Boolean));
    else fail(`unknown option ${arg}`);
  }
  if (!Number.isInteger(runs) || runs < 1)
    fail('--runs expects a whole number of runs, at least 1');
  if (runs < MIN_RUNS && only === undefined) {
    fail(`--runs below ${MIN_RUNS} is for --only runs: the figures need at least ${MIN_RUNS}`);
  }
  for (const id of only ?? []) {
    if (!CELLS.some((cell) => cell.id === id)) fail(`--only: no cell ${id}`);
  }
  if (!hasCommand('node')) fail('node is not on PATH');
  return { long, runs, only, profile };
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}
