import type { FastifyRequest } from 'fastify';
import { looksLikeToken, readCookie, SESSION_COOKIE, type SessionSigner } from './session-token.ts';

/**
 * Who a request says it is. `token`: a session token we signed and checked. `claimed`: a
 * bare session id a widget sent (`x-session-id` or the body's `sessionId`), unverified,
 * good enough to key a rate limit but never to read data. `invalid`: a token that failed.
 */
export type RequestSession =
  | { kind: 'anonymous' }
  | { kind: 'token'; sessionId: string }
  | { kind: 'claimed'; sessionId: string }
  | { kind: 'invalid'; problem: 'malformed' | 'bad-signature' | 'expired' };

const CLAIMED_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Finds a request's session, first found wins: `Authorization: Bearer <token>`, the
 * `lp_session` cookie, the `x-session-id` header, then the body's `sessionId`. A value
 * shaped like a token is checked; a bare id counts as claimed.
 */
export class SessionResolver {
  readonly #signer: SessionSigner;
  readonly #cache = new WeakMap<FastifyRequest, RequestSession>();

  constructor(signer: SessionSigner) {
    this.#signer = signer;
  }

  /** The request's session, worked out once and remembered for later hooks. */
  resolve(request: FastifyRequest): RequestSession {
    const cached = this.#cache.get(request);
    if (cached !== undefined) return cached;
    const session = this.#find(request);
    this.#cache.set(request, session);
    return session;
  }

  #find(request: FastifyRequest): RequestSession {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) return this.#check(bearer);

    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined && cookie !== '') return this.#check(cookie);

    const header = request.headers['x-session-id'];
    const claimed = typeof header === 'string' ? header.trim() : bodySessionId(request.body);
    if (claimed === undefined || claimed === '') return { kind: 'anonymous' };
    if (looksLikeToken(claimed)) return this.#check(claimed);
    if (!CLAIMED_ID.test(claimed)) return { kind: 'invalid', problem: 'malformed' };
    return { kind: 'claimed', sessionId: claimed };
  }

  #check(token: string): RequestSession {
    const check = this.#signer.check(token);
    return check.ok
      ? { kind: 'token', sessionId: check.sessionId }
      : { kind: 'invalid', problem: check.problem };
  }
}

/** The session id a request names, verified or not, or undefined when anonymous. */
export function sessionKey(session: RequestSession): string | undefined {
  return session.kind === 'token' || session.kind === 'claimed' ? session.sessionId : undefined;
}

function bodySessionId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as { sessionId?: unknown }).sessionId;
  return typeof value === 'string' ? value.trim() : undefined;
}
