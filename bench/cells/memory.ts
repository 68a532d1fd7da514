import type { BenchContext, Cell, CellReport, GoalOutcome } from '../lib/cell.ts';
import type { EngineOutcome } from '../lib/jobs.ts';
import { fmt } from '../lib/stats.ts';
import { runLaunchproof } from '../lib/tools.ts';
import { missingNginx, profileOf } from './throughput.ts';

const RATE_PER_SEC = 2_000;
const GROWTH_GOAL = 0.1;
const SAMPLE_EVERY_MS = 5_000;

/**
 * Cell 5: flat memory. Open-model runs at 2,000 req/s against nginx, sampled every 5 s; the
 * figure is the growth from the early mark (1 min in the long variant, 25 s by default) to
 * the end (10 min long, 75 s by default).
 * 1. The first run reads RSS alone, as a user's `top` would.
 * 2. The second forces a full collection at each mark and reads the live heap too: RSS also
 *    counts garbage V8 has not collected yet, so only the live heap tells a leak from a heap
 *    that is still growing to its working size.
 */
export const memoryCell: Cell = {
  id: 'memory',
  title: 'Flat memory at 2,000 req/s',
  estimateMs: (o) => 2 * ((o.long ? 600_000 : 75_000) + 5_000),
  async run(ctx: BenchContext): Promise<CellReport> {
    const nginx = ctx.nginx;
    if (nginx === undefined) return missingNginx(this.id, this.title);
    const durationMs = ctx.options.long ? 600_000 : 75_000;
    const earlyMs = ctx.options.long ? 60_000 : 25_000;
    const marks: number[] = [];
    for (let at = SAMPLE_EVERY_MS; at < durationMs; at += SAMPLE_EVERY_MS) marks.push(at);
    const run = (gcAtMarks: boolean): Promise<EngineOutcome> => {
      ctx.log(
        `  memory: ${durationMs / 1_000} s at ${RATE_PER_SEC} req/s` +
          (gcAtMarks ? ', full collection at each mark…' : '…'),
      );
      return runLaunchproof(
        {
          target: nginx.url,
          load: {
            executor: 'constant-arrival-rate',
            rate: RATE_PER_SEC,
            duration: durationMs,
            preAllocatedVUs: 100,
            gracefulStop: '5s',
          },
          request: { path: '/' },
          rssAtMs: marks,
          gcAtMarks,
          ...profileOf(ctx, 'memory'),
        },
        durationMs,
      );
    };
    const plain = await run(false);
    const collected = await run(true);

    const at = (result: EngineOutcome, ms: number) =>
      result.rss.find((s) => s.atMs >= ms) ?? result.rss[0];
    const last = (result: EngineOutcome) =>
      result.rss.filter((s) => s.atMs < durationMs + 1).at(-1) ?? result.rss.at(-1);
    const mb = (bytes: number | undefined) => fmt((bytes ?? Number.NaN) / 1_048_576, 1);
    const growth = (a: number | undefined, b: number | undefined) =>
      a !== undefined && b !== undefined ? b / a - 1 : Number.NaN;

    const rssEarly = at(plain, earlyMs)?.bytes;
    const rssLate = last(plain)?.bytes;
    const rssGrowth = growth(rssEarly, rssLate);
    const heapMarks = collected.rss.filter((s) => s.liveHeapBytes !== undefined);
    const heapEarly = heapMarks.find((s) => s.atMs >= earlyMs)?.liveHeapBytes;
    const heapLate = heapMarks.at(-1)?.liveHeapBytes;
    const heapGrowth = growth(heapEarly, heapLate);
    ctx.log(
      `  memory: RSS ${mb(rssEarly)} → ${mb(rssLate)} MiB (${fmt(rssGrowth * 100, 1)}%); ` +
        `live heap ${mb(heapEarly)} → ${mb(heapLate)} MiB (${fmt(heapGrowth * 100, 1)}%)`,
    );

    const table = [['at', 'RSS MiB', 'RSS MiB, collected at marks', 'live heap MiB']];
    for (const sample of plain.rss) {
      if (Math.round(sample.atMs / SAMPLE_EVERY_MS) % 3 !== 0 && sample !== last(plain)) continue;
      const twin = collected.rss.find((s) => Math.abs(s.atMs - sample.atMs) < 1_000);
      table.push([
        `${fmt(sample.atMs / 1_000)} s`,
        mb(sample.bytes),
        mb(twin?.bytes),
        mb(twin?.liveHeapBytes),
      ]);
    }
    const goals: GoalOutcome[] = [
      {
        goal: `RSS at ${earlyMs / 1_000} s and at ${durationMs / 1_000} s differ by under 10%`,
        met: Number.isFinite(rssGrowth) ? Math.abs(rssGrowth) < GROWTH_GOAL : undefined,
        observed:
          `${mb(rssEarly)} → ${mb(rssLate)} MiB (${fmt(rssGrowth * 100, 1)}%), ` +
          `${fmt(plain.requests)} requests`,
      },
      {
        goal: `live heap (after a full collection) at ${earlyMs / 1_000} s and at the end differ by under 10%`,
        met: Number.isFinite(heapGrowth) ? Math.abs(heapGrowth) < GROWTH_GOAL : undefined,
        observed: `${mb(heapEarly)} → ${mb(heapLate)} MiB (${fmt(heapGrowth * 100, 1)}%)`,
      },
    ];
    return {
      id: this.id,
      title: this.title,
      setup:
        `launchproof constant-arrival-rate ${fmt(RATE_PER_SEC)} req/s against nginx for ` +
        `${durationMs / 1_000} s, twice: RSS as it is, then with a full collection at each ` +
        `${SAMPLE_EVERY_MS / 1_000} s mark. One run each: memory growth is a property of the ` +
        "process, not of the host's noise." +
        (ctx.options.long ? '' : " The issue's 1 min vs 10 min is `npm run bench -- --long`."),
      table,
      goals,
      notes: [],
      runs: {
        rss: plain.rss,
        collected: collected.rss,
        requests: [plain.requests, collected.requests],
      },
    };
  },
};
