import type { BenchContext, Cell, CellReport } from '../lib/cell.ts';
import { fmt } from '../lib/stats.ts';
import { runLaunchproof } from '../lib/tools.ts';
import { missingNginx, profileOf } from './throughput.ts';

const RATE_PER_SEC = 2_000;
const GROWTH_GOAL = 0.1;
const SAMPLE_EVERY_MS = 5_000;

/**
 * Cell 5: flat memory. One long open-model run at 2,000 req/s against nginx, its RSS sampled
 * every 5 s; the figure is the growth from the early mark (1 min in the long variant, 30 s
 * by default) to the end (10 min long, 90 s by default).
 */
export const memoryCell: Cell = {
  id: 'memory',
  title: 'Flat memory at 2,000 req/s',
  estimateMs: (o) => (o.long ? 600_000 : 90_000) + 5_000,
  async run(ctx: BenchContext): Promise<CellReport> {
    const nginx = ctx.nginx;
    if (nginx === undefined) return missingNginx(this.id, this.title);
    const durationMs = ctx.options.long ? 600_000 : 90_000;
    const earlyMs = ctx.options.long ? 60_000 : 30_000;
    const marks: number[] = [];
    for (let at = SAMPLE_EVERY_MS; at < durationMs; at += SAMPLE_EVERY_MS) marks.push(at);
    ctx.log(`  memory: one run of ${durationMs / 1_000} s at ${RATE_PER_SEC} req/s…`);
    const result = await runLaunchproof(
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
        ...profileOf(ctx, 'memory'),
      },
      durationMs,
    );
    const early = result.rss.find((s) => s.atMs >= earlyMs) ?? result.rss[0];
    const late = result.rss[result.rss.length - 1];
    const growth = early && late ? late.bytes / early.bytes - 1 : Number.NaN;
    const mb = (bytes: number | undefined) => fmt((bytes ?? Number.NaN) / 1_048_576, 1);
    const table = [
      ['at', 'RSS MiB'],
      ...result.rss
        .filter((s, i) => i % 2 === 1 || s === early || s === late)
        .map((s) => [`${fmt(s.atMs / 1_000)} s`, mb(s.bytes)]),
    ];
    ctx.log(
      `  memory: RSS ${mb(early?.bytes)} MiB at ${fmt((early?.atMs ?? 0) / 1_000)} s, ` +
        `${mb(late?.bytes)} MiB at ${fmt((late?.atMs ?? 0) / 1_000)} s (${fmt(growth * 100, 1)}%)`,
    );
    return {
      id: this.id,
      title: this.title,
      setup:
        `launchproof constant-arrival-rate ${fmt(RATE_PER_SEC)} req/s against nginx for ` +
        `${durationMs / 1_000} s, RSS sampled every ${SAMPLE_EVERY_MS / 1_000} s. One run: memory ` +
        "growth is a property of the process, not of the host's noise." +
        (ctx.options.long ? '' : " The issue's 1 min vs 10 min is `npm run bench -- --long`."),
      table,
      goals: [
        {
          goal: `RSS at ${earlyMs / 1_000} s and at ${durationMs / 1_000} s differ by under 10%`,
          met: Number.isFinite(growth) ? Math.abs(growth) < GROWTH_GOAL : undefined,
          observed:
            `${mb(early?.bytes)} → ${mb(late?.bytes)} MiB (${fmt(growth * 100, 1)}%), ` +
            `${fmt(result.requests)} requests, ${result.generator.dropped} dropped`,
        },
      ],
      notes: [],
      runs: { rss: result.rss, requests: result.requests, generator: result.generator },
    };
  },
};
