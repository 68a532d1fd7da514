import { describe, expect, it } from 'vitest';
import { answerText, drawAnswer } from '../../src/provider/answer-text.ts';
import { planFaults } from '../../src/provider/fault-plan.ts';
import { faultRuleSchema } from '../../src/provider/index.ts';
import { createRandom, sample } from '../../src/provider/random.ts';
import { TokenScheduler } from '../../src/provider/token-scheduler.ts';

const rule = (input: unknown) => faultRuleSchema.parse(input);

describe('seeded draws', () => {
  it('faults the golden share of 10,000 calls at fraction 0.3 under seed 1', () => {
    const rules = [rule({ kind: 'server-error', fraction: 0.3 })];
    let faulted = 0;
    for (let callIndex = 0; callIndex < 10_000; callIndex++) {
      const plan = planFaults(rules, { seed: 1, callIndex, stream: true, model: 'm' });
      if (plan.answer) faulted++;
    }

    // Golden for this generator; a fair draw lands within 2 points of 30%.
    expect(faulted).toBe(2_956);
    expect(Math.abs(faulted / 10_000 - 0.3)).toBeLessThan(0.02);
  });

  it('draws fault fractions independently of the other rules in the list', () => {
    const alone = [rule({ kind: 'stall', fraction: 0.5 })];
    const withLatency = [rule({ kind: 'latency', delayMs: 5, fraction: 0.5 }), ...alone];
    const calls = Array.from({ length: 50 }, (_, callIndex) => callIndex);
    const stalled = (rules: ReturnType<typeof rule>[], position: number) =>
      calls.filter((callIndex) => {
        const plan = planFaults(rules, { seed: 9, callIndex, stream: true, model: 'm' });
        return plan.applied.includes('stall') && rules[position]?.kind === 'stall';
      });

    expect(stalled(alone, 0).length).toBeGreaterThan(10);
    expect(stalled(withLatency, 1).length).toBeGreaterThan(10);
  });

  it('samples distributions to their golden means', () => {
    const mean = (draw: () => number) => {
      let sum = 0;
      for (let i = 0; i < 20_000; i++) sum += draw();
      return sum / 20_000;
    };
    const random = createRandom(42);

    expect(mean(() => sample({ kind: 'fixed', value: 7 }, random))).toBe(7);
    expect(mean(() => sample({ kind: 'uniform', min: 10, max: 30 }, random))).toBeCloseTo(20, 0);
    expect(mean(() => sample({ kind: 'normal', mean: 200, stddev: 20 }, random))).toBeCloseTo(
      200,
      0,
    );
    // A lognormal's mean is median * exp(sigma^2 / 2) = 100 * e^0.125 = 113.3.
    expect(mean(() => sample({ kind: 'lognormal', median: 100, sigma: 0.5 }, random))).toBeCloseTo(
      113.3,
      0,
    );
  });

  it('gives the same answer text for the same seed and another for another', () => {
    const a = answerText(drawAnswer(30, createRandom(5)));
    const b = answerText(drawAnswer(30, createRandom(5)));
    const c = answerText(drawAnswer(30, createRandom(6)));

    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).toMatch(/^[A-Z]/);
    expect(a.split(/\s+/).length).toBeGreaterThan(15);
  });
});

describe('the token scheduler', () => {
  it('runs tasks in due order on one timer, none before its time', async () => {
    const scheduler = new TokenScheduler();
    const ran: { label: number; lateMs: number }[] = [];
    const startMs = performance.now();
    for (const offsetMs of [40, 10, 30, 20, 0, 10]) {
      scheduler.at(startMs + offsetMs, (dueMs, nowMs) =>
        ran.push({ label: offsetMs, lateMs: nowMs - dueMs }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 80));
    scheduler.close();

    expect(ran.map((r) => r.label)).toEqual([0, 10, 10, 20, 30, 40]);
    // Libuv time is whole milliseconds: a task may run up to 1 ms before its due time.
    for (const r of ran) expect(r.lateMs).toBeGreaterThanOrEqual(-1);
  });

  it('drops waiting tasks when closed', async () => {
    const scheduler = new TokenScheduler();
    let ran = false;
    scheduler.at(performance.now() + 10, () => {
      ran = true;
    });
    scheduler.close();
    await new Promise((resolve) => setTimeout(resolve, 30));

    expect(ran).toBe(false);
    expect(scheduler.size).toBe(0);
  });
});
