import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import { CHAT_FLOW, explain, passed, runAgainstDemo, warmUp } from './demo-runs.ts';

/**
 * The provider hangs from 0.3 s to 2.1 s of 3 s of chat at 20/s. The healthy demo falls
 * back at its 300 ms timeout, its breaker opens about half a second in and probes 1.5 s
 * later, once the provider is back. A visitor gives up after 2.5 s.
 */
const HANG: ScenarioInput = {
  name: 'hang',
  flows: [
    {
      name: 'chat',
      ...CHAT_FLOW,
      load: { executor: 'constant-arrival-rate', rate: 20, duration: '3s', gracefulStop: '1s' },
      timeouts: { request: '2.5s' },
    },
  ],
  faults: [{ name: 'provider-timeout', at: '300ms', for: '1.8s', fault: { kind: 'hang' } }],
  thresholds: { 'fallback{fault:provider-timeout,phase:during}': ['rate>=0.95'] },
  resilience: {
    fallbackEngages: { minShare: 0.95 },
    fallbackFast: { deadline: '1s' },
    noServerErrors: true,
    recovery: { within: '1.5s' },
    noRetryStorm: { maxCallsPerRequest: 1.5 },
    circuitOpens: { within: '1s', probeAfter: '1.5s', probeTolerance: '500ms' },
  },
};

/** 503s from 0.3 s to 1.3 s of 2 s of chat at 20/s. */
const ERRORS: ScenarioInput = {
  name: 'errors',
  flows: [
    {
      name: 'chat',
      ...CHAT_FLOW,
      load: { executor: 'constant-arrival-rate', rate: 20, duration: '2s', gracefulStop: '1s' },
      timeouts: { request: '2.5s' },
    },
  ],
  faults: [
    {
      name: 'provider-down',
      at: '300ms',
      for: '1s',
      fault: { kind: 'server-error', status: 503 },
    },
  ],
  resilience: {
    fallbackEngages: { minShare: 0.95 },
    noServerErrors: true,
    recovery: { within: '500ms' },
    noRetryStorm: { maxCallsPerRequest: 1.5, window: '500ms', minRequests: 5 },
  },
};
// These runs look at retries and 5xx, not at the breaker: one that never opens.
const NO_BREAKER = { breaker: { volumeThreshold: 100_000 } };

/**
 * Streams stall after three tokens from 0.5 s, then end in an error event from 1 s, in
 * 2.5 s of chat; beside them, clients who leave 100 ms into 0.4 s answers, judged before the
 * faults and from 0.3 s after them.
 */
const STREAMS: ScenarioInput = {
  name: 'streams',
  flows: [
    {
      name: 'chat',
      ...CHAT_FLOW,
      load: { executor: 'constant-arrival-rate', rate: 10, duration: '2.5s', gracefulStop: '2s' },
    },
    {
      name: 'leavers',
      request: CHAT_FLOW.request,
      stream: { format: 'vercel-ai', idleTimeout: '1s', abandonAfter: '100ms' },
      load: { executor: 'constant-arrival-rate', rate: 8, duration: '2.5s', gracefulStop: '2s' },
    },
  ],
  faults: [
    { name: 'stream-stall', at: '500ms', for: '500ms', fault: { kind: 'stall', afterTokens: 3 } },
    {
      name: 'stream-error',
      at: '1s',
      for: '500ms',
      fault: { kind: 'error-event', afterTokens: 2 },
    },
  ],
  resilience: {
    flows: ['chat'],
    brokenStreamsEnd: true,
    fallbackEngages: { minShare: 0.95 },
    abandonedStreamsStop: { within: '500ms', settle: '300ms' },
  },
};
// Answers long enough (40 tokens at 100/s) that a client 100 ms in always leaves mid-answer.
const LONG_ANSWERS = { provider: { ttftMs: 20, tokensPerSec: 100, completionTokens: 40 } };

beforeAll(async () => {
  await warmUp();
});

describe('a provider that hangs', () => {
  it('passes every check on the healthy demo, with phases tagged on the metrics', async () => {
    const run = await runAgainstDemo(HANG);

    for (const name of [
      'fallback engages',
      'fallback is fast',
      'no server errors',
      'recovery',
      'no retry storm',
      'circuit opens',
      'fault timeline',
    ]) {
      expect(passed(run, name), `${name}\n${explain(run)}`).toBe(true);
    }
    expect(run.summary.verdict).toBe('pass');
    expect(run.summary.metrics['fallback{fault:provider-timeout,phase:during}']).toMatchObject({
      kind: 'rate',
      rate: 1,
    });
    expect(run.summary.faultWindows).toHaveLength(1);
    expect(run.summary.faultWindows[0]?.label).toBe('provider-timeout: hang (all calls)');
  });

  it('fails "fallback engages" and "circuit opens" when the demo has no fallback', async () => {
    const run = await runAgainstDemo(HANG, ['no-fallback']);

    expect(passed(run, 'fallback engages'), explain(run)).toBe(false);
    expect(passed(run, 'circuit opens'), explain(run)).toBe(false);
    expect(run.checks('fallback engages')[0]?.evidence[1]).toMatch(/timed out/);
    expect(run.summary.verdict).toBe('fail');
  });

  it('fails "fallback is fast", and only that, when the fallback comes late', async () => {
    const run = await runAgainstDemo(HANG, ['slow-fallback']);

    expect(passed(run, 'fallback is fast'), explain(run)).toBe(false);
    expect(passed(run, 'fallback engages'), explain(run)).toBe(true);
    expect(passed(run, 'no server errors'), explain(run)).toBe(true);
    expect(run.checks('fallback is fast')[0]?.evidence[0]).toMatch(
      /p99 time to the fallback answer: 1\.\d\d s/,
    );
  });

  it('fails "recovery" when the breaker stays open long after the provider is back', async () => {
    const run = await runAgainstDemo(HANG, [], {
      breaker: { volumeThreshold: 3, rollingCountTimeoutMs: 500, resetTimeoutMs: 30_000 },
    });

    expect(passed(run, 'fallback engages'), explain(run)).toBe(true);
    expect(passed(run, 'recovery'), explain(run)).toBe(false);
    expect(run.checks('recovery')[0]?.evidence[0]).toContain('no run of normal answers came back');
  });
});

describe('a provider that answers 503', () => {
  it('passes on the healthy demo: marked fallbacks, no 5xx, one call per request', async () => {
    const run = await runAgainstDemo(ERRORS, [], NO_BREAKER);

    for (const name of ['fallback engages', 'no server errors', 'recovery', 'no retry storm']) {
      expect(passed(run, name), `${name}\n${explain(run)}`).toBe(true);
    }
  });

  it('fails "no retry storm" when the demo retries each error eight times', async () => {
    const run = await runAgainstDemo(ERRORS, ['retry-storm'], NO_BREAKER);

    expect(passed(run, 'no retry storm'), explain(run)).toBe(false);
    // Up to eight calls per request while the provider is down, where the healthy demo makes one.
    const overall = run.checks('no retry storm')[0]?.evidence[0] ?? '';
    expect(Number(/= ([\d.]+) per request/.exec(overall)?.[1])).toBeGreaterThan(2);
  });

  it('fails "no server errors" when the demo passes the errors through', async () => {
    const run = await runAgainstDemo(ERRORS, ['no-fallback'], NO_BREAKER);

    expect(passed(run, 'no server errors'), explain(run)).toBe(false);
    expect(run.checks('no server errors')[0]?.evidence[1]).toMatch(/× 502/);
  });
});

describe('streams that stall, break or are left', () => {
  it('passes on the healthy demo: every stream ends, every left stream stops upstream', async () => {
    const run = await runAgainstDemo(STREAMS, [], LONG_ANSWERS);

    for (const name of ['broken streams end', 'fallback engages', 'abandoned streams stop']) {
      expect(passed(run, name), `${name}\n${explain(run)}`).toBe(true);
    }
    expect(run.checks('broken streams end')).toHaveLength(2);
  });

  it('fails "broken streams end" when the demo lets streams stall and break', async () => {
    const run = await runAgainstDemo(STREAMS, ['no-fallback'], LONG_ANSWERS);
    const [stall, error] = run.checks('broken streams end');

    expect(stall?.ok, explain(run)).toBe(false);
    expect(stall?.evidence[1]).toMatch(/stalled/);
    expect(error?.ok, explain(run)).toBe(false);
  });

  it('fails "abandoned streams stop" when the demo keeps reading for clients who left', async () => {
    const run = await runAgainstDemo(STREAMS, ['no-abort'], LONG_ANSWERS);

    expect(passed(run, 'abandoned streams stop'), explain(run)).toBe(false);
    expect(passed(run, 'broken streams end'), explain(run)).toBe(true);
    expect(run.checks('abandoned streams stop')[0]?.evidence).toContain(
      '0% stopped in time, declared at least 90%',
    );
  });
});
