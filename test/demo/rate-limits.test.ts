import { randomUUID } from 'node:crypto';
import type { Client } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { chatFrom, clientFrom, HELLO, startTestStack } from './helpers.ts';

const IP_MAX = 5;
const SESSION_MAX = 3;
const limits = {
  ipRateLimit: { max: IP_MAX, windowMs: 60_000 },
  sessionRateLimit: { max: SESSION_MAX, windowMs: 60_000 },
  sessionCreateRateLimit: { max: 2, windowMs: 60_000 },
};

/** Sends `count` chats one after another; `headersFor(i)` adds headers to request i. */
async function burst(
  client: Client,
  count: number,
  headersFor: (i: number) => Record<string, string> = () => ({}),
) {
  const answers = [];
  for (let i = 0; i < count; i += 1) answers.push(await chatFrom(client, HELLO, headersFor(i)));
  return answers;
}

const statuses = (answers: { status: number }[]) => answers.map((answer) => answer.status);
const repeat = (status: number, count: number) => Array<number>(count).fill(status);

describe('rate limits on the healthy demo', () => {
  let stack: DemoStack;
  const clients: Client[] = [];
  /** A client from its own loopback address, so each test starts with a fresh IP count. */
  const fresh = (octet: number) => {
    const client = clientFrom(stack.demo.url, `127.0.0.${octet}`);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await startTestStack(limits);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await stack.close();
  });

  it('answers 429 with Retry-After and both header forms from the first request past the per-IP limit', async () => {
    const answers = await burst(fresh(11), IP_MAX + 3);
    expect(statuses(answers)).toEqual([...repeat(200, IP_MAX), ...repeat(429, 3)]);

    const remaining = answers.slice(0, IP_MAX).map((a) => Number(a.headers['ratelimit-remaining']));
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    for (const answer of answers) {
      expect(answer.headers['ratelimit-limit']).toBe(String(IP_MAX));
      expect(answer.headers['x-ratelimit-limit']).toBe(String(IP_MAX));
      expect(answer.headers['x-ratelimit-remaining']).toBe(answer.headers['ratelimit-remaining']);
    }

    const limited = answers[IP_MAX];
    const retryAfterS = Number(limited?.headers['retry-after']);
    expect(retryAfterS).toBeGreaterThan(0);
    expect(retryAfterS).toBeLessThanOrEqual(60);
    expect(limited?.headers['ratelimit-reset']).toBe(String(retryAfterS));
    expect(limited?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(limited?.body ?? '')).toMatchObject({
      statusCode: 429,
      code: 'rate_limited',
      scope: 'ip',
      retryAfterS,
    });
  });

  it('keeps limiting one address however it rotates X-Forwarded-For', async () => {
    const answers = await burst(fresh(12), IP_MAX + 3, (i) => ({
      'x-forwarded-for': `203.0.113.${i + 1}`,
    }));
    expect(statuses(answers)).toEqual([...repeat(200, IP_MAX), ...repeat(429, 3)]);
  });

  it('keeps limiting one address however it rotates sessions', async () => {
    const answers = await burst(fresh(13), IP_MAX + 3, () => ({ 'x-session-id': randomUUID() }));
    expect(statuses(answers)).toEqual([...repeat(200, IP_MAX), ...repeat(429, 3)]);
  });

  it('does not limit other visitors while one address is limited', async () => {
    const abuser = fresh(14);
    await burst(abuser, IP_MAX + 1);
    const visitor = await chatFrom(fresh(15), HELLO);
    expect(visitor.status).toBe(200);
    expect(visitor.headers['ratelimit-remaining']).toBe(String(IP_MAX - 1));
  });

  it('limits one session per session, whatever address it comes from', async () => {
    const sessionId = randomUUID();
    const first = await burst(fresh(16), SESSION_MAX, () => ({ 'x-session-id': sessionId }));
    const next = await chatFrom(fresh(17), HELLO, { 'x-session-id': sessionId });

    expect(statuses(first)).toEqual(repeat(200, SESSION_MAX));
    // With fewer requests left on the session than on the address, headers show the session.
    expect(first.map((a) => a.headers['ratelimit-limit'])).toEqual(
      repeat(SESSION_MAX, 3).map(String),
    );
    expect(next.status).toBe(429);
    expect(JSON.parse(next.body)).toMatchObject({ scope: 'session' });
    expect(Number(next.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits session creation per address', async () => {
    const client = fresh(18);
    const codes = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await client.request({ path: '/api/session', method: 'POST' });
      await response.body.dump();
      codes.push(response.statusCode);
    }
    expect(codes).toEqual([201, 201, 429]);
  });
});

describe('recovery after the rate-limit window', () => {
  it('lets requests pass again once Retry-After has passed', async () => {
    const stack = await startTestStack({ ipRateLimit: { max: 2, windowMs: 1_000 } });
    const client = clientFrom(stack.demo.url, '127.0.0.21');
    try {
      const answers = await burst(client, 3);
      expect(statuses(answers)).toEqual([200, 200, 429]);
      const retryAfterS = Number(answers[2]?.headers['retry-after']);
      expect(retryAfterS).toBe(1);

      await new Promise((resolve) => setTimeout(resolve, retryAfterS * 1_000 + 50));
      expect((await chatFrom(client, HELLO)).status).toBe(200);
    } finally {
      await client.close();
      await stack.close();
    }
  });
});

describe('rate-limit flaws', () => {
  const clients: Client[] = [];
  let stack: DemoStack | undefined;

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await stack?.close();
    stack = undefined;
  });

  async function start(flaw: 'no-rate-limit' | 'trust-xff' | 'session-only-limit') {
    stack = await startTestStack({ ...limits, flaws: [flaw] });
    const client = clientFrom(stack.demo.url, '127.0.0.31');
    clients.push(client);
    return client;
  }

  it('no-rate-limit lets one address far past the limit, with no limit headers', async () => {
    const client = await start('no-rate-limit');
    const answers = await burst(client, IP_MAX * 2 + 2, () => ({ 'x-session-id': 'one-session' }));
    expect(statuses(answers)).toEqual(repeat(200, IP_MAX * 2 + 2));
    expect(answers.some((answer) => 'ratelimit-limit' in answer.headers)).toBe(false);
  });

  it('trust-xff lets one address bypass the limit by rotating X-Forwarded-For', async () => {
    const client = await start('trust-xff');
    const rotating = await burst(client, IP_MAX * 2, (i) => ({
      'x-forwarded-for': `203.0.113.${i + 1}`,
    }));
    expect(statuses(rotating)).toEqual(repeat(200, IP_MAX * 2));

    // The same claimed address is still counted: the key is simply the header.
    const fixed = await burst(client, IP_MAX + 1, () => ({ 'x-forwarded-for': '198.51.100.7' }));
    expect(statuses(fixed)).toEqual([...repeat(200, IP_MAX), 429]);
  });

  it('session-only-limit lets one address bypass the limit by rotating sessions', async () => {
    const client = await start('session-only-limit');
    const rotating = await burst(client, IP_MAX * 2, () => ({ 'x-session-id': randomUUID() }));
    expect(statuses(rotating)).toEqual(repeat(200, IP_MAX * 2));

    // One session is still limited, and so is an anonymous visitor, at the session limit.
    const one = await burst(client, SESSION_MAX + 1, () => ({ 'x-session-id': 'same-session' }));
    expect(statuses(one)).toEqual([...repeat(200, SESSION_MAX), 429]);
    const anonymous = await burst(client, SESSION_MAX + 1);
    expect(statuses(anonymous)).toEqual([...repeat(200, SESSION_MAX), 429]);
  });
});
