import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie that carries the session token for browser widgets. */
export const SESSION_COOKIE = 'lp_session';

/** A session the demo issued: its id and when it stops being valid (epoch ms). */
export interface IssuedSession {
  sessionId: string;
  token: string;
  expiresAtMs: number;
}

/** What checking a token found. `malformed` covers anything that is not three parts. */
export type TokenCheck =
  | { ok: true; sessionId: string; expiresAtMs: number }
  | { ok: false; problem: 'malformed' | 'bad-signature' | 'expired' };

const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Signs and checks session tokens of the form `sid.expires.signature`: `expires` is epoch
 * seconds, `signature` the base64url HMAC-SHA256 of `sid.expires` under the secret.
 */
export class SessionSigner {
  readonly #secret: Buffer;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(secret: string | undefined, ttlMs: number, now: () => number) {
    // A random secret per start means tokens die with the process, which suits a demo.
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** Issues a fresh session. */
  issue(): IssuedSession {
    const sessionId = randomBytes(16).toString('base64url');
    const expiresS = Math.floor((this.#now() + this.#ttlMs) / 1_000);
    const payload = `${sessionId}.${expiresS}`;
    return {
      sessionId,
      token: `${payload}.${this.#sign(payload)}`,
      expiresAtMs: expiresS * 1_000,
    };
  }

  /** Checks a token's shape, signature and expiry, in that order. */
  check(token: string): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, problem: 'malformed' };
    const [sessionId, expires, signature] = parts as [string, string, string];
    if (!SESSION_ID.test(sessionId) || !/^\d{1,12}$/.test(expires)) {
      return { ok: false, problem: 'malformed' };
    }

    const expected = Buffer.from(this.#sign(`${sessionId}.${expires}`), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, problem: 'bad-signature' };
    }

    const expiresAtMs = Number(expires) * 1_000;
    if (expiresAtMs <= this.#now()) return { ok: false, problem: 'expired' };
    return { ok: true, sessionId, expiresAtMs };
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('base64url');
  }
}

/** True when `value` has the shape of a token (three dot-separated parts), not a bare id. */
export function looksLikeToken(value: string): boolean {
  return value.split('.').length === 3;
}

/** Reads one cookie from a `Cookie` header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const index = pair.indexOf('=');
    if (index === -1) continue;
    if (pair.slice(0, index).trim() !== name) continue;
    const value = pair.slice(index + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** The `Set-Cookie` value for a session: HttpOnly, so page scripts cannot read the token. */
export function sessionCookie(token: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}`;
}
