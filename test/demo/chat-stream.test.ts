import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { chat, createSession, HELLO, startTestStack } from './helpers.ts';

describe('the demo chat stream', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({ provider: { completionTokens: 12 } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('answers health checks with 200 JSON', async () => {
    const response = await fetch(`${stack.demo.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', breaker: 'closed', flaws: [] });
  });

  it('streams a Vercel AI SDK v5 UI message stream with usage and [DONE]', async () => {
    stack.provider?.resetCounters();
    const answer = await chat(stack.demo.url, HELLO);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(answer.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(answer.headers.get('x-chat-fallback')).toBeNull();
    expect(answer.fallback).toBeUndefined();

    const types = answer.parts.map((part) => part.type);
    const deltas = types.filter((type) => type === 'text-delta').length;
    expect(types).toEqual([
      'start',
      'start-step',
      'text-start',
      ...Array(deltas).fill('text-delta'),
      'text-end',
      'finish-step',
      'finish',
    ]);
    expect(deltas).toBe(12);
    expect(answer.done).toBe(true);

    const [start, , textStart] = answer.parts;
    expect(start?.messageId).toMatch(/^msg_/);
    const textId = textStart?.id;
    for (const part of answer.parts.filter((p) => String(p.type).startsWith('text-'))) {
      expect(part.id).toBe(textId);
    }
    expect(answer.text.trim().length).toBeGreaterThan(0);

    const counters = stack.provider?.counters();
    expect(answer.parts.at(-1)).toEqual({
      type: 'finish',
      messageMetadata: {
        usage: { inputTokens: counters?.promptTokens, outputTokens: counters?.completionTokens },
      },
    });
    expect(counters?.calls).toBe(1);
  });

  it('accepts a conversation with content or AI SDK parts, and keeps it per session', async () => {
    const session = await createSession(stack.demo.url);
    const auth = { authorization: `Bearer ${session.token}` };
    const first = await chat(
      stack.demo.url,
      { messages: [{ role: 'user', content: 'Do you work with law firms?' }] },
      auth,
    );
    const second = await chat(
      stack.demo.url,
      {
        id: 'chat-1',
        trigger: 'submit-message',
        messages: [
          {
            id: 'm1',
            role: 'user',
            parts: [{ type: 'text', text: 'Do you work with law firms?' }],
          },
          { id: 'm2', role: 'assistant', parts: [{ type: 'text', text: first.text }] },
          { id: 'm3', role: 'user', parts: [{ type: 'text', text: 'Can I book a call?' }] },
        ],
      },
      auth,
    );
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);

    const history = await fetch(`${stack.demo.url}/api/history`, { headers: auth });
    const body = (await history.json()) as { messages: { role: string; content: string }[] };
    expect(body.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Do you work with law firms?'],
      ['assistant', first.text],
      ['user', 'Can I book a call?'],
      ['assistant', second.text],
    ]);
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const response = await fetch(`${stack.demo.url}/api/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ statusCode: 404, code: 'not_found' });
  });
});
