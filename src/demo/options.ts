import { z } from 'zod';
import { LaunchproofError } from '../errors.ts';
import { formatIssues } from '../scenario/format-issues.ts';
import { DEMO_FLAWS } from './flaws.ts';

/** A fake key: the mock provider accepts any, and a real provider rejects this one. */
const DEFAULT_PROVIDER_API_KEY = 'sk-demo-not-a-real-key-0000';

/** Where a log line goes when the logger is on (a writable stream, or a test's collector). */
export interface DemoLogStream {
  write(line: string): unknown;
}

const rateLimit = (max: number, windowMs: number) =>
  z
    .strictObject({
      /** Requests allowed in one window; request `max + 1` is the first 429. */
      max: z.number().int().positive(),
      windowMs: z.number().int().positive(),
    })
    .default({ max, windowMs });

const breakerSchema = z.strictObject({
  /** Share of failed calls in the rolling window, in percent, that opens the breaker. */
  errorThresholdPercentage: z.number().min(1).max(100).default(50),
  /** How long the breaker stays open before one probe call is let through. */
  resetTimeoutMs: z.number().int().positive().default(10_000),
  /** Calls in the rolling window before the breaker may open at all. */
  volumeThreshold: z.number().int().min(0).default(5),
  /** The rolling window the error share is computed over. */
  rollingCountTimeoutMs: z.number().int().positive().default(10_000),
});

const contactSchema = z.strictObject({
  bookingUrl: z.url().default('https://example.com/book'),
  email: z.email().default('hello@example.com'),
  phone: z.string().min(1).optional(),
});

const loggerSchema = z.union([
  z.literal(false),
  z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    stream: z.custom<DemoLogStream>(
      (value) => typeof (value as DemoLogStream | undefined)?.write === 'function',
      'expected an object with a write(line) method',
    ),
  }),
]);

/** Settings that tune how hard each flaw bites; tests shorten them. */
const flawTuningSchema = z.strictObject({
  /** `slow-fallback`: the extra wait before the fallback answer. */
  slowFallbackDelayMs: z.number().int().min(0).default(3_000),
  /** `retry-storm`: provider calls per chat request on an error or timeout. */
  retryStormAttempts: z.number().int().min(2).default(8),
  /** `slow`: added latency for each request in flight, this one included. */
  slowPerRequestMs: z.number().min(0).default(15),
});

/**
 * The demo's options. Defaults are small so that tests can trip limits quickly, and every
 * safeguard can be tuned; durations are milliseconds.
 */
export const demoOptionsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** The provider's OpenAI base URL, including `/v1` (a bare origin gets `/v1` added). */
  providerUrl: z.url(),
  /** Sent to the provider as the bearer key; never logged nor put in `config`. */
  providerApiKey: z.string().min(1).default(DEFAULT_PROVIDER_API_KEY),
  model: z.string().min(1).default('gpt-4o-mini'),
  /** `max_tokens` asked of the provider per answer. */
  maxOutputTokens: z.number().int().positive().default(256),
  flaws: z.array(z.enum(DEMO_FLAWS)).default([]),
  /** Per client address, on `POST /api/chat`. */
  ipRateLimit: rateLimit(20, 60_000),
  /** Per session, on `POST /api/chat`. */
  sessionRateLimit: rateLimit(10, 60_000),
  /** Per client address, on `POST /api/session`. */
  sessionCreateRateLimit: rateLimit(10, 60_000),
  /** Deadline from the provider call to its first content token. */
  providerTimeoutMs: z.number().int().positive().default(2_000),
  /** Longest silence of the provider mid-stream before the answer ends with the fallback. */
  streamIdleTimeoutMs: z.number().int().positive().default(2_000),
  breaker: breakerSchema.default(breakerSchema.parse({})),
  /** Signs session tokens; random per start unless given. Never put in `config`. */
  sessionSecret: z.string().min(16).optional(),
  sessionTtlMs: z.number().int().positive().default(3_600_000),
  /** Origins that CORS lets read answers; any other origin gets no allow header. */
  allowedOrigins: z.array(z.string().min(1)).default(['http://localhost:3000']),
  /** Longest message content, in characters. */
  maxMessageChars: z.number().int().positive().default(2_000),
  /** Most messages (history included) in one chat request. */
  maxMessages: z.number().int().positive().default(50),
  /** Largest request body; larger bodies get 413. */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024),
  /** Offered in the fallback answer. */
  contact: contactSchema.default(contactSchema.parse({})),
  /** Off (false) by default; when given a stream, Authorization, cookies and PII are redacted. */
  logger: loggerSchema.default(false),
  flawTuning: flawTuningSchema.default(flawTuningSchema.parse({})),
  /** The clock for session expiry, in epoch milliseconds; tests inject one. */
  now: z.custom<() => number>((value) => typeof value === 'function').optional(),
});

/** Options of `startDemo`, as a caller writes them. */
export type DemoOptions = z.input<typeof demoOptionsSchema>;

type ParsedDemoOptions = z.output<typeof demoOptionsSchema>;

/** The settings a running demo uses, secrets left out, for verifiers and reports to read. */
export type ResolvedDemoConfig = Readonly<
  Omit<ParsedDemoOptions, 'providerApiKey' | 'sessionSecret' | 'logger' | 'now'>
>;

/** Validated options with their secrets, for the server itself. */
export interface DemoSettings {
  config: ResolvedDemoConfig;
  providerApiKey: string;
  sessionSecret: string | undefined;
  logger: ParsedDemoOptions['logger'];
  now: () => number;
}

/** Validates options and applies defaults. Throws LP_ERR_DEMO naming each bad field. */
export function resolveDemoOptions(options: DemoOptions): DemoSettings {
  const result = demoOptionsSchema.safeParse(options);
  if (!result.success) {
    const problems = formatIssues(result.error, 'options');
    throw new LaunchproofError('LP_ERR_DEMO', `invalid demo options: ${problems[0]}`, {
      details: problems.slice(1),
    });
  }

  const { providerApiKey, sessionSecret, logger, now, ...rest } = result.data;
  const config: ResolvedDemoConfig = {
    ...rest,
    providerUrl: normalizeProviderUrl(rest.providerUrl),
    flaws: [...new Set(rest.flaws)],
  };
  return { config, providerApiKey, sessionSecret, logger, now: now ?? Date.now };
}

/**
 * Adds `/v1` to a bare provider origin, so that both the provider's root URL and its base
 * URL work; a URL with a path is used as given.
 */
export function normalizeProviderUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/v1';
  return parsed.toString().replace(/\/$/, '');
}
