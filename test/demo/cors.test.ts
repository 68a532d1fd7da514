import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { chat, HELLO, startTestStack } from './helpers.ts';

const ALLOWED = 'https://www.client-site.example';

describe('the CORS allowlist', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({ allowedOrigins: [ALLOWED] });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('lets an allowed origin read chat answers and the fallback and limit headers', async () => {
    const answer = await chat(stack.demo.url, HELLO, { origin: ALLOWED });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
    const exposed = answer.headers.get('access-control-expose-headers') ?? '';
    for (const name of ['x-chat-fallback', 'retry-after', 'ratelimit-remaining']) {
      expect(exposed).toContain(name);
    }
  });

  it('gives a disallowed origin no Access-Control-Allow-Origin', async () => {
    const answer = await chat(stack.demo.url, HELLO, { origin: 'https://evil.example' });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('vary')).toMatch(/origin/i);
  });

  it('answers the preflight of an allowed origin, and not of another', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.demo.url}/api/chat`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, authorization',
        },
      });

    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');

    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});
