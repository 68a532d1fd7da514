/**
 * launchproof's public API: what a scenario file imports.
 * `import { defineScenario, buyerMessage } from 'launchproof'`
 */
export { buyerMessage } from './chat/buyer-message.ts';
export { defineScenario } from './scenario/define-scenario.ts';
export type {
  CheckPredicate,
  Identity,
  RequestBuilder,
  RequestContext,
  ResponseView,
  ScenarioInput,
} from './scenario/schema.ts';
export type { ThresholdsInput } from './thresholds/parse.ts';
