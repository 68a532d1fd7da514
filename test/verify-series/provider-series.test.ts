import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { ProviderControl, type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import { providerSeriesExtensions } from '../../src/verify/provider-series.ts';
import { scenario } from '../helpers/scenario.ts';

let provider: ProviderHandle;
beforeAll(async () => {
  provider = await startProvider({ ttftMs: 20, tokensPerSec: 500, completionTokens: 10 });
});
afterAll(() => provider.close());

describe('provider calls and spend per second', () => {
  it('charts the calls the provider saw each second and what their tokens cost', async () => {
    const s = scenario({
      name: 'series',
      cost: { model: 'gpt-4o-mini' },
      flows: [
        {
          name: 'calls',
          load: { executor: 'constant-arrival-rate', rate: 10, duration: '3s' },
          request: {
            method: 'POST',
            path: '/v1/chat/completions',
            json: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'price?' }] },
          },
        },
      ],
    });
    const extensions = providerSeriesExtensions(s, {
      target: provider.url,
      provider: new ProviderControl(provider.url),
      demo: undefined,
    });
    const { summary } = await runScenario(s, { target: provider.url, extensions });

    const calls = summary.series.map((row) => row.providerCalls ?? 0);
    const total = calls.reduce((sum, n) => sum + n, 0);
    // 30 calls in 3 s; the last few may land after the last full second was read.
    expect(total).toBeGreaterThanOrEqual(25);
    expect(total).toBeLessThanOrEqual(30);
    expect(calls[1]).toBeGreaterThanOrEqual(8);
    const cost = summary.series.reduce((sum, row) => sum + (row.providerCostUsd ?? 0), 0);
    // gpt-4o-mini: 10 output tokens at $0.60/M per call, plus the prompt at $0.15/M.
    expect(cost).toBeGreaterThan(total * 10 * 0.6e-6);
    expect(cost).toBeLessThan(total * (10 * 0.6e-6 + 100 * 0.15e-6));
  });

  it('is not armed when no mock provider is in the path', () => {
    const s = scenario({
      name: 'none',
      flows: [{ name: 'a', load: { executor: 'burst', count: 1 }, request: { path: '/' } }],
    });
    expect(
      providerSeriesExtensions(s, {
        target: 'http://127.0.0.1:1',
        provider: undefined,
        demo: undefined,
      }),
    ).toEqual([]);
  });
});
