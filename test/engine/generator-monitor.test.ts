import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GeneratorMonitor,
  LOOP_SAMPLE_MS,
  loopDelayMs,
} from '../../src/engine/generator-monitor.ts';
import { initHistograms } from '../../src/metrics/histogram.ts';

beforeAll(async () => {
  await initHistograms();
});

let monitors: GeneratorMonitor[] = [];
afterEach(() => {
  for (const monitor of monitors) monitor.destroy();
  monitors = [];
});

function started(): GeneratorMonitor {
  const monitor = new GeneratorMonitor();
  monitors.push(monitor);
  monitor.start();
  return monitor;
}

/** Busy-waits for `ms`: a callback that holds the event loop. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Spin.
  }
}

/** A monitor histogram's shape with fixed figures (nanoseconds), as node reports them. */
function samples(p50Ns: number, p99Ns: number, maxNs: number, count = 100) {
  return { count, max: maxNs, percentile: (p: number) => (p === 50 ? p50Ns : p99Ns) };
}

describe('loopDelayMs', () => {
  it('takes the sampling interval off each figure, in ms', () => {
    // Samples of a 10 ms timer that ran 0.2 ms late at the median, 4.5 ms at p99, 30 at worst.
    expect(loopDelayMs(samples(10_200_000, 14_500_000, 40_000_000), 10)).toEqual({
      p50: expect.closeTo(0.2, 9),
      p99: expect.closeTo(4.5, 9),
      max: 30,
    });
  });

  it('never reports a negative delay, and zeros with no sample', () => {
    // libuv counts whole ms, so a firing can come a little under the interval after the last.
    expect(loopDelayMs(samples(900_000, 1_000_000, 1_050_000), 1)).toEqual({
      p50: 0,
      p99: 0,
      max: expect.closeTo(0.05, 9),
    });
    expect(loopDelayMs(samples(5, 5, 5, 0), 1)).toEqual({ p50: 0, p99: 0, max: 0 });
  });
});

describe('GeneratorMonitor', () => {
  it('reports an idle loop as barely delayed, not as late as its sampling interval', async () => {
    const monitor = started();
    await sleep(300);

    const { loopDelayMs: loop } = monitor.part();
    expect(LOOP_SAMPLE_MS).toBe(1);
    // Without the interval taken off, the median sample of a 10 ms timer read 10.1 ms.
    expect(loop.p50).toBeLessThan(2);
    expect(loop.p50).toBeGreaterThanOrEqual(0);
  });

  it("reports each second's event-loop delay on its own, and the run's over all of it", async () => {
    const monitor = started();
    // A loop held 15 ms out of every 25 ms: about one sample in eleven is 15 ms late.
    for (let i = 0; i < 12; i++) {
      block(15);
      await sleep(10);
    }
    const busy = monitor.second(0);
    await sleep(300);
    const idle = monitor.second(0);

    expect(busy.loopDelayP99Ms).toBeGreaterThan(10);
    expect(busy.loopDelayP99Ms).toBeLessThan(60);
    // The idle second is judged alone: the busy one's blocks are not in its p99.
    expect(idle.loopDelayP99Ms).toBeLessThan(5);
    const run = monitor.part().loopDelayMs;
    expect(run.p99).toBeGreaterThan(10);
    expect(run.max).toBeGreaterThanOrEqual(busy.loopDelayP99Ms);
  });
});
