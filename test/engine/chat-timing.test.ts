import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClientChoice } from '../../src/engine/flow-runtime.ts';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { scenario } from '../helpers/scenario.ts';

/** Every test runs once on each HTTP client: the fast one (`auto`, plain HTTP) and undici. */
const CLIENTS: ReadonlyArray<readonly [label: string, httpClient: HttpClientChoice]> = [
  ['fast client', 'auto'],
  ['undici', 'undici'],
];

let provider: ProviderHandle;
beforeAll(async () => {
  provider = await startProvider({
    seed: 3,
    ttftMs: 200,
    tokensPerSec: 50,
    completionTokens: 40,
  });
});
afterAll(() => provider.close());

function trend(summary: Summary, key: string) {
  const metric = summary.metrics[key];
  if (metric?.kind !== 'trend') throw new Error(`no trend ${key}`);
  return metric;
}

describe.each(CLIENTS)('chat timings against the mock provider (%s)', (_label, httpClient) => {
  it('measures a 200 ms first token and 50 tokens/s within 5%, tokens from the usage block', async () => {
    const { summary } = await runScenario(
      scenario({
        name: 'ttft',
        flows: [
          {
            name: 'openai',
            load: { executor: 'constant-arrival-rate', rate: 10, duration: '2s' },
            stream: { format: 'openai', idleTimeout: '5s' },
            request: {
              method: 'POST',
              path: '/v1/chat/completions',
              json: {
                model: 'gpt-4o-mini',
                stream: true,
                stream_options: { include_usage: true },
                messages: [{ role: 'user', content: 'What does an audit cost?' }],
              },
            },
          },
        ],
      }),
      { target: provider.url, httpClient },
    );

    const ttft = trend(summary, 'chat_ttft');
    expect(ttft.count).toBe(20);
    expect(Math.abs(ttft.p50 - 200)).toBeLessThan(10);
    const pace = trend(summary, 'chat_tokens_per_sec');
    expect(Math.abs(pace.p50 - 50)).toBeLessThan(2.5);
    const tokens = trend(summary, 'chat_tokens');
    expect(tokens.p50).toBe(40);
    // 39 gaps of 20 ms between 40 content deltas.
    const itl = trend(summary, 'chat_itl');
    expect(itl.count).toBe(20 * 39);
    expect(Math.abs(itl.p50 - 20)).toBeLessThan(2);
    expect(summary.metrics.chat_stream_failed).toMatchObject({ kind: 'rate', passes: 0 });
  });

  it('counts a stall mid-stream as a stalled stream, not a success', async () => {
    provider.setFaults([{ kind: 'stall', afterTokens: 3 }]);
    try {
      const { summary } = await runScenario(
        scenario({
          name: 'stall',
          flows: [
            {
              name: 'stalls',
              load: { executor: 'constant-arrival-rate', rate: 5, duration: '1s' },
              stream: { format: 'openai', idleTimeout: '400ms' },
              request: {
                method: 'POST',
                path: '/v1/chat/completions',
                json: {
                  model: 'gpt-4o-mini',
                  stream: true,
                  messages: [{ role: 'user', content: 'hi' }],
                },
              },
            },
          ],
        }),
        { target: provider.url, httpClient },
      );
      expect(summary.failures).toEqual([
        expect.objectContaining({ kind: 'stream-stalled', count: 5 }),
      ]);
      expect(summary.metrics.chat_stream_failed).toMatchObject({
        kind: 'rate',
        passes: 5,
        fails: 0,
      });
      expect(summary.metrics.http_req_failed).toMatchObject({ kind: 'rate', passes: 5 });
    } finally {
      provider.setFaults([]);
    }
  });

  it('leaves mid-answer when told to, and the provider sees the stream aborted', async () => {
    provider.resetCounters();
    const { summary } = await runScenario(
      scenario({
        name: 'leave',
        flows: [
          {
            name: 'leavers',
            load: { executor: 'constant-arrival-rate', rate: 5, duration: '1s' },
            stream: { format: 'openai', idleTimeout: '5s', abandonAfter: '300ms' },
            request: {
              method: 'POST',
              path: '/v1/chat/completions',
              json: {
                model: 'gpt-4o-mini',
                stream: true,
                messages: [{ role: 'user', content: 'hi' }],
              },
            },
          },
        ],
      }),
      { target: provider.url, httpClient },
    );
    expect(summary.metrics.chat_abandoned).toMatchObject({ kind: 'counter', count: 5 });
    expect(summary.metrics.http_req_failed).toMatchObject({ kind: 'rate', passes: 0 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(provider.counters().abortedStreams).toBe(5);
  });
});
