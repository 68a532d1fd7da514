import { validateScenario } from '../../src/scenario/load-scenario.ts';
import type { Scenario, ScenarioInput } from '../../src/scenario/schema.ts';

/** Validates an in-test scenario the way the loader does. */
export function scenario(input: ScenarioInput): Scenario {
  return validateScenario(input, 'test scenario');
}
