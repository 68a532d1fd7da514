import type { BenchContext, Cell, CellReport, GoalOutcome } from '../lib/cell.ts';
import type { EngineOutcome } from '../lib/jobs.ts';
import { fmt, median, spread } from '../lib/stats.ts';
import { startNodeTarget } from '../lib/targets.ts';
import { runLaunchproof } from '../lib/tools.ts';
import { profileOf } from './throughput.ts';

const RATES = [1_000, 5_000, 10_000] as const;
const SERVER_DELAY_MS = 50;
const SHARE_GOAL = 0.99;
const SEND_LAG_GOAL_MS = 2;

/**
 * Cell 2: the open model against a 50 ms server. Each run plans `rate × duration` sends and
 * the in-flight cap is twice what the rate needs (rate × 50 ms × 2), so drops mean the
 * generator, not the cap, fell short. Achieved share is sent over planned; send lag is the
 * engine's own (dispatch minus intended, every send).
 */
export const fidelityCell: Cell = {
  id: 'fidelity',
  title: 'Schedule fidelity, open model, 50 ms server',
  estimateMs: (o) => RATES.length * o.runs * ((o.long ? 10 : 3) * 1_000 + 2_500),
  async run(ctx: BenchContext): Promise<CellReport> {
    const durationSec = ctx.options.long ? 10 : 3;
    const target = await startNodeTarget({ delayMs: SERVER_DELAY_MS });
    const table: string[][] = [
      [
        'planned req/s',
        'achieved share',
        'achieved req/s',
        'send lag p99 ms',
        'dropped',
        'latency p99 ms',
        'CPU % of a core',
        'preempted a s',
        'generator',
      ],
    ];
    const goals: GoalOutcome[] = [];
    const runs: Record<string, EngineOutcome[]> = {};
    try {
      for (const rate of RATES) {
        const cap = Math.ceil(rate * (SERVER_DELAY_MS / 1_000) * 2) + 50;
        const results: EngineOutcome[] = [];
        for (let i = 0; i < ctx.options.runs; i++) {
          const result = await runLaunchproof(
            {
              target: target.url,
              load: {
                executor: 'constant-arrival-rate',
                rate,
                duration: `${durationSec}s`,
                preAllocatedVUs: cap,
                gracefulStop: '5s',
              },
              request: { path: '/' },
              ...profileOf(ctx, `fidelity-${rate}`),
            },
            durationSec * 1_000,
          );
          results.push(result);
          ctx.log(
            `  fidelity ${rate}/s run ${i + 1}: sent ${result.generator.sent} of ` +
              `${result.generator.planned}, send lag p99 ${fmt(result.generator.sendLagP99Ms, 2)} ms, ` +
              `dropped ${result.generator.dropped}` +
              (result.generator.saturated
                ? ` (saturated: ${result.generator.reasons.join('; ')})`
                : ''),
          );
        }
        runs[String(rate)] = results;
        const share = results.map((r) => r.generator.sent / Math.max(1, r.generator.planned));
        const lag = results.map((r) => r.generator.sendLagP99Ms);
        const dropped = results.map((r) => r.generator.dropped);
        const achieved = share.map((s) => s * rate);
        const saturated = results.filter((r) => r.generator.saturated).length;
        table.push([
          fmt(rate),
          `${fmt(median(share) * 100, 2)}%`,
          fmt(median(achieved)),
          `${fmt(median(lag), 2)} (${spread(lag, 2)})`,
          `${fmt(median(dropped))} (${spread(dropped)})`,
          fmt(median(results.map((r) => r.latency?.p99 ?? Number.NaN)), 1),
          fmt(median(results.map((r) => r.generator.cpuPercent))),
          fmt(median(results.map((r) => r.involuntaryContextSwitches / (r.durationMs / 1_000)))),
          saturated === 0 ? 'healthy' : `saturated in ${saturated} of ${results.length}`,
        ]);
        const lagOk = median(lag) < SEND_LAG_GOAL_MS;
        const shareOk = median(share) >= SHARE_GOAL;
        const dropsOk = median(dropped) === 0;
        goals.push({
          goal: `${fmt(rate)} req/s: within 1% of plan, send lag p99 under 2 ms, no drops`,
          met: lagOk && shareOk && dropsOk,
          observed:
            `${fmt(median(share) * 100, 2)}% of plan, send lag p99 ${fmt(median(lag), 2)} ms, ` +
            `${fmt(median(dropped))} dropped`,
        });
      }
    } finally {
      await target.stop();
    }
    return {
      id: this.id,
      title: this.title,
      setup:
        `node:http target answering after ${SERVER_DELAY_MS} ms on core 1; launchproof ` +
        `constant-arrival-rate for ${durationSec} s on core 0, in-flight cap twice the need; ` +
        `${ctx.options.runs} runs a rate; medians (min–max).`,
      table,
      goals,
      notes: [
        'No peer here: neither autocannon nor wrk has an open model (wrk2 has, and is not in Debian).',
        '"Preempted a s": involuntary context switches of the generator process a second, the ' +
          'times the kernel gave core 0 to another thread (its own GC helpers, the tsx loader) ' +
          'or another process; pinning gives the generator a core, not the core to itself.',
      ],
      runs,
    };
  },
};
