/**
 * The demo chatbot target: a small, realistic chat API (fastify, @fastify/rate-limit,
 * @fastify/cors, the `openai` SDK, an opossum breaker, zod) whose every safeguard has a
 * flaw switch that breaks it, so each check of the suite can be shown to fail.
 */
export { type DemoHandle, startDemo } from './demo-server.ts';
export { type DemoStack, type DemoStackOptions, startDemoStack } from './demo-stack.ts';
export {
  FALLBACK_EVENT,
  FALLBACK_HEADER,
  FALLBACK_REASONS,
  type FallbackContact,
  type FallbackPart,
  type FallbackReason,
} from './fallback.ts';
export { DEMO_FLAW_DESCRIPTIONS, DEMO_FLAWS, type DemoFlaw, isDemoFlaw } from './flaws.ts';
export { REDACTED } from './log-options.ts';
export {
  type DemoLogStream,
  type DemoOptions,
  demoOptionsSchema,
  type ResolvedDemoConfig,
} from './options.ts';
export { SESSION_COOKIE } from './session-token.ts';
export { UI_MESSAGE_STREAM_HEADERS } from './ui-message-stream.ts';
