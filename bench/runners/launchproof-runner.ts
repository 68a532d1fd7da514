/**
 * Drives launchproof's engine for one bench cell, in a process of its own (pinned by the
 * caller): `launchproof-runner.ts '<EngineJob JSON>'`. It builds the scenario in code,
 * calls runScenario, and prints one EngineOutcome line (bench/lib/process.ts's marker).
 * CPU is read around runScenario alone, so tsx's start-up is not charged to the engine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunExtension, RunStart } from '../../src/engine/run-extension.ts';
import { type RunResult, runScenario } from '../../src/engine/run-scenario.ts';
import { runWithWorkers } from '../../src/engine/workers/run-workers.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { validateScenario } from '../../src/scenario/load-scenario.ts';
import type { EngineJob, EngineOutcome, Timing } from '../lib/jobs.ts';
import { printResult, sampleCpuSeconds } from '../lib/process.ts';

const job = JSON.parse(process.argv[2] ?? '{}') as EngineJob;

const workers = job.workers ?? 1;
const input = {
  name: 'bench',
  flows: [
    {
      name: 'bench',
      load: job.load,
      request: job.request,
      // One identity a worker: an identity's pool lives in exactly one thread.
      identities: { count: workers },
      ...(job.connections !== undefined
        ? { connections: Math.max(1, Math.round(job.connections / workers)) }
        : {}),
      pipelining: job.pipelining ?? 1,
      ...(job.stream ? { stream: { format: 'openai', idleTimeout: '30s' } } : {}),
      timeouts: { connect: '10s', headers: '30s', body: '30s', request: '60s' },
    },
  ],
};
const scenario = validateScenario(input, 'bench scenario');

const steady = job.steadyFromMs === undefined ? undefined : steadyTtft(job.steadyFromMs);
const rss: EngineOutcome['rss'] = [];
const startMs = performance.now();
const collect = (globalThis as { gc?: () => void }).gc;
const rssTimers = (job.rssAtMs ?? []).map((atMs) =>
  setTimeout(() => {
    const bytes = process.memoryUsage.rss();
    if (job.gcAtMarks && collect !== undefined) {
      collect();
      rss.push({ atMs, bytes, liveHeapBytes: process.memoryUsage().heapUsed });
    } else {
      rss.push({ atMs, bytes });
    }
  }, atMs),
);

// A CPU profile of runScenario alone (not of tsx compiling the sources), when asked.
const profiler = job.profileTo === undefined ? undefined : new Session();
if (profiler !== undefined) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const cpuSeconds = sampleCpuSeconds();
const cpuBefore = process.cpuUsage();
const switchesBefore = process.resourceUsage().involuntaryContextSwitches;
const { summary } = await run();
const cpu = process.cpuUsage(cpuBefore);
const cpuSecondsUs = cpuSeconds.stop();
const switches = process.resourceUsage().involuntaryContextSwitches - switchesBefore;
if (profiler !== undefined && job.profileTo !== undefined) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(job.profileTo, JSON.stringify(profile));
  profiler.disconnect();
}
for (const timer of rssTimers) clearTimeout(timer);
rss.push({ atMs: performance.now() - startMs, bytes: process.memoryUsage.rss() });

const requests = counterOf(summary, 'http_reqs');
const failed = summary.metrics.http_req_failed;
const outcome: EngineOutcome = {
  requests,
  durationMs: summary.durationMs,
  ratePerSec: requests / (summary.durationMs / 1_000),
  latency: timingOf(summary, 'latency'),
  duration: timingOf(summary, 'http_req_duration'),
  ttft: timingOf(summary, 'chat_ttft'),
  ...(steady === undefined ? {} : { steadyTtft: steady.timing() }),
  ttftSeconds: summary.series.map((row) => {
    const ttft = row.flows.bench?.ttft;
    return { t: row.t, count: ttft?.count ?? 0, p50: ttft?.p50 ?? 0, p99: ttft?.p99 ?? 0 };
  }),
  failed: failed?.kind === 'rate' ? failed.passes : 0,
  statusCodes: summary.statusCodes,
  generator: {
    planned: summary.generator.planned,
    sent: summary.generator.sent,
    dropped: summary.generator.dropped,
    late: summary.generator.late,
    plannedRatePerSec: summary.generator.plannedRatePerSec,
    achievedRatePerSec: summary.generator.achievedRatePerSec,
    sendLagP99Ms: summary.generator.sendLagMs.p99,
    sendLagMaxMs: summary.generator.sendLagMs.max,
    loopDelayP99Ms: summary.generator.eventLoopDelayMs.p99,
    cpuPercent: summary.generator.cpuPercent,
    saturated: summary.generator.saturated,
    reasons: summary.generator.reasons,
    workers: summary.generator.workers,
  },
  failures: summary.failures.map((f) => `${f.count}× ${f.message}`),
  cpuUs: cpu.user + cpu.system,
  cpuSystemUs: cpu.system,
  cpuSecondsUs,
  involuntaryContextSwitches: switches,
  rss,
};
printResult(outcome);

function counterOf(summary: Summary, name: string): number {
  const metric = summary.metrics[name];
  return metric?.kind === 'counter' ? metric.count : 0;
}

function timingOf(summary: Summary, name: string): Timing | undefined {
  const metric = summary.metrics[name];
  if (metric?.kind !== 'trend') return undefined;
  return { count: metric.count, p50: metric.p50, p99: metric.p99, max: metric.max };
}

/**
 * One thread, or several through the engine's worker threads: each worker loads the scenario
 * from a file itself, so the same scenario is written to a temporary module for them.
 */
async function run(): Promise<RunResult> {
  if (workers <= 1) {
    return runScenario(scenario, {
      target: job.target,
      ...(job.httpClient === undefined ? {} : { httpClient: job.httpClient }),
      ...(steady === undefined ? {} : { extensions: [steady.extension] }),
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'launchproof-bench-scenario-'));
  try {
    const file = join(dir, 'bench.ts');
    writeFileSync(file, `export default ${JSON.stringify(input)};\n`);
    return await runWithWorkers(scenario, {
      target: job.target,
      file,
      cwd: dir,
      overrides: {},
      workers,
      ...(job.httpClient === undefined ? {} : { httpClient: job.httpClient }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Times `chat_ttft` (first content minus intended send) of every stream intended at least
 * `fromMs` after t0, from the response records: exact percentiles over that window, where
 * the engine's series only groups streams by the second they ended.
 */
function steadyTtft(fromMs: number): { extension: RunExtension; timing(): Timing } {
  let run: RunStart | undefined;
  const ttftMs: number[] = [];
  const extension: RunExtension = {
    name: 'bench-steady-ttft',
    start(started) {
      run = started;
    },
    observe(record) {
      if (run === undefined || record.firstContentUs === undefined) return;
      if (record.intendedUs - run.t0Us < fromMs * 1_000) return;
      ttftMs.push((record.firstContentUs - record.intendedUs) / 1_000);
    },
  };
  return {
    extension,
    timing() {
      const sorted = [...ttftMs].sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
      return { count: sorted.length, p50: at(50), p99: at(99), max: sorted.at(-1) ?? 0 };
    },
  };
}
