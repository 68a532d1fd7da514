/**
 * Benchmark: can one core of the mock provider hold 2,000 slow streams on plan?
 *
 * Run: node --import tsx bench/provider-streams.ts [streams] (default 2000; bounded < 60 s)
 *
 * 1. The provider runs in this process, on its one thread, with a fixed plan: first token
 *    after TTFT_MS, then one token every GAP_MS, TOKENS tokens.
 * 2. A client in a child process (the other core) opens the streams with undici, staggered
 *    over STAGGER_MS so the listen backlog is not the subject, and timestamps each event.
 * 3. The provider writes the role chunk as soon as it has read a call and plans token k at
 *    that moment + TTFT_MS + k * GAP_MS. So each token's deviation from plan, as the client
 *    sees it, is its arrival minus (roleMs + TTFT_MS + k * GAP_MS): the role chunk and the
 *    token travel the same path, so connection set-up and transit cancel out. The figures
 *    are given for every token and for the window in which all N streams were open.
 * 4. Set-up is shown apart (send to role chunk): on a loaded two-core machine it is the
 *    kernel's and the client's cost of 500 new connections a second, not the provider's.
 * 5. The provider's CPU time per token sent says what one core can carry whatever else the
 *    machine is doing. Its event loop busy far more of the time than its CPU share means
 *    the process waited for a core: the machine, not the provider, was the bottleneck.
 * 6. A small run first gives the baseline; the figures are medians and p99s, and the ratio
 *    of the large run's p99 to the small run's.
 * Loopback only; streams still open PHASE_GRACE_MS after the last was opened are cut and
 * counted, and a watchdog ends the run at 55 s.
 * Loopback only; every stream ends by itself and a watchdog ends the run at 55 s.
 */
import { fork } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { startProvider, TOKEN_CHANNEL } from '../src/provider/index.ts';

const TTFT_MS = 400;
const TOKENS_PER_SEC = 10;
const GAP_MS = 1000 / TOKENS_PER_SEC;
const TOKENS = 80;
const STAGGER_MS = 4_000;
const WATCHDOG_MS = 55_000;
/** A phase's streams still open this long after the last was opened are cut and counted. */
const PHASE_GRACE_MS = TTFT_MS + TOKENS * GAP_MS + 6_000;
const BASELINE_STREAMS = 100;
const EVENT_END = Buffer.from('\n\n');

interface ClientReport {
  streams: number;
  completed: number;
  failed: number;
  cut: number;
  maxOpen: number;
  tokens: number;
  /** Share of tokens that arrived within 2 ms of their plan. */
  within2Ms: number;
  fromRole: Stats;
  /** The same, for tokens that arrived while all N streams were open (after the ramp). */
  steady: Stats & { tokens: number; within2Ms: number };
  /** Send to the role chunk, which the provider writes as soon as the call arrives. */
  turnaround: Stats;
  clientLoopDelayP99Ms: number;
  /** The client's CPU time over its wall time (1 = one core). */
  clientCpuShare: number;
}

interface Stats {
  median: number;
  p99: number;
  max: number;
}

if (process.argv[2] === '--client') {
  await runClient(process.argv[3] as string, Number(process.argv[4]));
} else {
  await runBench(Number(process.argv[2] ?? 2_000));
}

async function runBench(streams: number): Promise<void> {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench: watchdog fired at 55 s, stopping\n');
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  process.stdout.write(
    `provider-streams: ${TOKENS} tokens a stream, first after ${TTFT_MS} ms, then every ` +
      `${GAP_MS} ms; node ${process.version}, ${availableParallelism()} cores, ` +
      `load average ${loadavg()[0]?.toFixed(1)}\n`,
  );
  const small = await phase(BASELINE_STREAMS);
  const large = await phase(streams);
  process.stdout.write(
    `ratio of client p99 deviations, ${streams} / ${BASELINE_STREAMS} streams: ` +
      `${(large.fromRole.p99 / Math.max(0.01, small.fromRole.p99)).toFixed(2)}\n`,
  );
  clearTimeout(watchdog);
}

async function phase(streams: number): Promise<ClientReport> {
  const provider = await startProvider({
    ttftMs: TTFT_MS,
    tokensPerSec: TOKENS_PER_SEC,
    completionTokens: TOKENS,
  });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const lateness: number[] = [];
  let second: number[] = [];
  const onToken = (message: unknown): void => {
    const { lateMs } = message as { lateMs: number };
    lateness.push(lateMs);
    second.push(lateMs);
  };
  subscribe(TOKEN_CHANNEL, onToken);
  // One line a second: tokens written, CPU and event-loop busy share, lateness. A loop busy
  // far beyond its CPU share is a process waiting for a core that others hold.
  const seconds: string[] = [];
  let cpuMark = process.cpuUsage();
  let eluMark = performance.eventLoopUtilization();
  const ticker = setInterval(() => {
    const cpuUs = process.cpuUsage(cpuMark);
    const busy = performance.eventLoopUtilization(eluMark).utilization;
    cpuMark = process.cpuUsage();
    eluMark = performance.eventLoopUtilization();
    const late = stats(second);
    const pad = (value: number, width: number): string => String(Math.round(value)).padStart(width);
    seconds.push(
      `    s${pad(seconds.length + 1, 2)}: ${pad(second.length, 5)} tokens, ` +
        `CPU ${pad((cpuUs.user + cpuUs.system) / 1e4, 3)}%, loop busy ${pad(busy * 100, 3)}%, ` +
        `open ${pad(provider.counters().concurrentStreams, 4)}, late median ` +
        `${fixed(late.median)} p99 ${fixed(late.p99)} ms`,
    );
    second = [];
  }, 1_000);
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const startMs = performance.now();

  const report = await new Promise<ClientReport>((resolve, reject) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      ['--client', provider.baseUrl, String(streams)],
      {
        execArgv: ['--import', 'tsx'],
      },
    );
    child.once('message', (message) => resolve(message as ClientReport));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`bench client exited with ${code}`));
    });
  });

  const wallMs = performance.now() - startMs;
  const cpu = process.cpuUsage(cpuBefore);
  const elu = performance.eventLoopUtilization(eluBefore).utilization;
  loop.disable();
  unsubscribe(TOKEN_CHANNEL, onToken);
  clearInterval(ticker);
  const counters = provider.counters();
  await provider.close();

  const cpuUs = cpu.user + cpu.system;
  const cpuShare = cpuUs / 1000 / wallMs;
  // NaN crosses the IPC channel as null: an empty set of figures prints as n/a.
  const ms = (value: number | null): string =>
    value === null || Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)} ms`;
  const tokensSent = Math.max(1, counters.completionTokens);
  const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
  const line = (label: string, s: Stats): string =>
    `  ${label}: median ${ms(s.median)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;
  process.stdout.write(
    [
      `${streams} streams: ${report.completed} completed, ${report.failed} failed, ` +
        `${report.cut} cut at the phase deadline, ` +
        `${report.tokens} tokens timed`,
      `  concurrency: ${counters.peakConcurrentStreams} streams open at the peak (provider), ` +
        `${report.maxOpen} (client)`,
      line('provider: token written minus plan', stats(lateness)),
      `  provider: written within 2 ms of plan: ${percent(shareWithin2Ms(lateness))}`,
      line('client: token arrival minus plan', report.fromRole),
      `  client: within 2 ms of plan: ${percent(report.within2Ms)}`,
      line(
        `client: the same, while all ${streams} were open (${report.steady.tokens})`,
        report.steady,
      ),
      `  client: within 2 ms while all were open: ${percent(report.steady.within2Ms)}`,
      line('connection set-up, send to role chunk', report.turnaround),
      `  provider CPU per token sent: ${(cpuUs / tokensSent).toFixed(1)} µs ` +
        `(one core's worth: ${Math.round(tokensSent / (cpuUs / 1e6))} tokens/s)`,
      `  provider process: ${percent(cpuShare)} of one core over ${(wallMs / 1e3).toFixed(1)} s, ` +
        `event loop busy ${percent(elu)} of the time, delay p99 ` +
        `${(loop.percentile(99) / 1e6).toFixed(2)} ms`,
      `  client process: ${percent(report.clientCpuShare)} of one core, ` +
        `event-loop delay p99 ${report.clientLoopDelayP99Ms.toFixed(2)} ms`,
      ...(streams > BASELINE_STREAMS ? ['  provider, second by second:', ...seconds] : []),
      '',
    ].join('\n'),
  );
  return report;
}

async function runClient(baseUrl: string, streams: number): Promise<void> {
  const agent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 10_000 });
  const { origin } = new URL(baseUrl);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const clientStartMs = performance.now();

  // Every token's arrival and deviation, in typed arrays: 200,000 objects would make the
  // client's garbage collector part of the measurement.
  const capacity = streams * TOKENS;
  const arrivalMs = new Float64Array(capacity);
  const deviationMs = new Float64Array(capacity);
  let tokens = 0;
  const turnaround: number[] = [];
  let allOpenMs = Number.POSITIVE_INFINITY;
  let firstEndMs = Number.POSITIVE_INFINITY;
  let roles = 0;
  let open = 0;
  let maxOpen = 0;
  let completed = 0;
  let failed = 0;
  let cut = 0;
  const controllers = new Set<{ abort(reason: Error): void }>();
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'What does onboarding include?' }],
    stream: true,
  });

  // The dispatcher's handler API, not a stream per response: the client must stay lighter
  // than the provider it measures.
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      const sendMs = performance.now();
      let events = 0;
      let roleMs = 0;
      let controllerOf: { abort(reason: Error): void } | undefined;
      const finish = (ok: boolean): void => {
        open--;
        if (controllerOf) controllers.delete(controllerOf);
        if (ok) {
          completed++;
          firstEndMs = Math.min(firstEndMs, performance.now());
        } else failed++;
        resolve();
      };
      agent.dispatch(
        {
          origin,
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        },
        {
          onRequestStart(controller) {
            controllerOf = controller;
            controllers.add(controller);
          },
          onResponseData(_controller, chunk) {
            const atMs = performance.now();
            if (events === 0) turnaround.push(atMs - sendMs);
            for (
              let at = chunk.indexOf(EVENT_END);
              at >= 0;
              at = chunk.indexOf(EVENT_END, at + 2)
            ) {
              // Event 0 is the role chunk; events 1..TOKENS are the tokens.
              const token = events++;
              if (token === 0) {
                roleMs = atMs;
                if (++roles === streams) allOpenMs = atMs;
              }
              if (token < 1 || token > TOKENS || tokens >= capacity) continue;
              arrivalMs[tokens] = atMs;
              deviationMs[tokens] = atMs - (roleMs + TTFT_MS + (token - 1) * GAP_MS);
              tokens++;
            }
          },
          onResponseEnd: () => finish(true),
          onResponseError: () => finish(false),
        },
      );
    });

  const all: Promise<void>[] = [];
  const startMs = performance.now();
  for (let i = 0; i < streams; i++) {
    const dueMs = startMs + (i * STAGGER_MS) / streams;
    const waitMs = dueMs - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    all.push(one());
  }
  const deadline = setTimeout(() => {
    cut = controllers.size;
    for (const controller of controllers) controller.abort(new Error('phase deadline'));
  }, PHASE_GRACE_MS);
  await Promise.all(all);
  clearTimeout(deadline);
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - clientStartMs;
  await agent.close();

  const everyToken = Array.from(deviationMs.subarray(0, tokens));
  const window: number[] = [];
  for (let i = 0; i < tokens; i++) {
    const at = arrivalMs[i] as number;
    if (at > allOpenMs && at < firstEndMs) window.push(deviationMs[i] as number);
  }
  const report: ClientReport = {
    streams,
    completed,
    failed: failed - cut,
    cut,
    maxOpen,
    tokens,
    within2Ms: shareWithin2Ms(everyToken),
    fromRole: stats(everyToken),
    steady: { ...stats(window), tokens: window.length, within2Ms: shareWithin2Ms(window) },
    turnaround: stats(turnaround),
    clientLoopDelayP99Ms: loop.percentile(99) / 1e6,
    clientCpuShare: (cpu.user + cpu.system) / 1000 / wallMs,
  };
  process.send?.(report);
  process.disconnect?.();
}

function shareWithin2Ms(values: readonly number[]): number {
  return values.filter((d) => Math.abs(d) <= 2).length / Math.max(1, values.length);
}

function fixed(value: number): string {
  return Number.isNaN(value) ? '   n/a' : value.toFixed(1).padStart(6);
}

function stats(values: number[]): Stats {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}
