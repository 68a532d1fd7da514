import type { BenchContext, Cell, CellReport } from '../lib/cell.ts';
import { alternate, fmt, median, ratio, spread, times } from '../lib/stats.ts';
import { runAutocannon, runLaunchproof } from '../lib/tools.ts';
import { missingNginx, profileOf } from './throughput.ts';

const RATE_PER_SEC = 2_000;
const CONNECTIONS = 50;

type Tool = 'launchproof' | 'autocannon';

/**
 * Cell 7: generator CPU per request at a fixed rate. Both tools send 2,000 req/s to nginx over
 * 50 connections; each runner reads its own process.cpuUsage() around the run alone (not
 * around start-up), divided by the requests answered.
 */
export const costCell: Cell = {
  id: 'cost',
  title: 'Generator CPU per request at 2,000 req/s',
  estimateMs: (o) => 2 * o.runs * ((o.long ? 10 : 4) * 1_000 + 2_000),
  async run(ctx: BenchContext): Promise<CellReport> {
    const nginx = ctx.nginx;
    if (nginx === undefined) return missingNginx(this.id, this.title);
    const durationSec = ctx.options.long ? 10 : 4;
    const results = await alternate<
      Tool,
      { usPerRequest: number; requests: number; ratePerSec: number }
    >(
      ctx.options.runs,
      [
        {
          key: 'launchproof',
          run: async () => {
            const r = await runLaunchproof(
              {
                target: nginx.url,
                load: {
                  executor: 'constant-arrival-rate',
                  rate: RATE_PER_SEC,
                  duration: `${durationSec}s`,
                  preAllocatedVUs: CONNECTIONS,
                  gracefulStop: '5s',
                },
                request: { path: '/' },
                connections: CONNECTIONS,
                ...profileOf(ctx, 'cost'),
              },
              durationSec * 1_000,
            );
            return {
              usPerRequest: r.cpuUs / r.requests,
              requests: r.requests,
              ratePerSec: r.ratePerSec,
            };
          },
        },
        {
          key: 'autocannon',
          run: async () => {
            const r = await runAutocannon({
              url: `${nginx.url}/`,
              connections: CONNECTIONS,
              pipelining: 1,
              durationSec,
              overallRate: RATE_PER_SEC,
            });
            return {
              usPerRequest: (r.cpuUs ?? Number.NaN) / r.requests,
              requests: r.requests,
              ratePerSec: r.ratePerSec,
            };
          },
        },
      ],
      (key, round, r) =>
        ctx.log(
          `  cost run ${round + 1} ${key}: ${fmt(r.usPerRequest, 1)} µs CPU a request ` +
            `(${fmt(r.requests)} requests, ${fmt(r.ratePerSec)} req/s)`,
        ),
    );
    const lp = results.launchproof.map((r) => r.usPerRequest);
    const ac = results.autocannon.map((r) => r.usPerRequest);
    const r = ratio(median(lp), median(ac));
    return {
      id: this.id,
      title: this.title,
      setup:
        `${fmt(RATE_PER_SEC)} req/s for ${durationSec} s against nginx over ${CONNECTIONS} ` +
        `connections (launchproof open model, autocannon overallRate); ${ctx.options.runs} ` +
        "alternating rounds; CPU = user + system of the tool's process during the run.",
      table: [
        ['tool', 'CPU µs a request', 'requests a run'],
        [
          'launchproof',
          `${fmt(median(lp), 1)} (${spread(lp, 1)})`,
          fmt(median(results.launchproof.map((x) => x.requests))),
        ],
        [
          'autocannon',
          `${fmt(median(ac), 1)} (${spread(ac, 1)})`,
          fmt(median(results.autocannon.map((x) => x.requests))),
        ],
        ['launchproof / autocannon', times(r), ''],
      ],
      goals: [
        {
          goal: 'no more CPU a request than autocannon',
          met: Number.isFinite(r) ? r <= 1 : undefined,
          observed: `${fmt(median(lp), 1)} µs against ${fmt(median(ac), 1)} µs (${times(r)})`,
        },
      ],
      notes: [],
      runs: results,
    };
  },
};
