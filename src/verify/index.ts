import type { RunExtension } from '../engine/run-extension.ts';
import type { ProviderControl } from '../provider/index.ts';
import type { Scenario } from '../scenario/schema.ts';
import { providerSeriesExtensions } from './provider-series.ts';
import { rateLimitAndCostExtensions } from './rate-limit-factory.ts';
import { resilienceExtensions } from './resilience.ts';

/** What the verifiers may reach besides the target itself. */
export interface VerifyEnvironment {
  /** The target's origin. */
  target: string;
  /**
   * The mock provider's control client: the embedded demo's own, or the one `--provider URL`
   * names. Absent when no mock provider is in the path.
   */
  provider: ProviderControl | undefined;
  /** The embedded demo's settings in force, when the run started it. */
  demo: { flaws: readonly string[]; config: Readonly<Record<string, unknown>> } | undefined;
}

type ExtensionFactory = (scenario: Scenario, env: VerifyEnvironment) => RunExtension[];

/**
 * Every part that turns a scenario's declarations into run extensions (fault timelines,
 * rate-limit, fallback and cost verifiers). Each factory returns nothing when its part of the
 * scenario is absent.
 */
const FACTORIES: ExtensionFactory[] = [
  rateLimitAndCostExtensions,
  resilienceExtensions,
  providerSeriesExtensions,
];

export function extensionsFor(scenario: Scenario, env: VerifyEnvironment): RunExtension[] {
  return FACTORIES.flatMap((factory) => factory(scenario, env));
}
