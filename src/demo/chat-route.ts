import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ChatRequestBody, chatBodySchema, describeIssues } from './chat-schema.ts';
import { FALLBACK_HEADER, type FallbackReason, fallbackPart, fallbackText } from './fallback.ts';
import type { DemoFlaw } from './flaws.ts';
import type { HistoryStore } from './history-store.ts';
import type { ResolvedDemoConfig } from './options.ts';
import type { OpenFailure, ProviderGateway } from './provider-gateway.ts';
import type { DemoLimiters } from './rate-limits.ts';
import { type SessionResolver, sessionKey } from './request-session.ts';
import {
  type AnswerUsage,
  type FrameSink,
  UI_MESSAGE_STREAM_HEADERS,
  UiMessageStreamWriter,
} from './ui-message-stream.ts';

/** What the chat route needs from the server around it. */
export interface ChatRouteDeps {
  config: ResolvedDemoConfig;
  gateway: ProviderGateway;
  sessions: SessionResolver;
  history: HistoryStore;
  limiters: DemoLimiters;
  /** Provider requests in flight, so that closing the demo can abort them all. */
  upstreams: Set<AbortController>;
  /** Epoch milliseconds, for history timestamps. */
  now: () => number;
}

/**
 * `POST /api/chat`: validates the body, asks the provider through the gateway and streams
 * its answer as a Vercel AI SDK v5 UI message stream. When the provider is too slow to its
 * first token, fails, or stalls or breaks mid-stream, the answer is the fallback text with
 * its marker (the `x-chat-fallback` header while headers are unsent, and always the SSE
 * event `fallback`), and the stream still ends cleanly. A client that leaves aborts the
 * provider request.
 */
export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDeps): void {
  const { config } = deps;
  const flaws = new Set<DemoFlaw>(config.flaws);
  const schema = chatBodySchema(
    flaws.has('no-input-limit')
      ? undefined
      : { maxMessageChars: config.maxMessageChars, maxMessages: config.maxMessages },
  );

  const gate = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = deps.sessions.resolve(request);
    if (session.kind !== 'invalid') return undefined;
    const status = session.problem === 'malformed' ? 401 : 403;
    reply.code(status).send(sessionProblemBody(status, session.problem));
    return reply;
  };

  app.post(
    '/api/chat',
    { onRequest: deps.limiters.chatIp, preHandler: [gate, deps.limiters.chatSession] },
    async (request, reply) => {
      const parsed = schema.safeParse(request.body);
      if (!parsed.success) {
        return reply.code(400).send({
          statusCode: 400,
          code: 'invalid_body',
          error: 'Bad Request',
          message: describeIssues(parsed.error),
        });
      }
      const sessionId = sessionKey(deps.sessions.resolve(request)) ?? parsed.data.sessionId;
      await answerChat(deps, flaws, request, reply, parsed.data, sessionId);
      return reply;
    },
  );
}

async function answerChat(
  deps: ChatRouteDeps,
  flaws: ReadonlySet<DemoFlaw>,
  request: FastifyRequest,
  reply: FastifyReply,
  body: ChatRequestBody,
  sessionId: string | undefined,
): Promise<void> {
  const { config, history } = deps;
  const last = body.messages.at(-1);
  if (sessionId !== undefined && last !== undefined) {
    history.append({ sessionId, role: 'user', content: last.content, at: isoNow(deps) });
  }

  // 1. Tie the provider request to the client: when the client leaves, abort it (unless the
  //    `no-abort` flaw keeps reading a stream nobody will see).
  const upstream = new AbortController();
  const clientGone = new AbortController();
  deps.upstreams.add(upstream);
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished) return;
    clientGone.abort();
    if (!flaws.has('no-abort')) upstream.abort();
  });

  try {
    // 2. Open the answer: its first token, or a failure with its reason.
    const opened = await deps.gateway.open(body.messages, upstream.signal);
    if (opened.kind === 'caller-left') {
      // Nobody is there to read an answer; 499 (client closed request) keeps the log honest.
      reply.code(499).send();
      return;
    }
    if (opened.kind === 'failed') {
      await answerFailure(
        deps,
        flaws,
        request,
        reply,
        opened.failure,
        clientGone.signal,
        sessionId,
      );
      return;
    }

    // 3. Stream it.
    const { answer } = opened;
    const out = new PassThrough();
    const writer = new UiMessageStreamWriter(guardedSink(out));
    reply.code(200).headers(UI_MESSAGE_STREAM_HEADERS).send(out);
    writer.delta(answer.first);

    let text = answer.first;
    let usage: AnswerUsage | undefined;
    const outcome = await answer.readRest({
      delta: (delta) => {
        text += delta;
        writer.delta(delta);
      },
      usage: (counted) => {
        usage = counted;
      },
    });

    // 4. End it: normally, or with the fallback when the provider broke mid-answer.
    let fallback: FallbackReason | undefined;
    if (outcome.kind === 'failed') {
      fallback = outcome.reason;
      request.log.warn({ reason: outcome.reason }, 'provider broke mid-answer');
      if (flaws.has('no-fallback')) {
        out.destroy(new Error(`provider ${outcome.reason}`));
        return;
      }
      await slowFallbackDelay(config, flaws, clientGone.signal);
      writer.fallback(fallbackPart(outcome.reason, config.contact));
      const cut = fallbackText(config.contact, true);
      writer.delta(cut);
      text += cut;
    }
    writer.finish(outcome.kind === 'complete' ? usage : undefined);
    if (sessionId !== undefined) {
      history.append({
        sessionId,
        role: 'assistant',
        content: text,
        at: isoNow(deps),
        ...(fallback === undefined ? {} : { fallback }),
      });
    }
  } finally {
    deps.upstreams.delete(upstream);
  }
}

/** Answers a failed provider call: the fallback, or with `no-fallback`, the error itself. */
async function answerFailure(
  deps: ChatRouteDeps,
  flaws: ReadonlySet<DemoFlaw>,
  request: FastifyRequest,
  reply: FastifyReply,
  failure: OpenFailure,
  clientGone: AbortSignal,
  sessionId: string | undefined,
): Promise<void> {
  const { config } = deps;
  request.log.warn({ reason: failure.reason, status: failure.status }, 'provider call failed');

  if (flaws.has('no-fallback')) {
    const status = failure.status === undefined ? 500 : 502;
    reply.code(status).send({
      statusCode: status,
      code: 'provider_error',
      error: status === 502 ? 'Bad Gateway' : 'Internal Server Error',
      message:
        failure.status === undefined
          ? 'the model provider could not be reached'
          : `the model provider answered ${failure.status}`,
    });
    return;
  }

  await slowFallbackDelay(config, flaws, clientGone);
  const out = new PassThrough();
  const writer = new UiMessageStreamWriter(guardedSink(out));
  reply
    .code(200)
    .headers(UI_MESSAGE_STREAM_HEADERS)
    .header(FALLBACK_HEADER, failure.reason)
    .send(out);
  const text = fallbackText(config.contact, false);
  writer.fallback(fallbackPart(failure.reason, config.contact));
  writer.delta(text);
  writer.finish(undefined);

  if (sessionId !== undefined) {
    deps.history.append({
      sessionId,
      role: 'assistant',
      content: text,
      at: isoNow(deps),
      fallback: failure.reason,
    });
  }
}

/** The `slow-fallback` flaw: a long wait before the fallback, cut short if the client leaves. */
async function slowFallbackDelay(
  config: ResolvedDemoConfig,
  flaws: ReadonlySet<DemoFlaw>,
  clientGone: AbortSignal,
): Promise<void> {
  if (!flaws.has('slow-fallback')) return;
  await sleep(config.flawTuning.slowFallbackDelayMs, undefined, { signal: clientGone }).catch(
    () => undefined,
  );
}

/** Drops frames once the client has left (fastify destroys the stream then). */
function guardedSink(out: PassThrough): FrameSink {
  return {
    write(frame) {
      if (!out.destroyed && !out.writableEnded) out.write(frame);
    },
    end() {
      if (!out.destroyed && !out.writableEnded) out.end();
    },
  };
}

/** The 401/403 body for a session token that failed its check. */
export function sessionProblemBody(
  status: 401 | 403,
  problem: 'malformed' | 'bad-signature' | 'expired' | 'missing',
) {
  const messages = {
    missing: 'a session token is required: POST /api/session, then send it as a Bearer token',
    malformed: 'the session token is malformed',
    'bad-signature': 'the session token signature is invalid',
    expired: 'the session token has expired: POST /api/session for a new one',
  } as const;
  return {
    statusCode: status,
    code: problem === 'missing' ? 'unauthorized' : `session_${problem.replace('-', '_')}`,
    error: status === 401 ? 'Unauthorized' : 'Forbidden',
    message: messages[problem],
  };
}

function isoNow(deps: ChatRouteDeps): string {
  return new Date(deps.now()).toISOString();
}
