import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initHistograms, ValueHistogram } from '../../src/metrics/histogram.ts';
import { TimeSeries } from '../../src/metrics/time-series.ts';

beforeAll(async () => {
  await initHistograms();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const GENERATOR = {
  sendLagP99Ms: 0,
  sendLagMaxMs: 0,
  loopDelayP99Ms: 0,
  cpuPercent: 0,
  inFlight: 0,
};
const OK = { ratelimited: false, fallback: false, failed: false };

/** One second of 200 responses over two flows: latency 1 to 200 ms, duration 0.9 of it. */
function recordSecond(series: TimeSeries): void {
  for (let i = 1; i <= 200; i++) {
    const flow = i % 2 === 0 ? 'visitors' : 'buyers';
    series.recordResponse(flow, '2xx', i * 1_000, i * 900, i * 300, OK);
  }
}

describe('TimeSeries closing a second', () => {
  it('leaves the encoding to later loop turns, one histogram a turn', async () => {
    const encode = vi.spyOn(ValueHistogram.prototype, 'encode');
    const series = new TimeSeries(['visitors', 'buyers'], { keepFlowHistograms: true });
    recordSecond(series);

    series.rollTo(1, GENERATOR);
    expect(encode).toHaveBeenCalledTimes(0);

    // Three logged metrics and three timings of two flows: nine encodings, none shared.
    let turns = 0;
    let before = 0;
    while (encode.mock.calls.length < 9 && turns < 50) {
      await nextTurn();
      turns++;
      expect(encode.mock.calls.length - before).toBeLessThanOrEqual(1);
      before = encode.mock.calls.length;
    }
    expect(encode).toHaveBeenCalledTimes(9);
    expect(turns).toBeGreaterThanOrEqual(9);
    expect(series.intervals.map((i) => i.tag)).toEqual([
      'latency',
      'http_req_duration',
      'chat_ttft',
    ]);
    series.destroy();
  });

  it('finishes the closed seconds before anyone reads them, so no row is half-closed', () => {
    const series = new TimeSeries(['visitors', 'buyers']);
    recordSecond(series);
    series.rollTo(1, GENERATOR);
    recordSecond(series);
    series.rollTo(2, GENERATOR);

    const rows = series.rows;
    expect(rows.map((row) => row.t)).toEqual([0, 1]);
    for (const row of rows) {
      // Even-numbered latencies went to visitors, 2 to 200 ms: the 50th, 95th and 99th of 100
      // are 100, 190 and 198 ms, reported as the highest of their buckets (64 and 128 µs
      // wide there); the maximum is the value recorded.
      expect(row.flows.visitors?.latency).toEqual({
        count: 100,
        p50: 100.031,
        p95: 190.079,
        p99: 198.015,
        max: 200,
      });
      expect(row.flows.buyers?.ttft?.count).toBe(100);
    }
    expect(series.intervals).toHaveLength(6);
    series.destroy();
  });

  it('drops the work still queued when destroyed, and runs none of it afterwards', async () => {
    const encode = vi.spyOn(ValueHistogram.prototype, 'encode');
    const series = new TimeSeries(['visitors', 'buyers']);
    recordSecond(series);
    series.rollTo(1, GENERATOR);
    series.destroy();

    for (let i = 0; i < 5; i++) await nextTurn();
    expect(encode).toHaveBeenCalledTimes(0);
  });
});
