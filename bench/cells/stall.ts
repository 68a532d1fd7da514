import type { BenchContext, Cell, CellReport, GoalOutcome } from '../lib/cell.ts';
import type { EngineOutcome, PeerOutcome } from '../lib/jobs.ts';
import type { Daemon } from '../lib/process.ts';
import { alternate, fmt, median, spread } from '../lib/stats.ts';
import { readServedCount, resetServiceStats, startNodeTarget } from '../lib/targets.ts';
import { runAutocannon, runLaunchproof, runWrk } from '../lib/tools.ts';
import { profileOf } from './throughput.ts';

const RATE_PER_SEC = 500;
const STALL_MS = 1_000;
/** Connections the closed-model peers pace their 500 req/s over. */
const PEER_CONNECTIONS = 10;
/** launchproof's in-flight cap: the stall's 500 sends plus room, so none is dropped. */
const LP_CAP = 1_500;
/** How close to the true p99 launchproof's must be to count as telling the truth. */
const TRUTH_TOLERANCE = 0.05;

type Tool = 'launchproof' | 'autocannon' | 'wrk';

interface StallRun {
  tool: Tool;
  p99Ms: number;
  maxMs: number;
  requests: number;
  /** The pause as it happened: SIGSTOP to SIGCONT, ms. */
  stallMs: number;
  /** When it began, ms after the target answered its first request of the run. */
  stallAtMs: number;
  truth: { p99Ms: number; maxMs: number };
}

/**
 * Cell 3: truth under a stall. A node:http target (immediate answers) is paused with SIGSTOP
 * for 1 s in the middle of each run at 500 req/s, then resumed. The true figure is computed
 * from the plan: request i is due at i × 2 ms; one due inside the pause [a, a + S) is answered
 * at a + S, so its latency is a + S − due; every other one is answered at once. launchproof's
 * `latency` is measured from the intended send, so it should match; closed-model tools stop
 * sending while the target is paused and so record only the few requests that were in flight.
 */
export const stallCell: Cell = {
  id: 'stall',
  title: 'Truth under a stall (SIGSTOP 1 s at 500 req/s)',
  estimateMs: (o) => 3 * o.runs * ((o.long ? 10 : 6) * 1_000 + 2_500),
  async run(ctx: BenchContext): Promise<CellReport> {
    const durationSec = ctx.options.long ? 10 : 6;
    const target = await startNodeTarget({ delayMs: 0 });
    const tools: Array<{ key: Tool; run: () => Promise<StallRun> }> = [
      {
        key: 'launchproof',
        run: () =>
          stalled(target, durationSec, 'launchproof', async () => {
            const r: EngineOutcome = await runLaunchproof(
              {
                target: target.url,
                load: {
                  executor: 'constant-arrival-rate',
                  rate: RATE_PER_SEC,
                  duration: `${durationSec}s`,
                  preAllocatedVUs: LP_CAP,
                  gracefulStop: '5s',
                },
                request: { path: '/' },
                ...profileOf(ctx, 'stall'),
              },
              durationSec * 1_000,
            );
            return {
              p99: r.latency?.p99 ?? Number.NaN,
              max: r.latency?.max ?? Number.NaN,
              requests: r.requests,
            };
          }),
      },
      {
        key: 'autocannon',
        run: () =>
          stalled(target, durationSec, 'autocannon', async () => {
            const r: PeerOutcome = await runAutocannon({
              url: `${target.url}/`,
              connections: PEER_CONNECTIONS,
              pipelining: 1,
              durationSec,
              overallRate: RATE_PER_SEC,
            });
            return { p99: r.latency.p99, max: r.latency.max, requests: r.requests };
          }),
      },
    ];
    if (ctx.wrk) {
      tools.push({
        key: 'wrk',
        run: () =>
          stalled(target, durationSec, 'wrk', async () => {
            // wrk has no rate: each of 10 connections waits 20 ms before each request.
            const r = await runWrk({
              url: `${target.url}/`,
              connections: PEER_CONNECTIONS,
              pipelining: 1,
              durationSec,
              delayMs: (PEER_CONNECTIONS * 1_000) / RATE_PER_SEC,
            });
            return { p99: r.latency.p99, max: r.latency.max, requests: r.requests };
          }),
      });
    }

    let results: Record<Tool, StallRun[]>;
    try {
      results = await alternate(ctx.options.runs, tools, (key, round, r) =>
        ctx.log(
          `  stall run ${round + 1} ${key}: p99 ${fmt(r.p99Ms, 1)} ms, max ${fmt(r.maxMs, 1)} ms ` +
            `(true ${fmt(r.truth.p99Ms, 1)} / ${fmt(r.truth.maxMs, 1)}), pause ${fmt(r.stallMs)} ms ` +
            `at ${fmt(r.stallAtMs)} ms, ${fmt(r.requests)} requests`,
        ),
      );
    } finally {
      await target.stop();
    }

    const table: string[][] = [
      ['tool', 'reported p99 ms', 'reported max ms', 'true p99 ms', 'true max ms', 'p99 / true'],
    ];
    const goals: GoalOutcome[] = [];
    for (const tool of tools) {
      const runs = results[tool.key];
      const p99 = median(runs.map((r) => r.p99Ms));
      const truthP99 = median(runs.map((r) => r.truth.p99Ms));
      table.push([
        tool.key,
        `${fmt(p99, 1)} (${spread(
          runs.map((r) => r.p99Ms),
          1,
        )})`,
        fmt(median(runs.map((r) => r.maxMs)), 1),
        fmt(truthP99, 1),
        fmt(median(runs.map((r) => r.truth.maxMs)), 1),
        `${fmt(p99 / truthP99, 2)}`,
      ]);
      if (tool.key === 'launchproof') {
        const error = Math.abs(p99 / truthP99 - 1);
        goals.push({
          goal: `launchproof's latency p99 within ${TRUTH_TOLERANCE * 100}% of the true p99`,
          met: Number.isFinite(error) ? error <= TRUTH_TOLERANCE : undefined,
          observed: `${fmt(p99, 1)} ms against ${fmt(truthP99, 1)} ms (${fmt(error * 100, 1)}% off)`,
        });
      }
    }
    return {
      id: this.id,
      title: this.title,
      setup:
        `node:http target (immediate answers) on core 1, paused with SIGSTOP for ${STALL_MS} ms ` +
        `halfway through each ${durationSec} s run at ${RATE_PER_SEC} req/s; autocannon paced ` +
        `with overallRate over ${PEER_CONNECTIONS} connections, wrk with a 20 ms delay() on ` +
        `${PEER_CONNECTIONS} connections; ${ctx.options.runs} alternating rounds; medians (min–max).`,
      table,
      goals,
      notes: [
        "The true figure is each tool's own plan of 500 req/s, with the pause as measured. " +
          'Closed-model peers send nothing while the target is paused, so the requests a user ' +
          'would have sent then never appear in their figures (coordinated omission).',
      ],
      runs: results,
    };
  },
};

/**
 * Runs one tool while pausing the target halfway through its traffic: waits for the target
 * to answer its first request of the run, sleeps to the middle, SIGSTOPs it for STALL_MS.
 */
async function stalled(
  target: Daemon,
  durationSec: number,
  tool: Tool,
  run: () => Promise<{ p99: number; max: number; requests: number }>,
): Promise<StallRun> {
  await resetServiceStats(target);
  let stallMs = Number.NaN;
  let stallAtMs = Number.NaN;
  let cancelled = false;
  const pauser = (async () => {
    const deadline = performance.now() + 30_000;
    while (!cancelled && performance.now() < deadline) {
      if ((await readServedCount(target)) > 0) break;
      await sleep(20);
    }
    if (cancelled) return;
    const firstMs = performance.now();
    await sleep((durationSec * 1_000 - STALL_MS) / 2);
    if (cancelled) return;
    const stopAt = performance.now();
    process.kill(target.pid, 'SIGSTOP');
    await sleep(STALL_MS);
    process.kill(target.pid, 'SIGCONT');
    stallMs = performance.now() - stopAt;
    stallAtMs = stopAt - firstMs;
  })();
  try {
    const figures = await run();
    await pauser;
    return {
      tool,
      p99Ms: figures.p99,
      maxMs: figures.max,
      requests: figures.requests,
      stallMs,
      stallAtMs,
      truth: trueFigures(durationSec * 1_000, stallAtMs, stallMs),
    };
  } finally {
    cancelled = true;
    process.kill(target.pid, 'SIGCONT');
  }
}

/**
 * The latency every request of the plan would have had, as a user sees it:
 * 1. request i is due at i × (1000 / rate) ms, for the run's length;
 * 2. one due inside the pause [a, a + S) waits to a + S: latency a + S − due;
 * 3. any other is answered at once (0 ms; the target's service time is far below 1 ms);
 * 4. p99 is the value at rank ⌈0.99 N⌉ of the sorted latencies, as an HDR histogram reads it.
 */
export function trueFigures(
  durationMs: number,
  stallAtMs: number,
  stallMs: number,
): { p99Ms: number; maxMs: number } {
  if (!Number.isFinite(stallAtMs) || !Number.isFinite(stallMs)) {
    return { p99Ms: Number.NaN, maxMs: Number.NaN };
  }
  const gapMs = 1_000 / RATE_PER_SEC;
  const count = Math.ceil(durationMs / gapMs);
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const due = i * gapMs;
    latencies.push(due >= stallAtMs && due < stallAtMs + stallMs ? stallAtMs + stallMs - due : 0);
  }
  latencies.sort((a, b) => a - b);
  const rank = Math.ceil(0.99 * count) - 1;
  return { p99Ms: latencies[rank] ?? Number.NaN, maxMs: latencies[count - 1] ?? Number.NaN };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
