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
  estimateMs: (o) => 2 * o.runs * ((o.long ? 10 : 6) * 1_000 + 2_000),
  async run(ctx: BenchContext): Promise<CellReport> {
    const nginx = ctx.nginx;
    if (nginx === undefined) return missingNginx(this.id, this.title);
    const durationSec = ctx.options.long ? 10 : 6;
    const results = await alternate<
      Tool,
      { usPerRequest: number; steadyUsPerRequest: number; requests: number; ratePerSec: number }
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
              steadyUsPerRequest: steady(r.cpuSecondsUs, r.ratePerSec),
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
              steadyUsPerRequest: steady(r.cpuSecondsUs, r.ratePerSec),
              requests: r.requests,
              ratePerSec: r.ratePerSec,
            };
          },
        },
      ],
      (key, round, r) =>
        ctx.log(
          `  cost run ${round + 1} ${key}: ${fmt(r.usPerRequest, 1)} µs CPU a request over the ` +
            `run, ${fmt(r.steadyUsPerRequest, 1)} in its steady seconds ` +
            `(${fmt(r.requests)} requests, ${fmt(r.ratePerSec)} req/s)`,
        ),
    );
    const lp = results.launchproof.map((r) => r.usPerRequest);
    const ac = results.autocannon.map((r) => r.usPerRequest);
    const lpSteady = results.launchproof.map((r) => r.steadyUsPerRequest);
    const acSteady = results.autocannon.map((r) => r.steadyUsPerRequest);
    const r = ratio(median(lp), median(ac));
    const rSteady = ratio(median(lpSteady), median(acSteady));
    return {
      id: this.id,
      title: this.title,
      setup:
        `${fmt(RATE_PER_SEC)} req/s for ${durationSec} s against nginx over ${CONNECTIONS} ` +
        `connections (launchproof open model, autocannon overallRate); ${ctx.options.runs} ` +
        "alternating rounds; CPU = user + system of the tool's process, over the whole run " +
        '(set-up and summary included) and over its steady seconds (each second but the first ' +
        'and the last, divided by the achieved rate).',
      table: [
        ['tool', 'CPU µs a request, whole run', 'CPU µs a request, steady', 'requests a run'],
        [
          'launchproof',
          `${fmt(median(lp), 1)} (${spread(lp, 1)})`,
          `${fmt(median(lpSteady), 1)} (${spread(lpSteady, 1)})`,
          fmt(median(results.launchproof.map((x) => x.requests))),
        ],
        [
          'autocannon',
          `${fmt(median(ac), 1)} (${spread(ac, 1)})`,
          `${fmt(median(acSteady), 1)} (${spread(acSteady, 1)})`,
          fmt(median(results.autocannon.map((x) => x.requests))),
        ],
        ['launchproof / autocannon', times(r), times(rSteady), ''],
      ],
      goals: [
        {
          goal: 'no more CPU a request than autocannon (steady seconds)',
          met: Number.isFinite(rSteady) ? rSteady <= 1 : undefined,
          observed:
            `${fmt(median(lpSteady), 1)} µs against ${fmt(median(acSteady), 1)} µs ` +
            `(${times(rSteady)}); whole runs ${fmt(median(lp), 1)} against ${fmt(median(ac), 1)} µs ` +
            `(${times(r)})`,
        },
      ],
      notes: [],
      runs: results,
    };
  },
};

/** CPU µs a request over a run's steady seconds: all but the first and the last. */
function steady(cpuSecondsUs: readonly number[], ratePerSec: number): number {
  const inner = cpuSecondsUs.slice(1, -1);
  return ratePerSec > 0 ? median(inner) / ratePerSec : Number.NaN;
}
