import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { LaunchproofError } from '../errors.ts';
import { registerAccountRoutes } from './account-routes.ts';
import { registerChatRoute } from './chat-route.ts';
import { FALLBACK_HEADER } from './fallback.ts';
import type { DemoFlaw } from './flaws.ts';
import { HistoryStore } from './history-store.ts';
import { demoLoggerOptions } from './log-options.ts';
import { type DemoOptions, type ResolvedDemoConfig, resolveDemoOptions } from './options.ts';
import { ProviderGateway } from './provider-gateway.ts';
import { createLimiters } from './rate-limits.ts';
import { SessionResolver } from './request-session.ts';
import { SessionSigner } from './session-token.ts';

/** A running demo chatbot. */
export interface DemoHandle {
  /** `http://HOST:PORT`, no trailing slash. */
  url: string;
  flaws: readonly DemoFlaw[];
  /** The settings in force, secrets left out. */
  config: ResolvedDemoConfig;
  /** Aborts provider calls in flight, drops open connections and stops listening. */
  close(): Promise<void>;
}

/** Headers a browser widget may read from answers (CORS exposes only these). */
const EXPOSED_HEADERS = [
  FALLBACK_HEADER,
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-vercel-ai-ui-message-stream',
];

/**
 * Starts the demo chatbot: fastify with @fastify/cors and @fastify/rate-limit, the
 * `openai` SDK towards `providerUrl`, an opossum breaker, zod for input. Throws LP_ERR_DEMO
 * when the options are invalid or the address cannot be bound.
 */
export async function startDemo(options: DemoOptions): Promise<DemoHandle> {
  const settings = resolveDemoOptions(options);
  const { config } = settings;
  const flaws = new Set<DemoFlaw>(config.flaws);

  const app = Fastify({
    // Only the socket's address counts as the client's: never a client-sent header.
    trustProxy: false,
    bodyLimit: flaws.has('no-input-limit') ? Number.MAX_SAFE_INTEGER : config.bodyLimitBytes,
    // Closing the demo must not wait for streams that a flaw leaves hanging.
    forceCloseConnections: true,
    logger:
      settings.logger === false
        ? false
        : demoLoggerOptions(settings.logger.level, settings.logger.stream),
  });

  const gateway = new ProviderGateway(config, settings.providerApiKey);
  const upstreams = new Set<AbortController>();
  try {
    await buildApp(app, config, settings.sessionSecret, settings.now, gateway, upstreams);
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    gateway.shutdown();
    await app.close().catch(() => undefined);
    throw new LaunchproofError(
      'LP_ERR_DEMO',
      `demo chatbot could not start on ${config.host}:${config.port}: ${messageOf(error)}`,
      { cause: error, hint: 'pick another --port, or 0 for a free one' },
    );
  }

  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    flaws: config.flaws,
    config,
    close() {
      closed ??= (async () => {
        for (const upstream of upstreams) upstream.abort();
        gateway.shutdown();
        await app.close();
      })();
      return closed;
    },
  };
}

async function buildApp(
  app: FastifyInstance,
  config: ResolvedDemoConfig,
  sessionSecret: string | undefined,
  now: () => number,
  gateway: ProviderGateway,
  upstreams: Set<AbortController>,
): Promise<void> {
  const flaws = new Set<DemoFlaw>(config.flaws);
  const signer = new SessionSigner(sessionSecret, config.sessionTtlMs, now);
  const sessions = new SessionResolver(signer);
  const history = new HistoryStore();

  acceptEmptyJson(app);
  app.setErrorHandler(answerError);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      statusCode: 404,
      code: 'not_found',
      error: 'Not Found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );

  await app.register(cors, {
    origin: config.allowedOrigins,
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-session-id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  // Registered without global limits: each route applies its own (see rate-limits.ts).
  await app.register(rateLimit, { global: false });
  if (flaws.has('slow')) addLoadLatency(app, config.flawTuning.slowPerRequestMs);

  const limiters = createLimiters(app, config, sessions);
  registerChatRoute(app, { config, gateway, sessions, history, limiters, upstreams, now });
  registerAccountRoutes(app, {
    config,
    signer,
    sessions,
    history,
    limiters,
    breakerState: () => gateway.breakerState,
    now,
  });
}

/**
 * The `slow` flaw: every API request waits `perRequestMs` for each request in flight, itself
 * included, as a server that serialises on a shared resource would.
 */
function addLoadLatency(app: FastifyInstance, perRequestMs: number): void {
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    inFlight += 1;
    reply.raw.once('close', () => {
      inFlight -= 1;
    });
    await sleep(inFlight * perRequestMs);
  });
}

/** Widgets often POST `content-type: application/json` with no body; that is `{}`-like. */
function acceptEmptyJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // parseAs 'string' hands the body over as a string.
    if ((body as string).trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
}

/** Client errors keep their status and message; anything else is a 500 that says little. */
function answerError(
  error: FastifyError,
  request: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[1],
  reply: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[2],
) {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500) request.log.error({ code: error.code }, 'request failed');
  return reply.code(status).send({
    statusCode: status,
    code: status >= 500 ? 'internal' : (error.code ?? 'bad_request'),
    error: STATUS_CODES[status] ?? 'Error',
    message: status >= 500 ? 'internal error' : error.message,
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
