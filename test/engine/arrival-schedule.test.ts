import { describe, expect, it } from 'vitest';
import { createArrivalSchedule } from '../../src/engine/arrival-schedule.ts';
import { loadSchema } from '../../src/scenario/schema.ts';

function schedule(load: unknown, seed = 7) {
  const parsed = loadSchema.parse(load);
  if (parsed.executor === 'constant-vus' || parsed.executor === 'ramping-vus') throw new Error();
  return createArrivalSchedule(parsed, seed);
}

describe('arrival schedules', () => {
  it('plans exactly rate × duration evenly spaced arrivals, the first at 0', () => {
    const s = schedule({ executor: 'constant-arrival-rate', rate: 200, duration: '3s' });
    const offsets = [...s.offsets()];
    expect(s.plannedCount).toBe(600);
    expect(offsets).toHaveLength(600);
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBeCloseTo(5_000, 6);
    expect(offsets[599]).toBeCloseTo(2_995_000, 3);
  });

  it('honours timeUnit: 30 per minute is one every two seconds', () => {
    const s = schedule({
      executor: 'constant-arrival-rate',
      rate: 30,
      timeUnit: '1m',
      duration: '10s',
    });
    expect([...s.offsets()]).toEqual([0, 2e6, 4e6, 6e6, 8e6].map((v) => expect.closeTo(v, 3)));
  });

  it('ramps the rate linearly: 0 to 100/s over 2 s plans 100 arrivals, denser at the end', () => {
    const s = schedule({
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [{ duration: '2s', target: 100 }],
    });
    const offsets = [...s.offsets()];
    expect(offsets).toHaveLength(100);
    // Λ(t) = 25 t², so arrival n lands at t = √(n / 25) seconds.
    expect(offsets[25]).toBeCloseTo(1_000_000, 0);
    expect(offsets[99]).toBeCloseTo(Math.sqrt(99 / 25) * 1e6, 0);
  });

  it('continues a ramp across stages and holds a flat stage at its rate', () => {
    const s = schedule({
      executor: 'ramping-arrival-rate',
      startRate: 10,
      stages: [
        { duration: '1s', target: 10 },
        { duration: '1s', target: 30 },
      ],
    });
    const offsets = [...s.offsets()];
    expect(offsets).toHaveLength(30); // 10 in the flat second, then (10 + 30) / 2
    expect(offsets[9]).toBeCloseTo(900_000, 3);
    expect(offsets[10]).toBeCloseTo(1_000_000, 3);
  });

  it('gives the same Poisson schedule for the same seed and another for another seed', () => {
    const load = {
      executor: 'constant-arrival-rate',
      rate: 500,
      duration: '2s',
      spacing: 'poisson',
    };
    const a = [...schedule(load, 42).offsets()];
    const b = [...schedule(load, 42).offsets()];
    const c = [...schedule(load, 43).offsets()];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // 1,000 expected arrivals: a Poisson count within 4 standard deviations (±126).
    expect(Math.abs(a.length - 1_000)).toBeLessThan(126);
    expect(a.every((v, i) => i === 0 || v >= (a[i - 1] as number))).toBe(true);
  });

  it('releases a burst at once, or spreads it over its window', () => {
    const once = [...schedule({ executor: 'burst', count: 5 }).offsets()];
    expect(once).toEqual([0, 0, 0, 0, 0]);
    const spread = [...schedule({ executor: 'burst', count: 4, spread: '1s' }).offsets()];
    expect(spread).toEqual([0, 250_000, 500_000, 750_000]);
    const random = [
      ...schedule({ executor: 'burst', count: 50, spread: '1s', spacing: 'poisson' }).offsets(),
    ];
    expect(random).toHaveLength(50);
    expect(Math.max(...random)).toBeLessThan(1_000_000);
  });

  it('offsets every arrival by the flow startTime', () => {
    const s = schedule({
      executor: 'constant-arrival-rate',
      rate: 1,
      duration: '2s',
      startTime: '5s',
    });
    expect([...s.offsets()]).toEqual([5_000_000, 6_000_000]);
  });
});
