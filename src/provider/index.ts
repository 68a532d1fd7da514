/**
 * The mock LLM provider and fault proxy: an OpenAI-compatible server with seeded timing,
 * switchable faults, call and token counters, and a control API for other processes.
 */
export type { ProviderCounters } from './counters.ts';
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultRule,
  type FaultRuleInput,
  faultListSchema,
  faultRuleSchema,
} from './fault-rules.ts';
export { TOKEN_CHANNEL } from './mock-completion.ts';
export { ProviderControl } from './provider-control.ts';
export {
  DEFAULT_MODELS,
  type Distribution,
  distributionSchema,
  type ProviderOptions,
  providerOptionsSchema,
  type ResolvedProviderOptions,
} from './provider-options.ts';
export { type ProviderHandle, startProvider } from './provider-server.ts';
