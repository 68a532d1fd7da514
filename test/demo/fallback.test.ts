import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import type { FaultRuleInput } from '../../src/provider/index.ts';
import { chat, HELLO, startTestStack } from './helpers.ts';

const TIMEOUT_MS = 300;
const IDLE_MS = 300;
/** Slack for a loaded two-core machine; far below the flaws' delays. */
const SLACK_MS = 700;

const timing = { providerTimeoutMs: TIMEOUT_MS, streamIdleTimeoutMs: IDLE_MS };
// A breaker that never opens here: these tests look at single answers.
const calmBreaker = { volumeThreshold: 1_000 };

function expectCleanEnd(answer: Awaited<ReturnType<typeof chat>>): void {
  const types = answer.parts.map((part) => part.type);
  expect(types.slice(-3)).toEqual(['text-end', 'finish-step', 'finish']);
  expect(answer.done).toBe(true);
}

/** The index of the fallback event among all events, and of the first fallback text. */
function fallbackOrder(answer: Awaited<ReturnType<typeof chat>>): { marker: number; text: number } {
  const marker = answer.events.findIndex((event) => event.event === 'fallback');
  const text = answer.events.findIndex((event) => event.data.includes('example.com/book'));
  const textAfterMarker = answer.events.findIndex(
    (event, i) =>
      i > marker && event.event === undefined && event.data.includes('example.com/book'),
  );
  return { marker, text: text === marker ? textAfterMarker : text };
}

describe('the fallback answer on the healthy demo', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({ ...timing, breaker: calmBreaker });
  });
  afterEach(() => {
    stack.provider?.setFaults([]);
    stack.provider?.resetCounters();
  });
  afterAll(async () => {
    await stack.close();
  });

  const beforeHeaders: Array<[string, FaultRuleInput, string]> = [
    ['hangs', { kind: 'hang' }, 'provider-timeout'],
    ['answers 500', { kind: 'server-error', status: 500 }, 'provider-error'],
    ['answers 429', { kind: 'rate-limit', retryAfterS: 1 }, 'provider-rate-limit'],
    ['resets the connection', { kind: 'reset', afterTokens: 0 }, 'provider-error'],
    ['sends an error event first', { kind: 'error-event', afterTokens: 0 }, 'provider-error'],
  ];

  for (const [what, fault, reason] of beforeHeaders) {
    it(`answers 200 with the marked fallback when the provider ${what}`, async () => {
      stack.provider?.setFaults([fault]);
      const answer = await chat(stack.demo.url, HELLO);

      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-chat-fallback')).toBe(reason);
      expect(answer.fallback).toEqual({
        type: 'data-fallback',
        data: {
          reason,
          contact: { bookingUrl: 'https://example.com/book', email: 'hello@example.com' },
        },
      });
      const order = fallbackOrder(answer);
      expect(order.marker).toBeGreaterThan(-1);
      expect(order.text).toBeGreaterThan(order.marker);
      expect(answer.text).toContain('hello@example.com');
      expectCleanEnd(answer);
      expect(stack.provider?.counters().calls).toBe(1);
    });
  }

  it('gives the fallback for a hung provider within its timeout, not later', async () => {
    stack.provider?.setFaults([{ kind: 'hang' }]);
    const answer = await chat(stack.demo.url, HELLO);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('ends a stream that stalls mid-answer with the fallback within the idle timeout', async () => {
    stack.provider?.setFaults([{ kind: 'stall', afterTokens: 3 }]);
    const answer = await chat(stack.demo.url, HELLO);

    expect(answer.status).toBe(200);
    // Headers went out with the first token, so only the event can mark it.
    expect(answer.headers.get('x-chat-fallback')).toBeNull();
    expect(answer.fallback?.data.reason).toBe('stream-stall');
    const deltas = answer.parts.filter((part) => part.type === 'text-delta');
    expect(deltas).toHaveLength(4);
    expect(String(deltas.at(-1)?.delta)).toContain('cut short');
    const order = fallbackOrder(answer);
    expect(order.text).toBeGreaterThan(order.marker);
    expectCleanEnd(answer);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(IDLE_MS - 5);
    expect(answer.elapsedMs).toBeLessThan(IDLE_MS + SLACK_MS);
    // The stalled provider stream is closed, not left open.
    expect(stack.provider?.counters().abortedStreams).toBe(1);
  });

  for (const kind of ['error-event', 'truncate'] as const) {
    it(`ends a stream broken by ${kind} mid-answer with the fallback`, async () => {
      stack.provider?.setFaults([{ kind, afterTokens: 2 }]);
      const answer = await chat(stack.demo.url, HELLO);
      expect(answer.status).toBe(200);
      expect(answer.fallback?.data.reason).toBe('stream-error');
      expectCleanEnd(answer);
    });
  }
});

describe('the circuit breaker of the healthy demo', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({
      ...timing,
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 600 },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('stops calling a failing provider, then lets a probe through after the reset time', async () => {
    stack.provider?.setFaults([{ kind: 'server-error', status: 503 }]);
    const reasons: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      reasons.push((await chat(stack.demo.url, HELLO)).fallback?.data.reason ?? 'none');
    }
    expect(reasons.slice(0, 3)).toEqual(['provider-error', 'provider-error', 'provider-error']);
    expect(reasons.slice(3)).toEqual(['circuit-open', 'circuit-open', 'circuit-open']);
    expect(stack.provider?.counters().calls).toBe(3);
    expect(
      ((await (await fetch(`${stack.demo.url}/health`)).json()) as { breaker: string }).breaker,
    ).toBe('open');

    stack.provider?.setFaults([]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const probe = await chat(stack.demo.url, HELLO);
    expect(probe.fallback).toBeUndefined();
    expect(probe.text.length).toBeGreaterThan(0);
    expect(stack.provider?.counters().calls).toBe(4);
  });
});

describe('the no-fallback flaw', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({ ...timing, flaws: ['no-fallback'] });
  });
  afterEach(() => {
    stack.provider?.setFaults([]);
  });
  afterAll(async () => {
    await stack.close();
  });

  it('passes a provider 500 through as a 502 error instead of a fallback', async () => {
    stack.provider?.setFaults([{ kind: 'server-error', status: 500 }]);
    const answer = await chat(stack.demo.url, HELLO);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'provider_error' });
    expect(answer.fallback).toBeUndefined();
  });

  it('waits on a hung provider far past the timeout', async () => {
    stack.provider?.setFaults([{ kind: 'hang' }]);
    const waitMs = TIMEOUT_MS + SLACK_MS;
    await expect(chat(stack.demo.url, HELLO, {}, AbortSignal.timeout(waitMs))).rejects.toThrow(
      /abort|timeout/i,
    );
  });

  it('leaves a stream that stalls mid-answer hanging', async () => {
    stack.provider?.setFaults([{ kind: 'stall', afterTokens: 3 }]);
    const waitMs = IDLE_MS + SLACK_MS;
    await expect(chat(stack.demo.url, HELLO, {}, AbortSignal.timeout(waitMs))).rejects.toThrow(
      /abort|timeout/i,
    );
  });

  it('cuts a stream broken mid-answer without a terminal event', async () => {
    stack.provider?.setFaults([{ kind: 'error-event', afterTokens: 2 }]);
    const outcome = await chat(stack.demo.url, HELLO).then(
      (answer) => answer.done,
      () => false,
    );
    expect(outcome).toBe(false);
  });
});

describe('the slow-fallback flaw', () => {
  const delayMs = 900;
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startTestStack({
      ...timing,
      breaker: calmBreaker,
      flaws: ['slow-fallback'],
      flawTuning: { slowFallbackDelayMs: delayMs },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('gives the fallback only long after the provider timeout', async () => {
    stack.provider?.setFaults([{ kind: 'hang' }]);
    const answer = await chat(stack.demo.url, HELLO);
    expect(answer.fallback?.data.reason).toBe('provider-timeout');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS + delayMs - 5);
  });

  it('delays the fallback for a provider error too', async () => {
    stack.provider?.setFaults([{ kind: 'server-error', status: 500 }]);
    const answer = await chat(stack.demo.url, HELLO);
    expect(answer.fallback?.data.reason).toBe('provider-error');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(delayMs - 5);
  });
});

describe('provider retries', () => {
  it('calls the provider once per chat request on the healthy demo, even when it fails', async () => {
    const stack = await startTestStack({ ...timing, breaker: calmBreaker });
    try {
      stack.provider?.setFaults([{ kind: 'server-error', status: 500 }]);
      for (let i = 0; i < 3; i += 1) await chat(stack.demo.url, HELLO);
      stack.provider?.setFaults([{ kind: 'hang' }]);
      await chat(stack.demo.url, HELLO);
      expect(stack.provider?.counters().calls).toBe(4);
    } finally {
      await stack.close();
    }
  });

  it('storms the provider with retries under the retry-storm flaw', async () => {
    // A short timeout keeps eight timed-out attempts quick.
    const stack = await startTestStack({
      ...timing,
      providerTimeoutMs: 100,
      breaker: calmBreaker,
      flaws: ['retry-storm'],
    });
    try {
      stack.provider?.setFaults([{ kind: 'server-error', status: 500 }]);
      const answer = await chat(stack.demo.url, HELLO);
      expect(answer.fallback?.data.reason).toBe('provider-error');
      expect(stack.provider?.counters().calls).toBe(8);

      stack.provider?.resetCounters();
      stack.provider?.setFaults([{ kind: 'hang' }]);
      await chat(stack.demo.url, HELLO);
      expect(stack.provider?.counters().calls).toBe(8);
    } finally {
      await stack.close();
    }
  });
});
