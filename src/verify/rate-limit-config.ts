import { z } from 'zod';
import { isDuration, parseDurationMs } from '../util/duration.ts';

// Durations are parsed here rather than with the scenario schema's own, which imports this
// file: a cycle between the two modules would leave one half-initialised.
const duration = z
  .union([z.string(), z.number()])
  .refine(isDuration, { message: "expected a duration such as '500ms', '30s' or '2m'" })
  .transform((value) => parseDurationMs(value))
  .refine((ms) => ms > 0, { message: 'expected a duration longer than 0s' });

const flowName = z.string().min(1);

/** What a limiter counts by: the client's real address, its session, or its API/widget key. */
export const RATE_LIMIT_KEYS = ['ip', 'session', 'key'] as const;
export type RateLimitKey = (typeof RATE_LIMIT_KEYS)[number];

/**
 * One rate limit the target promises, and the flows that test it. `limit` and `window` may be
 * left out: they are then discovered from the target's RateLimit headers (and said to be).
 */
export const rateLimitDeclarationSchema = z
  .object({
    /** Names the verifications (`rate-limit ip: trip point`); defaults to the key. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'expected lowercase letters, digits, _ or -' })
      .optional(),
    /** Requests allowed per window; request `limit + 1` in a window is the first 429. */
    limit: z.number().int().positive().optional(),
    window: duration.optional(),
    key: z.enum(RATE_LIMIT_KEYS).default('ip'),
    /** The route the limit guards, for the evidence (`POST /api/chat`). */
    route: z.string().min(1).optional(),
    /** The flow that hammers past the limit: trip point, leaks and headers are read from it. */
    abuser: flowName.optional(),
    /**
     * A flow that resumes after the abuser's wait, from the same key: its first requests must
     * pass. Give it a `startTime` past the abuser's last 429 plus its Retry-After.
     */
    recovery: flowName.optional(),
    /**
     * Bypass probes: flows that send past the limit from one key (one real address for `ip`)
     * while rotating something else (claimed addresses, sessions, keys). The count must not
     * reset; when it does, the verification names what was rotated.
     */
    probes: z.array(flowName).default([]),
    /** Ordinary visitors from other keys: never rate-limited, and fast, while the abuser is. */
    visitors: z.array(flowName).default([]),
    /** The trip point may be this many requests either side of `limit + 1`. */
    tolerance: z.number().int().nonnegative().default(0),
    /**
     * Requests sent this close to a window's end are not counted as leaks: the target's
     * window and ours start a little apart.
     */
    edgeTolerance: duration.default(1_000),
    /** Visitors' p95 latency (from the intended send) must stay under this while limited. */
    collateralLatency: duration.default(500),
    /** Whether RateLimit headers (any form) must be present; Retry-After on a 429 always is. */
    requireHeaders: z.boolean().default(true),
  })
  .strict()
  .refine((d) => d.abuser !== undefined || d.probes.length > 0, {
    message: 'expected an abuser flow or at least one probe flow',
    path: ['abuser'],
  });

/** `rateLimit` of a scenario: one declaration or several (per IP and per session, say). */
export const rateLimitSchema = z.union([
  rateLimitDeclarationSchema,
  z.array(rateLimitDeclarationSchema).min(1),
]);

export type RateLimitDeclaration = z.output<typeof rateLimitDeclarationSchema>;
export type RateLimitInput = z.input<typeof rateLimitSchema>;

/** The declarations of a scenario's `rateLimit`, always as a list. */
export function rateLimitDeclarations(
  value: z.output<typeof rateLimitSchema> | undefined,
): RateLimitDeclaration[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
