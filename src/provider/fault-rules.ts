import { z } from 'zod';

/**
 * What every fault rule shares: the fraction of matching calls it applies to (a seeded draw
 * per call), and an optional scope to streaming or non-streaming calls, or to one model.
 */
const scope = {
  /** Share of matching calls the fault applies to, 0..1; each call draws once per rule. */
  fraction: z.number().min(0).max(1).default(1),
  /** true: streaming calls only; false: non-streaming calls only; absent: both. */
  stream: z.boolean().optional(),
  /** Only calls that ask for this model. */
  model: z.string().min(1).optional(),
};

const afterTokens = z.number().int().min(0);

/**
 * One fault rule. Scenarios embed this schema in their fault timelines, so its field names
 * are part of the public contract. Durations are milliseconds (`…Ms`), except `retryAfterS`,
 * which is the unit of OpenAI's `retry-after` header.
 */
export const faultRuleSchema = z.discriminatedUnion('kind', [
  /** Added delay before the answer starts, `delayMs` ± a uniform `jitterMs`. */
  z.strictObject({
    kind: z.literal('latency'),
    ...scope,
    delayMs: z.number().min(0),
    jitterMs: z.number().min(0).default(0),
  }),
  /** The first token (streaming) or the whole answer (non-streaming) waits `delayMs`. */
  z.strictObject({ kind: z.literal('slow-first-token'), ...scope, delayMs: z.number().min(0) }),
  /** Tokens come at `tokensPerSec` instead of the configured pace. */
  z.strictObject({ kind: z.literal('slow-tokens'), ...scope, tokensPerSec: z.number().positive() }),
  /** Never answers: no status, no headers, until the caller gives up or the provider closes. */
  z.strictObject({ kind: z.literal('hang'), ...scope }),
  /** Never answers, then closes the connection after `afterMs` (a socket hang-up). */
  z.strictObject({ kind: z.literal('hang-then-close'), ...scope, afterMs: z.number().min(0) }),
  /** 429 with OpenAI's body, `retry-after` and `x-ratelimit-*` headers. */
  z.strictObject({
    kind: z.literal('rate-limit'),
    ...scope,
    retryAfterS: z.number().min(0).default(1),
    /** Which of OpenAI's limits was hit: requests per minute or tokens per minute. */
    limit: z.enum(['requests', 'tokens']).default('requests'),
  }),
  /** A 5xx with OpenAI's server_error body (529 is the overloaded status some providers use). */
  z.strictObject({
    kind: z.literal('server-error'),
    ...scope,
    status: z.number().int().min(500).max(599).default(500),
  }),
  /** After `afterTokens` tokens, an SSE error event, then the stream ends. */
  z.strictObject({ kind: z.literal('error-event'), ...scope, afterTokens: afterTokens.default(0) }),
  /** After `afterTokens` tokens nothing more is sent; the connection stays open. */
  z.strictObject({ kind: z.literal('stall'), ...scope, afterTokens: afterTokens.default(0) }),
  /** Resets the TCP connection after `afterTokens` tokens (0: before any header). */
  z.strictObject({ kind: z.literal('reset'), ...scope, afterTokens: afterTokens.default(0) }),
  /** After `afterTokens` tokens the body ends cleanly but without finish, usage or [DONE]. */
  z.strictObject({ kind: z.literal('truncate'), ...scope, afterTokens: afterTokens.default(0) }),
]);

/** A fault rule as given (defaults not yet applied). */
export type FaultRuleInput = z.input<typeof faultRuleSchema>;

/** A validated fault rule, defaults applied. */
export type FaultRule = z.infer<typeof faultRuleSchema>;

/** The name of each fault. */
export type FaultKind = FaultRule['kind'];

/** Every fault kind, in the order the docs list them. */
export const FAULT_KINDS: readonly FaultKind[] = faultRuleSchema.options.map(
  (option) => option.shape.kind.value,
);

/** Validates a list of fault rules (the body of `PUT /__launchproof/faults`). */
export const faultListSchema = z.strictObject({ faults: z.array(faultRuleSchema) });
