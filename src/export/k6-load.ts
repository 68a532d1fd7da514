import { inFlightCap } from '../engine/flow-runtime.ts';
import type { Flow } from '../scenario/schema.ts';
import type { ExportWarning } from './export-warning.ts';

/** One entry of k6's `options.scenarios`, as plain data ready to print. */
export type K6ScenarioConfig = Record<string, unknown>;

export interface LoadMapping {
  /** The k6 scenario, without `exec` and `tags` (the caller adds those). */
  config: K6ScenarioConfig;
  /** One line for the script's header: what the load is and how k6 runs it. */
  description: string;
  /** Closed model: a virtual user waits for its answer (and thinks) before the next. */
  closed: boolean;
  warnings: ExportWarning[];
}

/**
 * Maps a flow's load shape to the k6 executor that runs it:
 * - the four k6 executors map option for option (durations written as k6 strings);
 * - a fractional rate is scaled with its time unit (0.5 per 1s is 1 per 2s), since k6 takes
 *   whole rates: the spacing stays the same;
 * - `burst` all at once becomes `per-vu-iterations` with one iteration per VU: every VU starts
 *   together and sends exactly once (a `shared-iterations` pool would let a quick VU take two);
 * - `burst` spread over a window becomes `constant-arrival-rate` with `count` per `spread` for
 *   `spread`: k6 starts iteration i at i × spread / count, our uniform spacing exactly.
 */
export function mapLoad(flow: Flow): LoadMapping {
  const load = flow.load;
  const warnings: ExportWarning[] = [];
  const common = {
    startTime: k6Duration(load.startTime),
    gracefulStop: k6Duration(load.gracefulStop),
  };
  const cap = inFlightCap(flow);
  const warn = (message: string) => warnings.push({ kind: 'load-shape', flow: flow.name, message });

  if (
    load.executor !== 'constant-vus' &&
    load.executor !== 'ramping-vus' &&
    load.spacing === 'poisson'
  ) {
    warn(
      "spacing 'poisson' becomes k6's even spacing: k6's arrival-rate executors start " +
        'iterations at regular intervals, so the seeded exponential gaps are not reproduced',
    );
  }

  switch (load.executor) {
    case 'constant-arrival-rate': {
      const scaled = wholeRates([load.rate], load.timeUnit);
      const preAllocated = load.preAllocatedVUs ?? cap;
      return {
        config: {
          executor: 'constant-arrival-rate',
          rate: scaled.rates[0],
          timeUnit: k6Duration(scaled.timeUnitMs),
          duration: k6Duration(load.duration),
          preAllocatedVUs: preAllocated,
          maxVUs: Math.max(cap, preAllocated),
          ...common,
        },
        description:
          `constant-arrival-rate ${load.rate} per ${k6Duration(load.timeUnit)} for ` +
          `${k6Duration(load.duration)} -> k6 constant-arrival-rate${scaledNote(scaled.factor)}`,
        closed: false,
        warnings,
      };
    }
    case 'ramping-arrival-rate': {
      const scaled = wholeRates(
        [load.startRate, ...load.stages.map((stage) => stage.target)],
        load.timeUnit,
      );
      const preAllocated = load.preAllocatedVUs ?? cap;
      return {
        config: {
          executor: 'ramping-arrival-rate',
          startRate: scaled.rates[0],
          timeUnit: k6Duration(scaled.timeUnitMs),
          stages: load.stages.map((stage, i) => ({
            duration: k6Duration(stage.duration),
            target: scaled.rates[i + 1],
          })),
          preAllocatedVUs: preAllocated,
          maxVUs: Math.max(cap, preAllocated),
          ...common,
        },
        description:
          `ramping-arrival-rate over ${load.stages.length} stage(s) -> k6 ramping-arrival-rate` +
          scaledNote(scaled.factor),
        closed: false,
        warnings,
      };
    }
    case 'burst': {
      const vus = Math.min(load.count, load.maxVUs ?? load.count);
      if (load.spread === 0) {
        if (vus < load.count) {
          warn(
            `burst of ${load.count} with maxVUs ${vus}: k6 sends ${vus} and counts no ` +
              `dropped_iterations, where launchproof drops the other ${load.count - vus}`,
          );
        }
        return {
          config: { executor: 'per-vu-iterations', vus, iterations: 1, ...common },
          description:
            `burst of ${load.count} at once -> k6 per-vu-iterations: ${vus} VUs x 1 iteration, ` +
            'all started together (shared-iterations could let one VU take two)',
          closed: false,
          warnings,
        };
      }
      return {
        config: {
          executor: 'constant-arrival-rate',
          rate: load.count,
          timeUnit: k6Duration(load.spread),
          duration: k6Duration(load.spread),
          preAllocatedVUs: vus,
          maxVUs: vus,
          ...common,
        },
        description:
          `burst of ${load.count} over ${k6Duration(load.spread)} -> k6 constant-arrival-rate: ` +
          `${load.count} per ${k6Duration(load.spread)} for ${k6Duration(load.spread)}, ` +
          'the same even spacing',
        closed: false,
        warnings,
      };
    }
    case 'constant-vus':
      return {
        config: {
          executor: 'constant-vus',
          vus: load.vus,
          duration: k6Duration(load.duration),
          ...common,
        },
        description: `constant-vus ${load.vus} for ${k6Duration(load.duration)} -> k6 constant-vus`,
        closed: true,
        warnings,
      };
    case 'ramping-vus': {
      const targets = load.stages.map((stage) => Math.round(stage.target));
      if (load.stages.some((stage, i) => stage.target !== targets[i])) {
        warn('fractional VU targets are rounded: k6 takes whole numbers of VUs');
      }
      return {
        config: {
          executor: 'ramping-vus',
          startVUs: load.startVUs,
          stages: load.stages.map((stage, i) => ({
            duration: k6Duration(stage.duration),
            target: targets[i],
          })),
          gracefulRampDown: k6Duration(load.gracefulRampDown),
          ...common,
        },
        description: `ramping-vus over ${load.stages.length} stage(s) -> k6 ramping-vus`,
        closed: true,
        warnings,
      };
    }
  }
}

/** Milliseconds as a k6 duration string: the largest whole unit, else milliseconds. */
export function k6Duration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * Rates made whole for k6 by scaling rate and time unit together by the smallest power of ten
 * that makes every rate an integer (up to 10^6; past that they are rounded).
 */
function wholeRates(
  rates: readonly number[],
  timeUnitMs: number,
): { rates: number[]; timeUnitMs: number; factor: number } {
  let factor = 1;
  while (factor < 1_000_000 && rates.some((rate) => !isWhole(rate * factor))) factor *= 10;
  return {
    rates: rates.map((rate) => Math.round(rate * factor)),
    timeUnitMs: timeUnitMs * factor,
    factor,
  };
}

function isWhole(value: number): boolean {
  return Math.abs(value - Math.round(value)) < 1e-9;
}

function scaledNote(factor: number): string {
  return factor === 1 ? '' : ` (rate and timeUnit scaled by ${factor}: k6 takes whole rates)`;
}
