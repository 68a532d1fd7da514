import { availableParallelism } from 'node:os';
import type { BenchContext, Cell, CellReport, GoalOutcome } from '../lib/cell.ts';
import type { EngineOutcome, PeerOutcome } from '../lib/jobs.ts';
import { alternate, fmt, median, ratio, spread, times } from '../lib/stats.ts';
import { INSTALL_HINT } from '../lib/targets.ts';
import { runAutocannon, runLaunchproof, runWrk } from '../lib/tools.ts';

const CONNECTIONS = 50;
const PIPELINES = [1, 10] as const;
/** The aim: launchproof at 1.3 times autocannon's throughput. */
const AIM = 1.3;

type Tool = 'launchproof' | 'autocannon' | 'wrk';

/**
 * Cell 1: closed-model throughput against nginx, 50 connections, one core for the generator.
 * launchproof runs `constant-vus` with 50 connections and 50 × pipelining virtual users (so
 * every connection has `pipelining` requests in flight, as autocannon and wrk keep them).
 */
export const throughputCell: Cell = {
  id: 'throughput',
  title: 'Throughput, closed model, 50 connections, one core',
  estimateMs: (o) => PIPELINES.length * 5 * o.runs * ((o.long ? 10 : 3) * 1_000 + 1_800),
  async run(ctx: BenchContext): Promise<CellReport> {
    const nginx = ctx.nginx;
    if (nginx === undefined) return missingNginx(this.id, this.title);
    const durationSec = ctx.options.long ? 10 : 3;
    const table: string[][] = [
      [
        'pipelining',
        'launchproof req/s',
        'autocannon req/s',
        'wrk req/s',
        'launchproof / autocannon',
        'launchproof / wrk',
      ],
    ];
    const goals: GoalOutcome[] = [];
    const runs: Record<string, unknown> = {};
    const notes: string[] = [];

    for (const pipelining of PIPELINES) {
      const tools: Array<{ key: Tool; run: () => Promise<EngineOutcome | PeerOutcome> }> = [
        {
          key: 'launchproof',
          run: () =>
            runLaunchproof(
              {
                target: nginx.url,
                load: {
                  executor: 'constant-vus',
                  vus: CONNECTIONS * pipelining,
                  duration: `${durationSec}s`,
                  gracefulStop: '5s',
                },
                request: { path: '/' },
                connections: CONNECTIONS,
                pipelining,
                ...profileOf(ctx, `throughput-p${pipelining}`),
              },
              durationSec * 1_000,
            ),
        },
        {
          key: 'autocannon',
          run: () =>
            runAutocannon({
              url: `${nginx.url}/`,
              connections: CONNECTIONS,
              pipelining,
              durationSec,
            }),
        },
      ];
      if (ctx.wrk) {
        tools.push({
          key: 'wrk',
          run: () =>
            runWrk({ url: `${nginx.url}/`, connections: CONNECTIONS, pipelining, durationSec }),
        });
      }
      const results = await alternate(ctx.options.runs, tools, (key, round, result) =>
        ctx.log(
          `  throughput p${pipelining} run ${round + 1} ${key}: ${fmt(result.ratePerSec)} req/s` +
            failuresOf(result),
        ),
      );
      const rate = (key: Tool) => (results[key] ?? []).map((r) => r.ratePerSec);
      const lp = median(rate('launchproof'));
      const ac = median(rate('autocannon'));
      const wrk = ctx.wrk ? median(rate('wrk')) : Number.NaN;
      // Ratios of medians, and the median of each round's own ratio (robust to drift).
      const roundRatio = rate('launchproof').map((v, i) =>
        ratio(v, rate('autocannon')[i] ?? Number.NaN),
      );
      table.push([
        String(pipelining),
        `${fmt(lp)} (${spread(rate('launchproof'))})`,
        `${fmt(ac)} (${spread(rate('autocannon'))})`,
        ctx.wrk ? `${fmt(wrk)} (${spread(rate('wrk'))})` : 'not installed',
        `${times(ratio(lp, ac))} (per round ${times(median(roundRatio))})`,
        ctx.wrk ? times(ratio(lp, wrk)) : 'n/a',
      ]);
      const r = ratio(lp, ac);
      goals.push({
        goal: `pipelining ${pipelining}: at least autocannon's throughput (aim ${AIM}×)`,
        met: Number.isFinite(r) ? r >= 1 : undefined,
        observed:
          `${times(r)} autocannon` +
          (r >= AIM ? ', the 1.3× aim met' : r >= 1 ? `, short of the ${AIM}× aim` : ''),
      });
      runs[`pipelining${pipelining}`] = results;
    }

    if (ctx.wrk) {
      await everyCore(ctx, nginx.url, durationSec, table, goals, runs);
    } else {
      notes.push(`wrk is not installed, so there is no ratio to it (${INSTALL_HINT}).`);
    }
    notes.push(
      'Rows 1 and 10: one core for the generator and one for nginx, each pinned with taskset. ' +
        'Rows "every core": launchproof with 2 worker threads and wrk with 2 threads, both ' +
        'unpinned, so the generator has both cores and shares one with nginx.',
    );
    return {
      id: this.id,
      title: this.title,
      setup:
        `nginx (return 200) on core 1; each tool on core 0 with ${CONNECTIONS} connections for ` +
        `${durationSec} s; ${ctx.options.runs} alternating rounds; medians (min–max).`,
      table,
      goals,
      notes,
      runs,
    };
  },
};

/** launchproof with a worker thread a core against wrk with a thread a core. */
async function everyCore(
  ctx: BenchContext,
  url: string,
  durationSec: number,
  table: string[][],
  goals: GoalOutcome[],
  runs: Record<string, unknown>,
): Promise<void> {
  const cores = availableParallelism();
  for (const pipelining of PIPELINES) {
    const results = await alternate<Tool, EngineOutcome | PeerOutcome>(
      ctx.options.runs,
      [
        {
          key: 'launchproof',
          run: () =>
            runLaunchproof(
              {
                target: url,
                load: {
                  executor: 'constant-vus',
                  vus: CONNECTIONS * pipelining,
                  duration: `${durationSec}s`,
                  gracefulStop: '5s',
                },
                request: { path: '/' },
                connections: CONNECTIONS,
                pipelining,
                workers: cores,
              },
              durationSec * 1_000,
            ),
        },
        {
          key: 'wrk',
          run: () =>
            runWrk({
              url: `${url}/`,
              connections: CONNECTIONS,
              pipelining,
              durationSec,
              threads: cores,
            }),
        },
      ],
      (key, round, result) =>
        ctx.log(
          `  throughput every core p${pipelining} run ${round + 1} ${key}: ` +
            `${fmt(result.ratePerSec)} req/s${failuresOf(result)}`,
        ),
    );
    const lpRates = results.launchproof.map((r) => r.ratePerSec);
    const wrkRates = results.wrk.map((r) => r.ratePerSec);
    const r = ratio(median(lpRates), median(wrkRates));
    table.push([
      `${pipelining}, every core`,
      `${fmt(median(lpRates))} (${spread(lpRates)})`,
      'n/a',
      `${fmt(median(wrkRates))} (${spread(wrkRates)})`,
      'n/a',
      times(r),
    ]);
    goals.push({
      goal: `every core, pipelining ${pipelining}: the ratio to wrk`,
      met: undefined,
      figure: true,
      observed: `${times(r)} wrk (${cores} workers against ${cores} wrk threads)`,
    });
    runs[`everyCorePipelining${pipelining}`] = results;
  }
}

export function profileOf(ctx: BenchContext, name: string): { profileTo?: string } {
  const path = ctx.profilePath(name);
  return path === undefined ? {} : { profileTo: path };
}

function failuresOf(result: EngineOutcome | PeerOutcome): string {
  if ('failures' in result) return result.failed > 0 ? ` (${result.failed} failed)` : '';
  const bad = result.errors + result.non2xx;
  return bad > 0 ? ` (${bad} errors or non-2xx)` : '';
}

export function missingNginx(id: string, title: string): CellReport {
  return {
    id,
    title,
    setup: 'needs nginx, which is not installed.',
    table: [],
    goals: [
      {
        goal: 'measured against nginx',
        met: undefined,
        observed: `nginx missing: ${INSTALL_HINT}`,
      },
    ],
    notes: [`nginx is not installed: ${INSTALL_HINT}`],
    runs: {},
  };
}
