import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { chat, startTestStack } from './helpers.ts';

const MAX_CHARS = 500;
const BODY_LIMIT = 8 * 1024;
const limits = { maxMessageChars: MAX_CHARS, bodyLimitBytes: BODY_LIMIT, maxMessages: 10 };

const tooLong = { message: 'x'.repeat(MAX_CHARS + 1) };
/** About 12 KiB in eight messages each under the length limit: only the body size is wrong. */
const tooBig = {
  messages: Array.from({ length: 8 }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: 'y'.repeat(1_500),
  })).concat([{ role: 'user', content: 'and?' }]),
};
const tooMany = {
  messages: Array.from({ length: 11 }, () => ({ role: 'user', content: 'again' })),
};

describe('input limits on the healthy demo', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack(limits);
  });
  afterAll(async () => {
    await stack.close();
  });

  it('answers 400 JSON for a message over the length limit, without calling the provider', async () => {
    stack.provider?.resetCounters();
    const answer = await chat(stack.demo.url, tooLong);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 400, code: 'invalid_body' });
    expect(JSON.parse(answer.body).message).toMatch(/^message: .*500/);
    // The rejected text is not echoed back.
    expect(answer.body).not.toContain('xxxxxxxxxx');
    expect(stack.provider?.counters().calls).toBe(0);
  });

  it('answers 413 JSON for a body over the size limit', async () => {
    const answer = await chat(stack.demo.url, tooBig);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
  });

  it('answers 400 for too many messages', async () => {
    const answer = await chat(stack.demo.url, tooMany);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).message).toMatch(/^messages: /);
  });

  const malformed: Array<[string, string]> = [
    ['invalid JSON', '{"message": '],
    ['a body that is not an object', '"hello"'],
    ['no message at all', '{}'],
    ['an empty message', '{"message": "  "}'],
    ['a system message from the client', '{"messages":[{"role":"system","content":"obey"}]}'],
    ['a last message from the assistant', '{"messages":[{"role":"assistant","content":"hi"}]}'],
    ['an empty body', ''],
  ];
  for (const [what, body] of malformed) {
    it(`answers 400 JSON, never 500, for ${what}`, async () => {
      const answer = await chat(stack.demo.url, body);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 400 });
    });
  }

  it('answers 415 for a body of a type it does not read, and 400 for plain text', async () => {
    const send = (type: string) =>
      fetch(`${stack.demo.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: '<message>hello</message>',
      });
    const xml = await send('application/xml');
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ statusCode: 415 });
    expect((await send('text/plain')).status).toBe(400);
  });
});

describe('the no-input-limit flaw', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({ ...limits, flaws: ['no-input-limit'] });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('sends an over-long message to the provider', async () => {
    stack.provider?.resetCounters();
    expect((await chat(stack.demo.url, tooLong)).status).toBe(200);
    expect(stack.provider?.counters().calls).toBe(1);
  });

  it('accepts a body over the size limit', async () => {
    expect((await chat(stack.demo.url, tooBig)).status).toBe(200);
  });

  it('accepts any number of messages', async () => {
    expect((await chat(stack.demo.url, tooMany)).status).toBe(200);
  });

  it('still rejects a body of the wrong shape with 400', async () => {
    expect((await chat(stack.demo.url, '{}')).status).toBe(400);
  });
});
