import type { Faker } from '@faker-js/faker';
import { z } from 'zod';
import { thresholdsInputSchema } from '../thresholds/parse.ts';
import { isDuration, parseDurationMs } from '../util/duration.ts';
import { costSchema } from '../verify/cost-config.ts';
import { faultTimelineSchema } from '../verify/fault-timeline-schema.ts';
import { rateLimitSchema } from '../verify/rate-limit-config.ts';
import { resilienceSchema } from '../verify/resilience-schema.ts';

/** A k6-style duration (`'30s'`, `'2m'`, or milliseconds), parsed once here into ms. */
export const durationSchema = z
  .union([z.string(), z.number()])
  .refine(isDuration, { message: "expected a duration such as '500ms', '30s' or '2m'" })
  .transform((value) => parseDurationMs(value));

const positiveDuration = durationSchema.refine((ms) => ms > 0, {
  message: 'expected a duration longer than 0s',
});

const positive = z.number().positive();
const count = z.number().int().positive();
const spacing = z
  .enum(['uniform', 'poisson'])
  .default('uniform')
  .describe('uniform: evenly spaced arrivals; poisson: seeded exponential gaps');

const stage = z.object({ duration: durationSchema, target: z.number().nonnegative() }).strict();

const thinkTime = z
  .union([durationSchema, z.object({ min: durationSchema, max: durationSchema }).strict()])
  .optional();

const common = {
  startTime: durationSchema.default(0),
  gracefulStop: durationSchema.default(30_000),
};

const openCommon = {
  ...common,
  timeUnit: positiveDuration.default(1_000),
  preAllocatedVUs: count.optional(),
  maxVUs: count.optional(),
  spacing,
};

/** Open model, fixed rate: `rate` arrivals per `timeUnit` for `duration` (k6's executor). */
const constantArrivalRate = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    rate: positive,
    duration: positiveDuration,
    ...openCommon,
  })
  .strict();

/** Open model, rate ramped linearly between stage targets (k6's executor). */
const rampingArrivalRate = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    startRate: z.number().nonnegative().default(0),
    stages: z.array(stage).min(1),
    ...openCommon,
  })
  .strict();

/** Open model: `count` requests at once (`spread: '0s'`) or spread over a short window. */
const burst = z
  .object({
    executor: z.literal('burst'),
    count,
    spread: durationSchema.default(0),
    maxVUs: count.optional(),
    spacing,
    ...common,
  })
  .strict();

/** Closed model: a fixed number of virtual users, each waiting for its answer (k6). */
const constantVus = z
  .object({
    executor: z.literal('constant-vus'),
    vus: count,
    duration: positiveDuration,
    thinkTime,
    ...common,
  })
  .strict();

/** Closed model: virtual users ramped linearly between stage targets (k6). */
const rampingVus = z
  .object({
    executor: z.literal('ramping-vus'),
    startVUs: z.number().int().nonnegative().default(1),
    stages: z.array(stage).min(1),
    gracefulRampDown: durationSchema.default(30_000),
    thinkTime,
    ...common,
  })
  .strict();

export const loadSchema = z.discriminatedUnion('executor', [
  constantArrivalRate,
  rampingArrivalRate,
  burst,
  constantVus,
  rampingVus,
]);

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export const requestSpecSchema = z
  .object({
    method: z.enum(HTTP_METHODS).optional(),
    path: z.string().startsWith('/').default('/'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
    json: z.unknown().optional(),
    /** The `name` tag of the request, as k6 has it; defaults to the path. */
    name: z.string().optional(),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type RequestSpecInput = z.input<typeof requestSpecSchema>;

// biome-ignore lint/suspicious/noExplicitAny: a function schema accepts any function shape
function fn<T extends (...args: any[]) => unknown>(what: string) {
  return z.custom<T>((value) => typeof value === 'function', { message: `expected ${what}` });
}

const ipAddress = z.union([z.ipv4(), z.ipv6()]);

const credentialFields = {
  /**
   * `header` and `cookie` (named by `name`), `bearer` (`Authorization: Bearer <value>`), or
   * `body`: the value is put in `identity.state[name]` for the request builder to place in
   * its JSON body (the engine does not rewrite bodies).
   */
  in: z.enum(['header', 'cookie', 'bearer', 'body']),
  name: z.string().min(1).optional(),
  /** Values handed out in turn: identity i takes values[i % length]. */
  values: z.array(z.string().min(1)).min(1).optional(),
};

const hasName = (c: { in: string; name?: string | undefined }) =>
  c.in === 'bearer' || c.name !== undefined;
const NAME_NEEDED = {
  message: 'expected a name for a header, cookie or body field',
  path: ['name'],
};

const credentialSchema = z.object(credentialFields).strict().refine(hasName, NAME_NEEDED);

/** A request each identity makes before t = 0 (through its own pool) to get its session. */
const sessionSetupSchema = z
  .object({
    method: z.enum(HTTP_METHODS).default('POST'),
    path: z.string().startsWith('/'),
    headers: z.record(z.string(), z.string()).default({}),
    json: z.unknown().optional(),
    /** Where the value is in the answer: a dotted JSON field, or `cookie:NAME` (Set-Cookie). */
    pick: z.string().min(1).default('token'),
    timeout: positiveDuration.default(10_000),
  })
  .strict();

const sessionCredentialSchema = z
  .object({ ...credentialFields, setup: sessionSetupSchema.optional() })
  .strict()
  .refine(hasName, NAME_NEEDED);

/** Who the requests come from. One connection pool per identity. */
export const identitiesSchema = z
  .object({
    count: count.default(1),
    /**
     * `'loopback'` binds identity i to 127.0.0.(2+i), so a per-IP limiter sees distinct
     * clients; a list binds the given local addresses in turn.
     */
    sourceAddresses: z.union([z.literal('loopback'), z.array(ipAddress).min(1)]).optional(),
    /** Addresses claimed in headers (X-Forwarded-For and its kin), one per identity. */
    claimedAddresses: z
      .object({
        headers: z
          .array(z.enum(['x-forwarded-for', 'x-real-ip', 'forwarded', 'cf-connecting-ip']))
          .min(1),
        from: z.ipv4().default('203.0.113.1'),
      })
      .strict()
      .optional(),
    /**
     * A session per identity, sent with each of its requests: a generated id, one of
     * `values`, or the answer of a `setup` request the identity makes before t = 0.
     */
    session: sessionCredentialSchema.optional(),
    /** A widget or API key per identity: one of `values` (identity i takes values[i % n]). */
    key: credentialSchema.optional(),
  })
  .strict();

export const STREAM_FORMATS = ['openai', 'anthropic', 'vercel-ai', 'text', 'json'] as const;

export const streamSchema = z
  .object({
    format: z.union([z.enum(STREAM_FORMATS), fn<CustomStreamEventReader>('a function')]),
    idleTimeout: positiveDuration.default(30_000),
    captureTextBytes: z.number().int().nonnegative().default(0),
    /**
     * Leave mid-answer, as a user closing the widget: abort this long after the response
     * headers. Abandoned streams are counted (`chat_abandoned`), not failed.
     */
    abandonAfter: positiveDuration.optional(),
  })
  .strict();

const statusRange = z.union([
  z.number().int().min(100).max(599),
  z.object({ min: z.number().int(), max: z.number().int() }).strict(),
]);

const checkSpec = z
  .object({
    status: z.union([z.number().int(), z.array(z.number().int())]).optional(),
    header: z.object({ name: z.string(), pattern: z.instanceof(RegExp).optional() }).optional(),
    body: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: 'expected a zod schema' }),
  })
  .partial()
  .strict();

export const checkSchema = z.union([fn<CheckPredicate>('a predicate'), checkSpec]);

export const timeoutsSchema = z
  .object({
    connect: positiveDuration.default(10_000),
    headers: positiveDuration.default(60_000),
    body: positiveDuration.default(60_000),
    request: positiveDuration.default(120_000),
  })
  .strict();

export const flowSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'expected letters, digits, _ . or -' }),
    load: loadSchema,
    request: z.union([requestSpecSchema, fn<RequestBuilder>('a request or a builder')]),
    identities: identitiesSchema.default({ count: 1 }),
    checks: z.record(z.string(), checkSchema).default({}),
    tags: z.record(z.string(), z.string()).default({}),
    stream: streamSchema.optional(),
    expectedStatuses: z
      .array(statusRange)
      .min(1)
      .default([{ min: 200, max: 399 }]),
    timeouts: timeoutsSchema.default({
      connect: 10_000,
      headers: 60_000,
      body: 60_000,
      request: 120_000,
    }),
    maxBodyBytes: z.number().int().positive().default(1_048_576),
    /** Connections per identity; by default the in-flight cap shared among identities. */
    connections: count.optional(),
    pipelining: count.default(1),
    /**
     * How to tell a fallback answer from a real one: a response header, a JSON field (dotted
     * path, truthy), an SSE event name, or a pattern in the text. Any one that matches marks it.
     */
    fallbackMarker: z
      .object({
        header: z.string().optional(),
        jsonField: z.string().optional(),
        event: z.string().optional(),
        textPattern: z.instanceof(RegExp).optional(),
      })
      .strict()
      .optional(),
    /** Called after each response, e.g. to keep a conversation's history. */
    onResponse: fn<ResponseHook>('a function').optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'expected lowercase letters, digits, _ or -' }),
    description: z.string().optional(),
    seed: z.number().int().nonnegative().default(1),
    target: z.url().optional(),
    thresholds: thresholdsInputSchema.default({}),
    flows: z.array(flowSchema).min(1),
    /** Rate limits the target promises, and the flows that test them (src/verify). */
    rateLimit: rateLimitSchema.optional(),
    /** Cost exposure: prices, attack flows, projections and budget (src/verify). */
    cost: costSchema.optional(),
    /** Provider faults on a timeline: `at`, `for`, the fault and its fraction (src/verify). */
    faults: faultTimelineSchema.optional(),
    /** Fallback, recovery, retry, breaker and stream checks under those faults (src/verify). */
    resilience: resilienceSchema.optional(),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    const seen = new Set<string>();
    scenario.flows.forEach((flow, i) => {
      if (seen.has(flow.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['flows', i, 'name'],
          message: `expected a unique flow name, received "${flow.name}" again`,
        });
      }
      seen.add(flow.name);
      const load = flow.load;
      if ('maxVUs' in load && 'preAllocatedVUs' in load) {
        if (load.maxVUs !== undefined && load.preAllocatedVUs !== undefined) {
          if (load.maxVUs < load.preAllocatedVUs) {
            ctx.addIssue({
              code: 'custom',
              path: ['flows', i, 'load', 'maxVUs'],
              message: `expected at least preAllocatedVUs (${load.preAllocatedVUs}), received ${load.maxVUs}`,
            });
          }
        }
      }
    });
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type Flow = Scenario['flows'][number];
export type LoadShape = Flow['load'];
export type RequestSpec = z.output<typeof requestSpecSchema>;
export type IdentitiesConfig = z.output<typeof identitiesSchema>;
export type StreamConfig = z.output<typeof streamSchema>;

/** One client identity of a flow: its own connection pool, source address and state. */
export interface Identity {
  readonly index: number;
  readonly sourceAddress: string | undefined;
  /** Headers this identity adds to every request (claimed addresses, session tokens). */
  readonly headers: Record<string, string>;
  /** Free state that lives as long as the identity (a session token, a conversation). */
  readonly state: Record<string, unknown>;
  /** The session and key this identity sends, when its flow gives it one (never reported). */
  readonly credentials?: IdentityCredentials;
}

/** An identity's session and key; filled before t = 0, a setup step's included. */
export interface IdentityCredentials {
  session: string | undefined;
  key: string | undefined;
  /** Why the setup step failed (the identity then sends without a session). */
  setupError: string | undefined;
}

/** What a request builder is given. */
export interface RequestContext {
  readonly flow: string;
  /** The flow's request counter, from 0. */
  readonly iteration: number;
  /** The virtual user (closed model) or in-flight slot (open model). */
  readonly vu: number;
  readonly identity: Identity;
  /** A faker instance seeded for this iteration: the same seed gives the same requests. */
  readonly faker: Faker;
  /** A seeded float in [0, 1). */
  random(): number;
  /** State of this virtual user (closed model) or identity (open model), kept across requests. */
  readonly session: Record<string, unknown>;
  readonly scenarioSeed: number;
}

/** What checks and `onResponse` see of a response. */
export interface ResponseView {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text, up to the flow's `maxBodyBytes`. */
  readonly body: string;
  json(): unknown;
  readonly durationMs: number;
  /** For chat flows: the streamed text when `stream.captureTextBytes` is set. */
  readonly text: string | undefined;
}

export type RequestBuilder = (ctx: RequestContext) => RequestSpecInput;
export type CheckPredicate = (response: ResponseView) => boolean;
export type ResponseHook = (ctx: RequestContext, response: ResponseView) => void;
/** A custom stream format: an SSE event to its text delta (or a richer record). */
export type CustomStreamEventReader = (event: { event?: string; data: string; id?: string }) =>
  | {
      text?: string;
      done?: boolean;
      usage?: { inputTokens?: number; outputTokens?: number };
      error?: string;
    }
  | string
  | undefined;
