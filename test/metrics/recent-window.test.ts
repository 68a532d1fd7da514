import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initHistograms, ValueHistogram } from '../../src/metrics/histogram.ts';
import { RecentWindow } from '../../src/metrics/recent-window.ts';
import { TimeSeries } from '../../src/metrics/time-series.ts';

beforeAll(async () => {
  await initHistograms();
});

let histograms: ValueHistogram[] = [];
afterEach(() => {
  for (const histogram of histograms) histogram.destroy();
  histograms = [];
});

function histogram(): ValueHistogram {
  const made = new ValueHistogram();
  histograms.push(made);
  return made;
}

/** A seeded linear congruential generator (exact in 32 bits). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

const PERCENTILES = [0, 1, 50, 90, 95, 99, 99.9, 100];

describe('RecentWindow', () => {
  it('gives the percentiles of a merged ValueHistogram of the same five seconds, second by second', () => {
    const random = seeded(42);
    const window = new RecentWindow(5);
    const ring = Array.from({ length: 5 }, histogram);
    const merged = histogram();
    let current = 0;
    let compared = 0;

    for (let second = 0; second < 12; second++) {
      const count = Math.floor(random() * 400);
      for (let i = 0; i < count; i++) {
        // Sub-millisecond to an hour and past it (3.98e9 µs), and below 1 in some seconds.
        const value = second % 4 === 3 ? random() * 5 : 10 ** (random() * 9.6);
        window.record(value);
        ring[current]?.record(value);
      }
      merged.reset();
      for (const h of ring) merged.add(h);

      expect(window.count, `count at second ${second}`).toBe(merged.count);
      for (const p of PERCENTILES) {
        expect(window.percentile(p), `p${p} at second ${second}`).toBe(merged.percentile(p));
        compared++;
      }
      current = (current + 1) % 5;
      ring[current]?.reset();
      window.advance();
    }
    expect(compared).toBe(12 * PERCENTILES.length);
  });

  it('forgets a second once five newer ones have started, and is empty without values', () => {
    const window = new RecentWindow(5);
    expect(window.percentile(95)).toBeUndefined();

    window.record(900_000);
    for (let i = 0; i < 4; i++) {
      window.advance();
      window.record(1_000);
    }
    // 900 ms is the highest of five values: p100 is its bucket's highest value.
    expect(window.percentile(100)).toBe(900_095);
    window.advance();
    expect(window.count).toBe(4);
    expect(window.percentile(100)).toBe(1_000);
    for (let i = 0; i < 4; i++) window.advance();
    expect(window.count).toBe(0);
    expect(window.percentile(50)).toBeUndefined();
  });

  it('counts values below 1 as 1 and keeps values past 2^32 µs in its last bucket', () => {
    const window = new RecentWindow(1);
    window.record(0);
    window.record(0.4);
    window.record(2 ** 40);

    expect(window.count).toBe(3);
    expect(window.percentile(50)).toBe(1);
    expect(window.percentile(100)).toBe(2 ** 32 - 1);
  });

  it('refuses a window of no seconds', () => {
    expect(() => new RecentWindow(0)).toThrow(/at least 1: 0/);
  });
});

describe('TimeSeries.recentLatencyP95Ms', () => {
  it("is the p95 of the current second's latency and the four seconds before it, in ms", () => {
    const random = seeded(9);
    const series = new TimeSeries(['visitors', 'buyers']);
    const perSecond: ValueHistogram[] = [];
    const generator = {
      sendLagP99Ms: 0,
      sendLagMaxMs: 0,
      loopDelayP99Ms: 0,
      cpuPercent: 0,
      inFlight: 0,
    };
    expect(series.recentLatencyP95Ms()).toBeUndefined();

    for (let second = 0; second < 8; second++) {
      const seconds = histogram();
      perSecond.push(seconds);
      for (let i = 0; i < 300; i++) {
        const latencyUs = 1_000 * 1_000 ** random();
        seconds.record(latencyUs);
        series.recordResponse(i % 2 === 0 ? 'visitors' : 'buyers', '2xx', latencyUs, 1, 1, {
          ratelimited: false,
          fallback: false,
          failed: false,
        });
      }
      const expected = histogram();
      for (const h of perSecond.slice(-5)) expected.add(h);
      expect(series.recentLatencyP95Ms(), `second ${second}`).toBe(expected.percentile(95) / 1_000);
      series.rollTo(second + 1, generator);
    }
    series.destroy();
  });
});
