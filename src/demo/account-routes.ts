import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionProblemBody } from './chat-route.ts';
import { describeIssues, leadBodySchema } from './chat-schema.ts';
import type { DemoFlaw } from './flaws.ts';
import type { HistoryStore } from './history-store.ts';
import type { ResolvedDemoConfig } from './options.ts';
import type { BreakerState } from './provider-gateway.ts';
import type { DemoLimiters } from './rate-limits.ts';
import type { RequestSession, SessionResolver } from './request-session.ts';
import { type SessionSigner, sessionCookie } from './session-token.ts';

/** What the session, lead, history and health routes need. */
export interface AccountRouteDeps {
  config: ResolvedDemoConfig;
  signer: SessionSigner;
  sessions: SessionResolver;
  history: HistoryStore;
  limiters: DemoLimiters;
  breakerState: () => BreakerState;
  /** Epoch milliseconds. */
  now: () => number;
}

/** Most leads kept in memory; the oldest go first. */
const MAX_LEADS = 10_000;

/**
 * `GET /health`, `POST /api/session` (issues a signed token, rate-limited per IP),
 * `POST /api/leads` and `GET /api/history` (both need a valid token: 401 without one, 403
 * for a bad signature or an expired token).
 */
export function registerAccountRoutes(app: FastifyInstance, deps: AccountRouteDeps): void {
  const flaws = new Set<DemoFlaw>(deps.config.flaws);
  const leads: { leadId: string; sessionId: string; receivedAt: string }[] = [];
  const startedMs = deps.now();

  app.get('/health', async () => ({
    status: 'ok',
    uptimeS: Math.round((deps.now() - startedMs) / 1_000),
    breaker: deps.breakerState(),
    flaws: deps.config.flaws,
  }));

  app.post('/api/session', { onRequest: deps.limiters.sessionCreate }, async (_request, reply) => {
    const session = deps.signer.issue();
    const maxAgeS = Math.max(0, Math.floor((session.expiresAtMs - deps.now()) / 1_000));
    reply.header('set-cookie', sessionCookie(session.token, maxAgeS));
    return reply.code(201).send({
      token: session.token,
      sessionId: session.sessionId,
      expiresAt: new Date(session.expiresAtMs).toISOString(),
    });
  });

  app.post('/api/leads', async (request, reply) => {
    const session = deps.sessions.resolve(request);
    if (session.kind !== 'token') return refuse(reply, session);

    const parsed = leadBodySchema.safeParse(request.body);
    if (!parsed.success) {
      return reply.code(400).send({
        statusCode: 400,
        code: 'invalid_body',
        error: 'Bad Request',
        message: describeIssues(parsed.error),
      });
    }

    const lead = {
      leadId: randomUUID(),
      sessionId: session.sessionId,
      receivedAt: new Date(deps.now()).toISOString(),
    };
    leads.push(lead);
    if (leads.length > MAX_LEADS) leads.shift();
    // The lead's contact details are PII: the logger's redaction blanks them.
    request.log.info({ lead: { ...lead, ...parsed.data } }, 'lead captured');
    return reply.code(201).send({ leadId: lead.leadId, receivedAt: lead.receivedAt });
  });

  app.get('/api/history', async (request, reply) => {
    const session = deps.sessions.resolve(request);
    if (session.kind === 'token') {
      return { sessionId: session.sessionId, messages: deps.history.list(session.sessionId) };
    }
    if (!flaws.has('no-auth')) return refuse(reply, session);

    // The flaw: whatever id the caller names is believed, and naming none returns everyone's.
    const named = queryOrHeaderSessionId(request);
    return named === undefined
      ? { sessionId: null, messages: deps.history.all() }
      : { sessionId: named, messages: deps.history.list(named) };
  });
}

function refuse(reply: FastifyReply, session: RequestSession): FastifyReply {
  if (session.kind === 'invalid' && session.problem !== 'malformed') {
    return reply.code(403).send(sessionProblemBody(403, session.problem));
  }
  const problem = session.kind === 'invalid' ? session.problem : 'missing';
  return reply.code(401).send(sessionProblemBody(401, problem));
}

function queryOrHeaderSessionId(request: FastifyRequest): string | undefined {
  const query = request.query as { sessionId?: unknown } | undefined;
  if (typeof query?.sessionId === 'string' && query.sessionId !== '') return query.sessionId;
  const header = request.headers['x-session-id'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}
