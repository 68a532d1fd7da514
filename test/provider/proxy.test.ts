import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import { CASE_PROVIDER, caseBody, FAULT_CASES } from './fault-cases.ts';
import { chatBody, eventually, type RawResult, rawChat } from './raw-client.ts';

const KEY = 'sk-upstream-test-key';
const auth = { authorization: `Bearer ${KEY}` };
const PACE = { seed: 5, ttftMs: 50, tokensPerSec: 100, completionTokens: 10, apiKey: KEY };

/** The body with `created` (a wall-clock second) blanked: all else must match byte for byte. */
const comparable = (result: RawResult): string =>
  result.body.replace(/"created":\d+/g, '"created":0');

describe('the proxy with no fault', () => {
  let direct: ProviderHandle;
  let upstream: ProviderHandle;
  let proxy: ProviderHandle;

  beforeAll(async () => {
    // Two upstreams with the same seed: what one answers directly, the other answers
    // through the proxy, so the two answers can be compared byte for byte.
    direct = await startProvider(PACE);
    upstream = await startProvider(PACE);
    proxy = await startProvider({ upstream: upstream.url });
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([upstream.close(), direct.close()]);
  });

  it('passes a stream through unchanged, event by event as the upstream sends it', async () => {
    const body = chatBody({ stream: true, stream_options: { include_usage: true } });
    const viaProxy = await rawChat(proxy.baseUrl, body, { headers: auth });
    const straight = await rawChat(direct.baseUrl, body, { headers: auth });

    expect(viaProxy.status).toBe(200);
    expect(comparable(viaProxy)).toBe(comparable(straight));
    expect(viaProxy.headers['x-request-id']).toBe(straight.headers['x-request-id']);
    expect(viaProxy.headers['content-type']).toBe(straight.headers['content-type']);
    // Relayed as it came, not buffered: ten tokens 10 ms apart arrive over about 90 ms.
    const contentMs = viaProxy.eventMs.slice(1, 11);
    expect((contentMs.at(-1) as number) - (contentMs[0] as number)).toBeGreaterThan(60);
    expect(viaProxy.firstContentMs).toBeGreaterThan(45);
  });

  it('passes a non-streaming answer and the model list through unchanged', async () => {
    const viaProxy = await rawChat(proxy.baseUrl, chatBody(), { headers: auth });
    const straight = await rawChat(direct.baseUrl, chatBody(), { headers: auth });
    const modelsVia = await fetch(`${proxy.baseUrl}/models`, { headers: auth });
    const modelsStraight = await fetch(`${direct.baseUrl}/models`, { headers: auth });

    expect(comparable(viaProxy)).toBe(comparable(straight));
    expect(await modelsVia.text()).toBe(await modelsStraight.text());
  });

  it('passes the Authorization header on, and the upstream 401 back', async () => {
    const wrong = await rawChat(proxy.baseUrl, chatBody(), {
      headers: { authorization: 'Bearer sk-wrong' },
    });
    const straight = await rawChat(direct.baseUrl, chatBody(), {
      headers: { authorization: 'Bearer sk-wrong' },
    });

    expect(wrong.status).toBe(401);
    expect(wrong.body).toBe(straight.body);
  });

  it('counts tokens from the upstream usage', async () => {
    proxy.resetCounters();
    upstream.resetCounters();
    await rawChat(proxy.baseUrl, chatBody({ max_tokens: 4 }), { headers: auth });
    await rawChat(
      proxy.baseUrl,
      chatBody({ stream: true, stream_options: { include_usage: true } }),
      {
        headers: auth,
      },
    );

    const seen = proxy.counters();
    expect(seen.calls).toBe(2);
    expect(seen.streamingCalls).toBe(1);
    expect(seen.completionTokens).toBe(upstream.counters().completionTokens);
    expect(seen.promptTokens).toBe(upstream.counters().promptTokens);
    expect(seen.byStatus).toEqual({ '200': 2 });
  });

  it('aborts the upstream call when the caller leaves mid-stream', async () => {
    upstream.resetCounters();
    proxy.resetCounters();
    await rawChat(proxy.baseUrl, chatBody({ stream: true }), {
      headers: auth,
      leaveAfterEvents: 3,
    });

    await eventually(() => upstream.counters().abortedStreams === 1);
    expect(proxy.counters().abortedStreams).toBe(1);
  });

  it('reports its mode on the health route', async () => {
    const health = await fetch(`${proxy.url}/__launchproof/health`);

    expect(await health.json()).toMatchObject({ mode: 'proxy' });
  });
});

describe('the proxy applies each fault on the way', () => {
  let upstream: ProviderHandle;
  let proxy: ProviderHandle;

  beforeAll(async () => {
    upstream = await startProvider(CASE_PROVIDER);
    proxy = await startProvider({ upstream: upstream.baseUrl });
  });
  afterEach(() => {
    proxy.setFaults([]);
    proxy.resetCounters();
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  for (const testCase of FAULT_CASES) {
    const mode = testCase.stream ? 'streaming' : 'non-streaming';
    it(`${testCase.name} (${mode}), and a healthy call shows no sign of it`, async () => {
      const healthy = await rawChat(proxy.baseUrl, caseBody(testCase), {
        timeoutMs: testCase.timeoutMs,
      });
      expect(testCase.faulted(healthy)).toBe(false);

      proxy.setFaults([testCase.rule]);
      const result = await rawChat(proxy.baseUrl, caseBody(testCase), {
        timeoutMs: testCase.timeoutMs,
      });

      expect(testCase.faulted(result)).toBe(true);
      expect(proxy.counters().faultsApplied[testCase.rule.kind]).toBe(1);
    });
  }

  it('does not call the upstream at all for a fault that replaces the answer', async () => {
    upstream.resetCounters();
    proxy.setFaults([{ kind: 'rate-limit' }]);
    const result = await rawChat(proxy.baseUrl, chatBody());

    expect(result.status).toBe(429);
    expect(upstream.counters().calls).toBe(0);
    expect(proxy.counters().promptTokens).toBe(0);
  });
});

describe('the proxy with its upstream down', () => {
  it('answers 502 with a server_error body', async () => {
    const gone = await startProvider();
    const upstreamUrl = gone.url;
    await gone.close();
    const proxy = await startProvider({ upstream: upstreamUrl });

    try {
      const result = await rawChat(proxy.baseUrl, chatBody());
      expect(result.status).toBe(502);
      expect(JSON.parse(result.body).error.type).toBe('server_error');
      expect(proxy.counters().byStatus).toEqual({ '502': 1 });
    } finally {
      await proxy.close();
    }
  });
});
