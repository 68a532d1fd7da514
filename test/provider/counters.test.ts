import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProviderControl, type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import { chatBody, eventually, rawChat } from './raw-client.ts';

describe('the counters', () => {
  let provider: ProviderHandle;

  beforeAll(async () => {
    provider = await startProvider({ ttftMs: 10, tokensPerSec: 200, completionTokens: 20 });
  });
  afterEach(() => {
    provider.setFaults([]);
    provider.resetCounters();
  });
  afterAll(() => provider.close());

  it('count calls, streaming calls, tokens and statuses', async () => {
    await rawChat(
      provider.baseUrl,
      chatBody({ stream: true, stream_options: { include_usage: true } }),
    );
    await rawChat(provider.baseUrl, chatBody({ max_tokens: 5 }));
    await rawChat(provider.baseUrl, '{broken');

    const counters = provider.counters();
    expect(counters.calls).toBe(3);
    expect(counters.streamingCalls).toBe(1);
    expect(counters.completionTokens).toBe(25);
    // Each call's prompt: 3 + 4 + ceil(30 / 4) = 15 tokens.
    expect(counters.promptTokens).toBe(30);
    expect(counters.byStatus).toEqual({ '200': 2, '400': 1 });
    expect(counters.abortedStreams).toBe(0);
  });

  it('count no tokens for a call answered by a 429 or a 5xx', async () => {
    provider.setFaults([{ kind: 'rate-limit' }]);
    await rawChat(provider.baseUrl, chatBody());
    provider.setFaults([{ kind: 'server-error' }]);
    await rawChat(provider.baseUrl, chatBody({ stream: true }));

    const counters = provider.counters();
    expect(counters.calls).toBe(2);
    expect(counters.promptTokens).toBe(0);
    expect(counters.completionTokens).toBe(0);
    expect(counters.byStatus).toEqual({ '429': 1, '500': 1 });
  });

  it('count a stream the caller closes mid-answer as aborted, with the tokens sent', async () => {
    const result = await rawChat(provider.baseUrl, chatBody({ stream: true }), {
      leaveAfterEvents: 4,
    });
    expect(result.events).toHaveLength(4);

    await eventually(() => provider.counters().abortedStreams === 1);
    const counters = provider.counters();
    expect(counters.completionTokens).toBeGreaterThanOrEqual(3);
    expect(counters.completionTokens).toBeLessThan(20);
    expect(counters.concurrentStreams).toBe(0);
  });

  it('count a caller who gives up on a hanging call as aborted', async () => {
    provider.setFaults([{ kind: 'hang' }]);
    await rawChat(provider.baseUrl, chatBody(), { timeoutMs: 50 });

    await eventually(() => provider.counters().abortedStreams === 1);
    expect(provider.counters().byStatus).toEqual({});
  });

  it('do not count streams the provider ended (a fault, a normal end) as aborted', async () => {
    provider.setFaults([{ kind: 'truncate', afterTokens: 2 }]);
    await rawChat(provider.baseUrl, chatBody({ stream: true }));
    provider.setFaults([{ kind: 'reset', afterTokens: 2 }]);
    await rawChat(provider.baseUrl, chatBody({ stream: true }));
    provider.setFaults([]);
    await rawChat(provider.baseUrl, chatBody({ stream: true }));

    await eventually(() => provider.counters().concurrentStreams === 0);
    expect(provider.counters().abortedStreams).toBe(0);
  });

  it('track concurrent and peak concurrent streams', async () => {
    // Half-second streams, so that all six are open together even if connecting is slow.
    provider.setFaults([{ kind: 'slow-tokens', tokensPerSec: 40 }]);
    const calls = Array.from({ length: 6 }, () =>
      rawChat(provider.baseUrl, chatBody({ stream: true })),
    );
    await eventually(() => provider.counters().concurrentStreams === 6);
    await Promise.all(calls);

    await eventually(() => provider.counters().concurrentStreams === 0);
    expect(provider.counters().peakConcurrentStreams).toBe(6);
  });
});

describe('the control API', () => {
  let provider: ProviderHandle;
  let control: ProviderControl;

  beforeAll(async () => {
    provider = await startProvider({ ttftMs: 0, tokensPerSec: 1_000, completionTokens: 3 });
    control = new ProviderControl(provider.url);
  });
  afterAll(() => provider.close());

  it('answers its health route', async () => {
    const response = await fetch(`${provider.url}/__launchproof/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, mode: 'mock', faults: 0 });
    expect(await control.healthy()).toBe(true);
  });

  it('sets faults that take effect at once, and reads them back with defaults', async () => {
    await control.setFaults([{ kind: 'server-error', status: 502 }]);
    const during = await rawChat(provider.baseUrl, chatBody());
    const faults = await control.faults();
    await control.setFaults([]);
    const after = await rawChat(provider.baseUrl, chatBody());

    expect(during.status).toBe(502);
    expect(faults).toEqual([{ kind: 'server-error', status: 502, fraction: 1 }]);
    expect(provider.faults()).toEqual([]);
    expect(after.status).toBe(200);
  });

  it('refuses an invalid fault list with a 400 that names the path', async () => {
    const response = await fetch(`${provider.url}/__launchproof/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: [{ kind: 'latency' }, { kind: 'stall', fraction: 2 }] }),
    });
    const body = (await response.json()) as { problems: string[] };

    expect(response.status).toBe(400);
    expect(body.problems).toEqual([
      'faults[0].delayMs: expected number, received nothing',
      'faults[1].fraction: expected a number <= 1, received more',
    ]);
    await expect(control.setFaults([{ kind: 'nope' } as never])).rejects.toMatchObject({
      code: 'LP_ERR_PROVIDER',
      message: expect.stringMatching(
        /^PUT http:\/\/127\.0\.0\.1:\d+\/__launchproof\/faults failed: status 400/,
      ),
    });
  });

  it('reads and resets the counters', async () => {
    await rawChat(provider.baseUrl, chatBody());
    const before = await control.counters();
    await control.resetCounters();
    const after = await control.counters();

    expect(before.calls).toBeGreaterThanOrEqual(1);
    expect(after.calls).toBe(0);
    expect(after.byStatus).toEqual({});
  });

  it('fails with LP_ERR_PROVIDER and the URL when no provider answers', async () => {
    const closed = await startProvider();
    const url = closed.url;
    await closed.close();

    await expect(new ProviderControl(url).counters()).rejects.toMatchObject({
      code: 'LP_ERR_PROVIDER',
      message: expect.stringContaining(`GET ${url}/__launchproof/counters failed`),
    });
  });
});

describe('closing the provider', () => {
  it('ends open streams and hanging calls, and is not counted as the caller aborting', async () => {
    const provider = await startProvider({ ttftMs: 0, tokensPerSec: 5, completionTokens: 50 });
    provider.setFaults([{ kind: 'hang', stream: false }]);
    const streaming = rawChat(provider.baseUrl, chatBody({ stream: true }));
    const hanging = rawChat(provider.baseUrl, chatBody());
    await eventually(() => provider.counters().calls === 2);

    await provider.close();
    const [stream, hang] = await Promise.all([streaming, hanging]);

    expect(stream.error).toBeDefined();
    expect(hang.error).toBeDefined();
    expect(provider.counters().abortedStreams).toBe(0);
  });
});
