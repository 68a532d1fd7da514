import { z } from 'zod';
import { faultRuleSchema } from './fault-rules.ts';

/**
 * How a quantity is drawn, seeded, per call. The unit is the option's (`ttftMs` in
 * milliseconds, `completionTokens` in tokens). A bare number is a fixed value.
 */
export const distributionSchema = z.union([
  z
    .number()
    .min(0)
    .transform((value) => ({ kind: 'fixed' as const, value })),
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('fixed'), value: z.number().min(0) }),
    z
      .strictObject({ kind: z.literal('uniform'), min: z.number().min(0), max: z.number().min(0) })
      .refine((d) => d.max >= d.min, { message: 'max must be at least min', path: ['max'] }),
    z.strictObject({
      kind: z.literal('normal'),
      mean: z.number().min(0),
      stddev: z.number().min(0),
    }),
    z.strictObject({
      kind: z.literal('lognormal'),
      median: z.number().positive(),
      sigma: z.number().min(0),
    }),
  ]),
]);

/** A validated distribution. */
export type Distribution = z.output<typeof distributionSchema>;

/** The models the mock lists and accepts unless told otherwise. */
export const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-4.1'] as const;

/** Everything startProvider accepts; each field's doc says its unit and default. */
export const providerOptionsSchema = z.strictObject({
  /** Interface to listen on; loopback by default. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port to listen on; 0 picks a free one. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Seed of every draw: same seed, same calls faulted, same text, same timing. */
  seed: z.number().int().default(1),
  /** Time to first token in ms, from the request's arrival. Default: 200 ms. */
  ttftMs: distributionSchema.default({ kind: 'fixed', value: 200 }),
  /** Token pace after the first token, in tokens per second. Default: 50. */
  tokensPerSec: z.number().positive().default(50),
  /** Each gap between tokens varies by up to ± this many ms (uniform, seeded). Default: 0. */
  tokenJitterMs: z.number().min(0).default(0),
  /** Answer length in tokens, cut by the request's max_tokens. Default: uniform 20..60. */
  completionTokens: distributionSchema.default({ kind: 'uniform', min: 20, max: 60 }),
  /** Model ids `GET /v1/models` lists; a request for another model gets OpenAI's 404. */
  models: z
    .array(z.string().min(1))
    .min(1)
    .default([...DEFAULT_MODELS]),
  /** Faults in force from the start (changeable later through the control API). */
  faults: z.array(faultRuleSchema).default([]),
  /** Proxy mode: forward /v1/* to this OpenAI-compatible base URL, faults applied on the way. */
  upstream: z.url({ protocol: /^https?$/ }).optional(),
  /** When set, calls must carry `Authorization: Bearer <apiKey>` or get OpenAI's 401. */
  apiKey: z.string().min(1).optional(),
});

/** Options as a caller writes them (every field optional). */
export type ProviderOptions = z.input<typeof providerOptionsSchema>;

/** Options after validation, defaults applied. */
export type ResolvedProviderOptions = z.output<typeof providerOptionsSchema>;
