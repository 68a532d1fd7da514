import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { SessionSigner } from '../../src/demo/session-token.ts';
import { chat, createSession, startTestStack } from './helpers.ts';

const LEAD = { name: 'Dana Reyes', email: 'dana@example.org', company: 'Reyes Legal' };

async function postLead(url: string, headers: Record<string, string>, body: unknown = LEAD) {
  const response = await fetch(`${url}/api/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function getHistory(url: string, headers: Record<string, string> = {}, query = '') {
  const response = await fetch(`${url}/api/history${query}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Flips the last character of a token's signature. */
function tamper(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -1)}${last}`;
}

describe('session tokens', () => {
  it('signs tokens as sid.expires.signature and rejects tampered or expired ones', () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const signer = new SessionSigner('a-test-secret-of-some-length', 60_000, () => nowMs);
    const session = signer.issue();

    const [sid, expires, signature] = session.token.split('.');
    expect(sid).toBe(session.sessionId);
    expect(Number(expires)).toBe((nowMs + 60_000) / 1_000);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signer.check(session.token)).toEqual({
      ok: true,
      sessionId: session.sessionId,
      expiresAtMs: nowMs + 60_000,
    });

    expect(signer.check(tamper(session.token))).toEqual({ ok: false, problem: 'bad-signature' });
    const longer = `${sid}.${Number(expires) + 3_600}.${signature}`;
    expect(signer.check(longer)).toEqual({ ok: false, problem: 'bad-signature' });
    expect(signer.check('not-a-token')).toEqual({ ok: false, problem: 'malformed' });
    const other = new SessionSigner('another-secret-of-some-length', 60_000, () => nowMs);
    expect(other.check(session.token)).toEqual({ ok: false, problem: 'bad-signature' });

    nowMs += 60_000;
    expect(signer.check(session.token)).toEqual({ ok: false, problem: 'expired' });
  });
});

describe('lead and history routes on the healthy demo', () => {
  let stack: DemoStack;
  let nowMs = Date.now();

  beforeAll(async () => {
    stack = await startTestStack({ now: () => nowMs, sessionTtlMs: 60_000 });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('creates a session: token, id, expiry and an HttpOnly cookie', async () => {
    const session = await createSession(stack.demo.url);
    expect(session.token.startsWith(`${session.sessionId}.`)).toBe(true);
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(nowMs);
    expect(session.cookie).toMatch(/^lp_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
  });

  it('refuses a lead without a token with 401 JSON', async () => {
    const answer = await postLead(stack.demo.url, {});
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ statusCode: 401, code: 'unauthorized' });
  });

  it('refuses a lead with a tampered token with 403', async () => {
    const session = await createSession(stack.demo.url);
    const answer = await postLead(stack.demo.url, {
      authorization: `Bearer ${tamper(session.token)}`,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ code: 'session_bad_signature' });
  });

  it('refuses an expired token with 403, on leads, history and chat', async () => {
    const session = await createSession(stack.demo.url);
    const auth = { authorization: `Bearer ${session.token}` };
    nowMs += 61_000;
    try {
      expect((await postLead(stack.demo.url, auth)).status).toBe(403);
      const history = await getHistory(stack.demo.url, auth);
      expect(history.status).toBe(403);
      expect(history.body).toMatchObject({ code: 'session_expired' });
      expect((await chat(stack.demo.url, { message: 'hi' }, auth)).status).toBe(403);
    } finally {
      nowMs -= 61_000;
    }
  });

  it('takes a lead with a valid token, from the header or the cookie', async () => {
    const session = await createSession(stack.demo.url);
    const byHeader = await postLead(stack.demo.url, { authorization: `Bearer ${session.token}` });
    expect(byHeader.status).toBe(201);
    expect(byHeader.body.leadId).toMatch(/^[0-9a-f-]{36}$/);

    const byCookie = await postLead(stack.demo.url, { cookie: `lp_session=${session.token}` });
    expect(byCookie.status).toBe(201);
  });

  it('answers 400, not 500, for an invalid lead', async () => {
    const session = await createSession(stack.demo.url);
    const answer = await postLead(
      stack.demo.url,
      { authorization: `Bearer ${session.token}` },
      { name: 'Dana', email: 'not-an-email' },
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'invalid_body' });
    expect(String(answer.body.message)).toContain('email');
  });

  it('returns only the calling session’s conversation', async () => {
    const alice = await createSession(stack.demo.url);
    const bob = await createSession(stack.demo.url);
    await chat(
      stack.demo.url,
      { message: 'alice asks' },
      { authorization: `Bearer ${alice.token}` },
    );
    await chat(stack.demo.url, { message: 'bob asks' }, { cookie: `lp_session=${bob.token}` });

    const history = await getHistory(stack.demo.url, { authorization: `Bearer ${alice.token}` });
    expect(history.status).toBe(200);
    const messages = history.body.messages as { sessionId: string; content: string }[];
    expect(messages.map((m) => m.sessionId)).toEqual([alice.sessionId, alice.sessionId]);
    expect(messages[0]?.content).toBe('alice asks');
  });

  it('refuses history without a token, even when the caller names a session', async () => {
    const bob = await createSession(stack.demo.url);
    expect((await getHistory(stack.demo.url)).status).toBe(401);
    expect((await getHistory(stack.demo.url, { 'x-session-id': bob.sessionId })).status).toBe(401);
    expect((await getHistory(stack.demo.url, {}, `?sessionId=${bob.sessionId}`)).status).toBe(401);
  });
});

describe('the no-auth flaw', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({ flaws: ['no-auth'] });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('lets anyone read any session’s history without a token', async () => {
    const bob = await createSession(stack.demo.url);
    await chat(
      stack.demo.url,
      { message: 'bob’s secret plans' },
      { authorization: `Bearer ${bob.token}` },
    );

    const everyone = await getHistory(stack.demo.url);
    expect(everyone.status).toBe(200);
    const all = everyone.body.messages as { sessionId: string; content: string }[];
    expect(all.some((m) => m.content === 'bob’s secret plans')).toBe(true);

    const named = await getHistory(stack.demo.url, {}, `?sessionId=${bob.sessionId}`);
    expect(named.status).toBe(200);
    expect((named.body.messages as unknown[]).length).toBe(2);
  });

  it('still protects leads', async () => {
    expect((await postLead(stack.demo.url, {})).status).toBe(401);
  });
});
