import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutocannonJob, EngineJob, EngineOutcome, PeerOutcome } from './jobs.ts';
import { GENERATOR_CORE, hasCommand, nodeScript, pinned, runChild } from './process.ts';

/** Slack past a run's own length before its child is killed: start-up, drain, summary. */
const CHILD_SLACK_MS = 30_000;

/** Runs launchproof's engine once, in its own process on the generator's core. */
export async function runLaunchproof(
  job: EngineJob,
  expectedMs: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<EngineOutcome> {
  const flags = job.gcAtMarks ? ['--expose-gc'] : [];
  const [node, args] = nodeScript('runners/launchproof-runner.ts', [JSON.stringify(job)], flags);
  // With worker threads the generator has every core, as wrk with one thread a core.
  const [cmd, pinnedArgs] =
    (job.workers ?? 1) > 1 ? [node, args] : pinned(GENERATOR_CORE, node, args);
  const { result } = await runChild<EngineOutcome>(
    cmd,
    pinnedArgs,
    expectedMs + CHILD_SLACK_MS,
    onSpawn,
  );
  return result;
}

/** Runs autocannon once, in its own process on the generator's core. */
export async function runAutocannon(job: AutocannonJob): Promise<PeerOutcome> {
  const [node, args] = nodeScript('runners/autocannon-runner.ts', [JSON.stringify(job)]);
  const [cmd, pinnedArgs] = pinned(GENERATOR_CORE, node, args);
  const { result } = await runChild<PeerOutcome>(
    cmd,
    pinnedArgs,
    job.durationSec * 1_000 + CHILD_SLACK_MS,
  );
  return result;
}

export function hasWrk(): boolean {
  return hasCommand('wrk');
}

export interface WrkJob {
  url: string;
  connections: number;
  /** Requests written back to back on a connection (wrk's pipeline.lua). */
  pipelining: number;
  durationSec: number;
  /** Pause before each request on a connection, ms (wrk's `delay()`), to pace it. */
  delayMs?: number;
  /** Threads, each on a core of its own when unpinned (default 1, pinned to core 0). */
  threads?: number;
}

/**
 * Runs wrk once (one thread on the generator's core, unless told more) and reads its report. A Lua
 * script gives pipelining (as wrk's own scripts/pipeline.lua does) or pacing.
 */
export async function runWrk(job: WrkJob): Promise<PeerOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'launchproof-bench-wrk-'));
  try {
    const script = join(dir, 'bench.lua');
    writeFileSync(script, wrkScript(job));
    const threads = job.threads ?? 1;
    const wrkArgs = [
      `-t${threads}`,
      `-c${job.connections}`,
      `-d${job.durationSec}s`,
      '--latency',
      '-s',
      script,
      job.url,
    ];
    const [cmd, args] = threads > 1 ? ['wrk', wrkArgs] : pinned(GENERATOR_CORE, 'wrk', wrkArgs);
    const output = await runPlain(cmd, args, job.durationSec * 1_000 + CHILD_SLACK_MS);
    return parseWrk(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wrkScript(job: WrkJob): string {
  const lines: string[] = [];
  if (job.pipelining > 1) {
    lines.push(
      'init = function(args)',
      '  local r = {}',
      `  for i = 1, ${job.pipelining} do r[i] = wrk.format(nil) end`,
      '  req = table.concat(r)',
      'end',
      'request = function() return req end',
    );
  }
  if (job.delayMs !== undefined) lines.push(`delay = function() return ${job.delayMs} end`);
  return `${lines.join('\n')}\n`;
}

/** wrk prints `1.23ms`, `870.00us`, `2.00s`: this returns milliseconds. */
function wrkDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (match === null) throw new Error(`wrk: cannot read the duration ${text}`);
  const value = Number(match[1]);
  const unit = match[2];
  if (unit === 'us') return value / 1_000;
  if (unit === 'ms') return value;
  if (unit === 's') return value * 1_000;
  return value * 60_000;
}

export function parseWrk(output: string): PeerOutcome {
  const requestsLine = /(\d+) requests in ([\d.]+\w+)/.exec(output);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  const stats = /^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(output);
  if (requestsLine === null || rate === null || p50 === null || p99 === null || stats === null) {
    throw new Error(`wrk: unexpected report\n${output}`);
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(requestsLine[1]),
    durationMs: wrkDurationMs(requestsLine[2] as string),
    ratePerSec: Number(rate[1]),
    latency: {
      p50: wrkDurationMs(p50[1] as string),
      p99: wrkDurationMs(p99[1] as string),
      max: wrkDurationMs(stats[3] as string),
    },
    errors: errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    cpuUs: undefined,
    cpuSecondsUs: [],
  };
}

async function runPlain(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${out}`));
    });
  });
}
