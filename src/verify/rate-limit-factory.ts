import type { RunExtension } from '../engine/run-extension.ts';
import type { Scenario } from '../scenario/schema.ts';
import { CostExposure } from './cost-exposure.ts';
import type { VerifyEnvironment } from './index.ts';
import { RateLimitVerifier } from './rate-limit-verifier.ts';

/**
 * The extensions of a scenario's `rateLimit` and `cost`: the rate-limit verifier, then the
 * cost verifier, which reads whether each limit held (so it must finish second). The cost
 * verifier prices the embedded demo's model when the scenario names none.
 */
export function rateLimitAndCostExtensions(
  scenario: Scenario,
  env: VerifyEnvironment,
): RunExtension[] {
  const extensions: RunExtension[] = [];
  const verifier = scenario.rateLimit === undefined ? undefined : new RateLimitVerifier(scenario);
  if (verifier !== undefined) extensions.push(verifier);
  if (scenario.cost !== undefined) {
    const model = env.demo?.config.model;
    extensions.push(
      new CostExposure(
        scenario,
        env.provider,
        () => verifier?.outcomes ?? [],
        typeof model === 'string' ? model : undefined,
      ),
    );
  }
  return extensions;
}
