import { availableParallelism } from 'node:os';
import type { Scenario } from '../../scenario/schema.ts';

/** What one worker thread comfortably sends before it becomes the bottleneck. */
const RATE_PER_WORKER = 4_000;
/** Closed-model virtual users one worker drives comfortably. */
const VUS_PER_WORKER = 200;

export interface WorkerPlan {
  count: number;
  /** Why the count is lower than asked, when it is. */
  note: string | undefined;
}

/**
 * How many worker threads a run uses: as many as asked (default: one per core), capped by
 * what the plan needs and can split.
 * 1. Verifiers read every response in one process, so a scenario with any runs on one.
 * 2. An identity lives in exactly one worker, so there are never more workers than identities.
 * 3. Without an explicit count, a plan that one thread sends comfortably stays on one.
 */
export function planWorkers(
  scenario: Scenario,
  requested: number | undefined,
  hasVerifiers: boolean,
  cores = availableParallelism(),
): WorkerPlan {
  const wanted = requested ?? cores;
  if (wanted <= 1) return { count: 1, note: undefined };
  if (hasVerifiers) {
    const note =
      requested === undefined
        ? undefined
        : `ran on 1 worker, not ${wanted}: verifications read every response in one process`;
    return { count: 1, note };
  }

  const identities = scenario.flows.reduce((sum, flow) => sum + flow.identities.count, 0);
  let count = Math.min(wanted, identities);
  if (requested === undefined) count = Math.min(count, needed(scenario));
  if (count < wanted && requested !== undefined) {
    return {
      count,
      note: `ran on ${count} worker(s), not ${wanted}: the scenario has ${identities} identities and each lives in one worker`,
    };
  }
  return { count: Math.max(1, count), note: undefined };
}

/** Workers the plan needs: its peak open-model rate and its virtual users, per worker. */
function needed(scenario: Scenario): number {
  let ratePerSec = 0;
  let vus = 0;
  for (const flow of scenario.flows) {
    const load = flow.load;
    switch (load.executor) {
      case 'constant-arrival-rate':
        ratePerSec += (load.rate * 1_000) / load.timeUnit;
        break;
      case 'ramping-arrival-rate':
        ratePerSec +=
          (Math.max(load.startRate, ...load.stages.map((s) => s.target)) * 1_000) / load.timeUnit;
        break;
      case 'burst':
        ratePerSec += load.spread > 0 ? (load.count * 1_000) / load.spread : load.count;
        break;
      case 'constant-vus':
        vus += load.vus;
        break;
      case 'ramping-vus':
        vus += Math.max(load.startVUs, ...load.stages.map((s) => s.target));
        break;
    }
  }
  return Math.max(1, Math.ceil(ratePerSec / RATE_PER_WORKER), Math.ceil(vus / VUS_PER_WORKER));
}
