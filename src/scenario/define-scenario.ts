import type { ScenarioInput } from './schema.ts';

/**
 * Declares a scenario with full types. It returns the scenario as written: validation happens
 * when launchproof loads the file, so that every problem is listed at once with its path.
 */
export function defineScenario<const T extends ScenarioInput>(scenario: T): T {
  return scenario;
}
