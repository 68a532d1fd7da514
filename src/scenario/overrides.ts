import type { LoadShape, Scenario } from './schema.ts';

export interface ScenarioOverrides {
  durationMs?: number;
  /** Arrival rate per second for open-model flows (ramps are scaled to peak at it). */
  ratePerSec?: number;
  seed?: number;
}

/**
 * Applies `--duration`, `--rate` and `--seed` to a validated scenario:
 * - duration sets every constant executor's duration and scales ramp stages so the whole
 *   ramp takes that long;
 * - rate sets every constant-arrival-rate flow's rate (per second) and scales a ramping
 *   flow's stage targets so its peak is that rate; closed-model flows and bursts keep theirs.
 */
export function applyOverrides(scenario: Scenario, overrides: ScenarioOverrides): Scenario {
  return {
    ...scenario,
    seed: overrides.seed ?? scenario.seed,
    flows: scenario.flows.map((flow) => ({ ...flow, load: overrideLoad(flow.load, overrides) })),
  };
}

function overrideLoad(load: LoadShape, { durationMs, ratePerSec }: ScenarioOverrides): LoadShape {
  let out: LoadShape = load;
  if (durationMs !== undefined) {
    if (out.executor === 'constant-arrival-rate' || out.executor === 'constant-vus') {
      out = { ...out, duration: durationMs };
    } else if (out.executor === 'ramping-arrival-rate' || out.executor === 'ramping-vus') {
      const total = out.stages.reduce((sum, stage) => sum + stage.duration, 0);
      const factor = total > 0 ? durationMs / total : 1;
      out = { ...out, stages: out.stages.map((s) => ({ ...s, duration: s.duration * factor })) };
    }
  }
  if (ratePerSec !== undefined) {
    if (out.executor === 'constant-arrival-rate') {
      out = { ...out, rate: (ratePerSec * out.timeUnit) / 1_000 };
    } else if (out.executor === 'ramping-arrival-rate') {
      const peak = Math.max(out.startRate, ...out.stages.map((stage) => stage.target));
      const factor = peak > 0 ? (ratePerSec * out.timeUnit) / 1_000 / peak : 1;
      out = {
        ...out,
        startRate: out.startRate * factor,
        stages: out.stages.map((stage) => ({ ...stage, target: stage.target * factor })),
      };
    }
  }
  return out;
}
