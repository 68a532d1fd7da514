import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DemoFlaw } from './flaws.ts';
import type { ResolvedDemoConfig } from './options.ts';
import { type SessionResolver, sessionKey } from './request-session.ts';

/** What a limiter keys on, as the 429 body names it. */
export type LimitScope = 'ip' | 'session';

/** A route hook: resolves to nothing when the request may go on, or to the 429 reply. */
export type LimitHook = (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined>;

/** The limiters of the demo's routes; a hook that does nothing where a flaw removed it. */
export interface DemoLimiters {
  /** Per client address on `POST /api/chat` (an `onRequest` hook: before the body is read). */
  chatIp: LimitHook;
  /** Per session on `POST /api/chat` (a `preHandler` hook: the body may name the session). */
  chatSession: LimitHook;
  /** Per client address on `POST /api/session`. */
  sessionCreate: LimitHook;
}

interface Decision {
  scope: LimitScope;
  max: number;
  windowMs: number;
  remaining: number;
  resetS: number;
  exceeded: boolean;
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;

const NO_LIMIT: LimitHook = async () => undefined;

/**
 * Builds the per-IP and per-session limiters on @fastify/rate-limit's own counting
 * (`createRateLimit`, fixed windows in its in-memory store). The plugin's route hooks run
 * only one limiter per request, and write either the legacy or the draft headers; the demo
 * needs two limiters on chat and both header forms, so it answers from the counts itself:
 * `x-ratelimit-*` and draft-6 `ratelimit-*` on every limited response, `retry-after` on 429.
 * When both limiters count a request, the headers show the one with fewer requests left.
 *
 * The client address is the socket's (fastify's trustProxy is off): a client-sent
 * X-Forwarded-For is ignored, except under the `trust-xff` flaw.
 */
export function createLimiters(
  app: FastifyInstance,
  config: ResolvedDemoConfig,
  sessions: SessionResolver,
): DemoLimiters {
  const flaws = new Set<DemoFlaw>(config.flaws);
  if (flaws.has('no-rate-limit')) {
    return { chatIp: NO_LIMIT, chatSession: NO_LIMIT, sessionCreate: NO_LIMIT };
  }

  const clientKey = flaws.has('trust-xff') ? forwardedOrSocketAddress : socketAddress;
  const shown = new WeakMap<FastifyRequest, Decision>();
  const limiter = (scope: LimitScope, limit: { max: number; windowMs: number }, check: Check) =>
    limitHook(scope, limit, check, shown);

  const ipCheck = (limit: { max: number; windowMs: number }) =>
    app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs, keyGenerator: clientKey });

  const sessionOnly = flaws.has('session-only-limit');
  const sessionCheck = app.createRateLimit({
    max: config.sessionRateLimit.max,
    timeWindow: config.sessionRateLimit.windowMs,
    keyGenerator: (request) => {
      const key = sessionKey(sessions.resolve(request));
      if (key !== undefined) return `session:${key}`;
      // The flawed team keys anonymous chats on the address, so one visitor is still limited.
      return sessionOnly ? `anonymous:${socketAddress(request)}` : '';
    },
    // Anonymous chats are limited per address only.
    allowList: (request) => !sessionOnly && sessionKey(sessions.resolve(request)) === undefined,
  });

  return {
    chatIp: sessionOnly ? NO_LIMIT : limiter('ip', config.ipRateLimit, ipCheck(config.ipRateLimit)),
    chatSession: limiter('session', config.sessionRateLimit, sessionCheck),
    sessionCreate: limiter(
      'ip',
      config.sessionCreateRateLimit,
      ipCheck(config.sessionCreateRateLimit),
    ),
  };
}

function limitHook(
  scope: LimitScope,
  limit: { max: number; windowMs: number },
  check: Check,
  shown: WeakMap<FastifyRequest, Decision>,
): LimitHook {
  return async (request, reply) => {
    const result = await check(request);
    if (result.isAllowed) return undefined;

    const decision: Decision = {
      scope,
      max: result.max,
      windowMs: limit.windowMs,
      remaining: result.remaining,
      resetS: result.ttlInSeconds,
      exceeded: result.isExceeded,
    };
    const earlier = shown.get(request);
    if (earlier === undefined || decision.exceeded || decision.remaining <= earlier.remaining) {
      shown.set(request, decision);
      setLimitHeaders(reply, decision);
    }
    if (!decision.exceeded) return undefined;

    reply.header('retry-after', String(decision.resetS));
    // Fastify's rule for async hooks: send, then return the reply so the route stops here.
    reply.code(429).send({
      statusCode: 429,
      code: 'rate_limited',
      error: 'Too Many Requests',
      message:
        `rate limit exceeded: ${decision.max} requests per ${formatWindow(decision.windowMs)} ` +
        `per ${scope === 'ip' ? 'client address' : 'session'}; retry in ${decision.resetS} s`,
      scope,
      retryAfterS: decision.resetS,
    });
    return reply;
  };
}

function setLimitHeaders(reply: FastifyReply, decision: Decision): void {
  for (const prefix of ['x-ratelimit', 'ratelimit']) {
    reply.header(`${prefix}-limit`, String(decision.max));
    reply.header(`${prefix}-remaining`, String(decision.remaining));
    reply.header(`${prefix}-reset`, String(decision.resetS));
  }
}

function socketAddress(request: FastifyRequest): string {
  return normalizeIP(request.socket.remoteAddress ?? 'unknown');
}

/** The `trust-xff` flaw: whatever the client claims in X-Forwarded-For wins. */
function forwardedOrSocketAddress(request: FastifyRequest): string {
  const header = request.headers['x-forwarded-for'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
  return first === undefined || first === '' ? socketAddress(request) : first;
}

function formatWindow(windowMs: number): string {
  return windowMs % 1_000 === 0 ? `${windowMs / 1_000} s` : `${windowMs} ms`;
}
