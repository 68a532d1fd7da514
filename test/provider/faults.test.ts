import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import { CASE_PROVIDER, caseBody, FAULT_CASES, type FaultCase } from './fault-cases.ts';
import { rawChat } from './raw-client.ts';

const CALLS = 8;

async function outcomes(seed: number, testCase: FaultCase, fraction: number): Promise<boolean[]> {
  const provider = await startProvider({
    ...CASE_PROVIDER,
    seed,
    faults: [{ ...testCase.rule, fraction }],
  });
  try {
    const seen: boolean[] = [];
    // One call at a time: the call index, the key of each draw, follows arrival order.
    for (let i = 0; i < CALLS; i++) {
      const result = await rawChat(provider.baseUrl, caseBody(testCase), {
        timeoutMs: testCase.timeoutMs,
      });
      seen.push(testCase.faulted(result));
    }
    return seen;
  } finally {
    await provider.close();
  }
}

describe('each fault, applied to every call', () => {
  let provider: ProviderHandle;

  beforeAll(async () => {
    provider = await startProvider(CASE_PROVIDER);
  });
  afterEach(() => {
    provider.setFaults([]);
    provider.resetCounters();
  });
  afterAll(() => provider.close());

  for (const testCase of FAULT_CASES) {
    const mode = testCase.stream ? 'streaming' : 'non-streaming';
    it(`${testCase.name} (${mode}), and a healthy call shows no sign of it`, async () => {
      const healthy = await rawChat(provider.baseUrl, caseBody(testCase), {
        timeoutMs: testCase.timeoutMs,
      });
      expect(testCase.faulted(healthy)).toBe(false);

      provider.setFaults([testCase.rule]);
      const result = await rawChat(provider.baseUrl, caseBody(testCase), {
        timeoutMs: testCase.timeoutMs,
      });

      expect(testCase.faulted(result)).toBe(true);
      expect(provider.counters().faultsApplied[testCase.rule.kind]).toBe(1);
    });
  }
});

describe('a fault applied to a fraction of calls', () => {
  const streamingCases = FAULT_CASES.filter((testCase) => testCase.stream);
  const oneOfEachKind = streamingCases.filter(
    (testCase, i) => streamingCases.findIndex((c) => c.rule.kind === testCase.rule.kind) === i,
  );

  for (const testCase of oneOfEachKind) {
    it(`faults the same calls of ${testCase.rule.kind} under one seed, some not all`, async () => {
      const first = await outcomes(7, testCase, 0.5);
      const again = await outcomes(7, testCase, 0.5);

      expect(again).toEqual(first);
      expect(first).toContain(true);
      expect(first).toContain(false);
    });
  }

  it('faults other calls under another seed', async () => {
    const testCase = FAULT_CASES.find((c) => c.rule.kind === 'server-error') as FaultCase;
    const seven = await outcomes(7, testCase, 0.5);
    const eight = await outcomes(8, testCase, 0.5);

    expect(eight).not.toEqual(seven);
  });

  it('faults no call at fraction 0', async () => {
    const testCase = FAULT_CASES.find((c) => c.rule.kind === 'server-error') as FaultCase;

    expect(await outcomes(7, testCase, 0)).toEqual(Array(CALLS).fill(false));
  });
});

describe('fault scopes', () => {
  let provider: ProviderHandle;

  beforeAll(async () => {
    provider = await startProvider(CASE_PROVIDER);
  });
  afterAll(() => provider.close());

  it('applies a rule scoped to non-streaming calls to those only', async () => {
    provider.setFaults([{ kind: 'server-error', status: 502, stream: false }]);
    const streaming = await rawChat(provider.baseUrl, { ...caseBody(FAULT_CASES[0] as FaultCase) });
    const plain = await rawChat(provider.baseUrl, {
      ...caseBody(FAULT_CASES[0] as FaultCase),
      stream: false,
      stream_options: undefined,
    });

    expect(streaming.status).toBe(200);
    expect(plain.status).toBe(502);
  });

  it('applies a rule scoped to a model to calls for that model only', async () => {
    provider.setFaults([{ kind: 'rate-limit', model: 'gpt-4o' }]);
    const other = await rawChat(provider.baseUrl, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const scoped = await rawChat(provider.baseUrl, {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(other.status).toBe(200);
    expect(scoped.status).toBe(429);
  });

  it('adds latencies up and lets the first answer-replacing fault win', async () => {
    provider.setFaults([
      { kind: 'latency', delayMs: 60 },
      { kind: 'latency', delayMs: 60 },
      { kind: 'server-error', status: 500 },
      { kind: 'rate-limit' },
    ]);
    provider.resetCounters();
    const result = await rawChat(provider.baseUrl, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(result.status).toBe(500);
    expect(result.headersMs).toBeGreaterThanOrEqual(110);
    expect(provider.counters().faultsApplied).toEqual({ latency: 2, 'server-error': 1 });
  });

  it('refuses an invalid rule with LP_ERR_PROVIDER naming the field', () => {
    expect(() => provider.setFaults([{ kind: 'stall', afterTokens: -1 }])).toThrow(
      expect.objectContaining({
        code: 'LP_ERR_PROVIDER',
        message: expect.stringContaining('faults[0].afterTokens'),
      }),
    );
  });
});
