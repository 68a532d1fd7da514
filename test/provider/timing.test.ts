import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import { chatBody, rawChat } from './raw-client.ts';

const TTFT_MS = 200;
const TOKENS_PER_SEC = 50;
const TOKENS = 16;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

describe('the provider keeps its own schedule, measured by the client', () => {
  let provider: ProviderHandle;

  beforeAll(async () => {
    provider = await startProvider({
      ttftMs: TTFT_MS,
      tokensPerSec: TOKENS_PER_SEC,
      completionTokens: TOKENS,
    });
    // Warm-up calls on four connections, so that neither side's first-call costs (compiling,
    // connecting) land in the figures.
    await Promise.all(
      Array.from({ length: 4 }, () =>
        rawChat(provider.baseUrl, chatBody({ stream: true, max_tokens: 1 })),
      ),
    );
  });
  afterAll(() => provider.close());

  it('sends the first token 200 ms after the role chunk, then 50 tokens a second', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => rawChat(provider.baseUrl, chatBody({ stream: true }))),
    );

    // From the role chunk, which the provider writes as it starts the call: the time from
    // the send to it is the machine's (connecting, scheduling), not the provider's plan.
    const ttfts = results.map(
      (result) => (result.firstContentMs ?? Number.NaN) - (result.eventMs[0] ?? Number.NaN),
    );
    const rates = results.map((result) => {
      const contentTimes = result.eventMs.slice(1, 1 + TOKENS);
      const spanMs = (contentTimes.at(-1) as number) - (contentTimes[0] as number);
      return ((TOKENS - 1) * 1000) / spanMs;
    });

    // 10% either way: the provider's own timing on a noisy two-core machine.
    expect(median(ttfts)).toBeGreaterThan(TTFT_MS * 0.9);
    expect(median(ttfts)).toBeLessThan(TTFT_MS * 1.1);
    expect(median(rates)).toBeGreaterThan(TOKENS_PER_SEC * 0.9);
    expect(median(rates)).toBeLessThan(TOKENS_PER_SEC * 1.1);
  });

  it('sends the role chunk at once, before the first token', async () => {
    const result = await rawChat(provider.baseUrl, chatBody({ stream: true, max_tokens: 2 }));

    expect(result.eventMs[0]).toBeLessThan(TTFT_MS / 2);
    expect(result.firstContentMs).toBeGreaterThan(TTFT_MS * 0.9);
  });

  it('answers a non-streaming call once the whole answer would have been generated', async () => {
    const result = await rawChat(provider.baseUrl, chatBody({ max_tokens: 6 }));
    const plannedMs = TTFT_MS + (5 * 1000) / TOKENS_PER_SEC;

    expect(result.headersMs).toBeGreaterThan(plannedMs * 0.9);
    expect(result.headersMs).toBeLessThan(plannedMs * 1.1);
  });
});
