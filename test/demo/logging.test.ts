import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { chat, createSession, startTestStack } from './helpers.ts';

const PROVIDER_KEY = 'sk-demo-logging-test-key-4242';
const EMAIL = 'dana.reyes@example.org';
const PHONE = '+1 415 555 0134';

describe('the demo’s logs', () => {
  let stack: DemoStack;
  const lines: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      providerApiKey: PROVIDER_KEY,
      provider: { apiKey: PROVIDER_KEY },
      logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('logs requests while redacting tokens, cookies, the provider key and lead PII', async () => {
    const session = await createSession(stack.demo.url);
    const answer = await chat(
      stack.demo.url,
      { message: `Call me on ${PHONE} or write to ${EMAIL}` },
      { authorization: `Bearer ${session.token}`, cookie: `lp_session=${session.token}` },
    );
    expect(answer.status).toBe(200);
    const lead = await fetch(`${stack.demo.url}/api/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `lp_session=${session.token}` },
      body: JSON.stringify({ name: 'Dana Reyes', email: EMAIL, phone: PHONE }),
    });
    expect(lead.status).toBe(201);
    stack.provider?.setFaults([{ kind: 'server-error', status: 500 }]);
    await chat(stack.demo.url, { message: 'hi' });

    const log = lines.join('');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // The logger is really on: requests, the lead and the provider failure are there.
    expect(records.some((r) => r.msg === 'incoming request')).toBe(true);
    expect(records.some((r) => r.msg === 'lead captured')).toBe(true);
    expect(records.some((r) => r.msg === 'provider call failed')).toBe(true);
    expect(log).toContain('[Redacted]');

    for (const secret of [session.token, PROVIDER_KEY, EMAIL, PHONE, 'Dana Reyes']) {
      expect(log).not.toContain(secret);
    }
  });
});
