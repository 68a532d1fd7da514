import { afterEach, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { eventually, HELLO, startTestStack } from './helpers.ts';

// 30 tokens at 30 tokens/s: a one-second answer, long enough to leave in the middle of.
const SLOW_ANSWER = { ttftMs: 5, tokensPerSec: 30, completionTokens: 30 };

/** Starts a chat, reads until the first text delta, then drops the connection. */
async function leaveAfterFirstToken(url: string): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(HELLO),
    signal: controller.signal,
  });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes('"text-delta"')) {
    const chunk = await reader?.read();
    if (chunk === undefined || chunk.done) throw new Error('the answer ended before any text');
    seen += decoder.decode(chunk.value, { stream: true });
  }
  controller.abort();
}

describe('a client that leaves mid-answer', () => {
  let stack: DemoStack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('aborts the provider stream on the healthy demo, so billing stops', async () => {
    stack = await startTestStack({ provider: SLOW_ANSWER });
    const provider = stack.provider;
    await leaveAfterFirstToken(stack.demo.url);

    expect(await eventually(() => provider?.counters().abortedStreams === 1, 1_000)).toBe(true);
    expect(provider?.counters().concurrentStreams).toBe(0);
    expect(provider?.counters().completionTokens).toBeLessThan(15);
  });

  it('keeps the provider stream going to its end under the no-abort flaw', async () => {
    stack = await startTestStack({ provider: SLOW_ANSWER, flaws: ['no-abort'] });
    const provider = stack.provider;
    await leaveAfterFirstToken(stack.demo.url);

    // Well after the client left, the provider is still streaming to nobody.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(provider?.counters().concurrentStreams).toBe(1);
    expect(await eventually(() => provider?.counters().concurrentStreams === 0, 2_000)).toBe(true);
    expect(provider?.counters().abortedStreams).toBe(0);
    expect(provider?.counters().completionTokens).toBe(30);
  });

  it('aborts a provider call still waiting for its first token', async () => {
    stack = await startTestStack({ provider: { ttftMs: 2_000 }, providerTimeoutMs: 5_000 });
    const provider = stack.provider;
    const request = fetch(`${stack.demo.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(HELLO),
      signal: AbortSignal.timeout(200),
    });
    await expect(request).rejects.toThrow();
    expect(await eventually(() => provider?.counters().abortedStreams === 1, 1_000)).toBe(true);
  });
});
