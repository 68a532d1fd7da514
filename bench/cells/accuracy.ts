import type { BenchContext, Cell, CellReport, GoalOutcome } from '../lib/cell.ts';
import { alternate, fmt, median, spread } from '../lib/stats.ts';
import {
  readServiceStats,
  resetServiceStats,
  type ServiceStats,
  startNodeTarget,
} from '../lib/targets.ts';
import { runAutocannon, runLaunchproof } from '../lib/tools.ts';
import { profileOf } from './throughput.ts';

const DELAY_MS = 20;
const RATE_PER_SEC = 200;
/** The engine's accuracy test's bound (test/engine/measuring.test.ts): p50 within 2 ms. */
const ERROR_GOAL_US = 2_000;

type Tool = 'launchproof' | 'autocannon';

interface AccuracyRun {
  tool: Tool;
  p50Ms: number;
  p99Ms: number;
  server: ServiceStats;
  /** Tool's figure minus the server's own timing of its answers, µs. */
  p50ErrorUs: number;
  p99ErrorUs: number;
}

/**
 * Cell 4: accuracy at rest. A node:http target answers after a fixed 20 ms and times each of
 * its own answers (arrival to end of response, on its clock); each tool's p50 and p99 are
 * compared with the server's. What is left is the tool's error plus loopback transit (tens of
 * µs), which is real latency but small.
 */
export const accuracyCell: Cell = {
  id: 'accuracy',
  title: 'Accuracy at rest, fixed 20 ms server',
  estimateMs: (o) => 2 * o.runs * ((o.long ? 10 : 3) * 1_000 + 2_000),
  async run(ctx: BenchContext): Promise<CellReport> {
    const durationSec = ctx.options.long ? 10 : 3;
    const target = await startNodeTarget({ delayMs: DELAY_MS });
    const measured = async (tool: Tool, run: () => Promise<{ p50: number; p99: number }>) => {
      await resetServiceStats(target);
      const figures = await run();
      const server = await readServiceStats(target);
      return {
        tool,
        p50Ms: figures.p50,
        p99Ms: figures.p99,
        server,
        p50ErrorUs: figures.p50 * 1_000 - server.p50Us,
        p99ErrorUs: figures.p99 * 1_000 - server.p99Us,
      } satisfies AccuracyRun;
    };
    let results: Record<Tool, AccuracyRun[]>;
    try {
      results = await alternate(
        ctx.options.runs,
        [
          {
            key: 'launchproof' as const,
            run: () =>
              measured('launchproof', async () => {
                const r = await runLaunchproof(
                  {
                    target: target.url,
                    load: {
                      executor: 'constant-arrival-rate',
                      rate: RATE_PER_SEC,
                      duration: `${durationSec}s`,
                      preAllocatedVUs: 50,
                      gracefulStop: '5s',
                    },
                    request: { path: '/' },
                    ...profileOf(ctx, 'accuracy'),
                  },
                  durationSec * 1_000,
                );
                return { p50: r.latency?.p50 ?? Number.NaN, p99: r.latency?.p99 ?? Number.NaN };
              }),
          },
          {
            key: 'autocannon' as const,
            run: () =>
              measured('autocannon', async () => {
                const r = await runAutocannon({
                  url: `${target.url}/`,
                  connections: 20,
                  pipelining: 1,
                  durationSec,
                  overallRate: RATE_PER_SEC,
                });
                return { p50: r.latency.p50, p99: r.latency.p99 };
              }),
          },
        ],
        (key, round, r) =>
          ctx.log(
            `  accuracy run ${round + 1} ${key}: p50 ${fmt(r.p50Ms, 3)} ms, p99 ${fmt(r.p99Ms, 3)} ms; ` +
              `server p50 ${fmt(r.server.p50Us / 1_000, 3)} ms, p99 ${fmt(r.server.p99Us / 1_000, 3)} ms`,
          ),
      );
    } finally {
      await target.stop();
    }

    const table: string[][] = [
      [
        'tool',
        'p50 ms',
        'p99 ms',
        'server p50 ms',
        'server p99 ms',
        'p50 error µs',
        'p99 error µs',
      ],
    ];
    const goals: GoalOutcome[] = [];
    for (const tool of ['launchproof', 'autocannon'] as const) {
      const runs = results[tool];
      const p50Error = runs.map((r) => r.p50ErrorUs);
      const p99Error = runs.map((r) => r.p99ErrorUs);
      table.push([
        tool,
        fmt(median(runs.map((r) => r.p50Ms)), 3),
        fmt(median(runs.map((r) => r.p99Ms)), 3),
        fmt(median(runs.map((r) => r.server.p50Us / 1_000)), 3),
        fmt(median(runs.map((r) => r.server.p99Us / 1_000)), 3),
        `${fmt(median(p50Error))} (${spread(p50Error)})`,
        `${fmt(median(p99Error))} (${spread(p99Error)})`,
      ]);
      if (tool === 'launchproof') {
        goals.push({
          goal: `launchproof's p50 within ${fmt(ERROR_GOAL_US)} µs of the server's own timing`,
          met: Math.abs(median(p50Error)) <= ERROR_GOAL_US,
          observed: `p50 error ${fmt(median(p50Error))} µs, p99 error ${fmt(median(p99Error))} µs`,
        });
      }
    }
    return {
      id: this.id,
      title: this.title,
      setup:
        `node:http target answering after ${DELAY_MS} ms on core 1, timing its own answers; ` +
        `${RATE_PER_SEC} req/s for ${durationSec} s from each tool (launchproof open model, ` +
        `autocannon overallRate over 20 connections); ${ctx.options.runs} alternating rounds.`,
      table,
      goals,
      notes: [
        "Error = the tool's percentile minus the same percentile of the server's own timings: " +
          "it includes loopback transit and the tool's own reading of the response.",
      ],
      runs: results,
    };
  },
};
