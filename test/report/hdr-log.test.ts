import * as hdr from 'hdr-histogram-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms, ValueHistogram } from '../../src/metrics/histogram.ts';
import type { IntervalHistogram } from '../../src/metrics/time-series.ts';
import { renderHistogramLog, renderPercentileDistribution } from '../../src/report/hdr-log.ts';
import { percentileSpectrum } from '../../src/report/hdr-read.ts';
import { buildFixtureRun } from '../fixtures/summaries/build-summary.ts';

const STARTED_AT_MS = Date.parse('2026-01-15T09:30:00.000Z');

beforeAll(async () => {
  await initHistograms();
});

/** An interval holding exactly `values` (microseconds). */
function interval(tag: string, startMs: number, values: readonly number[]): IntervalHistogram {
  const h = new ValueHistogram();
  for (const v of values) h.record(v);
  const encoded = h.encode();
  h.destroy();
  return { startMs, durationMs: 1_000, tag, encoded };
}

interface ReadBack {
  tag: string;
  startMs: number;
  endMs: number;
  count: number;
  max: number;
}

/** Reads every interval back with hdr-histogram-js's own HistogramLogReader. */
function readLog(log: string): ReadBack[] {
  const reader = new hdr.HistogramLogReader(log);
  const out: ReadBack[] = [];
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    out.push({
      tag: h.tag,
      startMs: h.startTimeStampMsec,
      endMs: h.endTimeStampMsec,
      count: h.totalCount,
      max: h.maxValue,
    });
  }
  return out;
}

describe('renderHistogramLog', () => {
  it('writes the header HdrHistogram log readers expect, with the start as base time', () => {
    const log = renderHistogramLog([interval('latency', 0, [1_000])], STARTED_AT_MS);
    const lines = log.split('\n');
    expect(lines.slice(1, 5)).toEqual([
      '#[Histogram log format version 1.3]',
      '#[StartTime: 1768469400.000 (seconds since epoch), 2026-01-15T09:30:00.000Z]',
      '#[BaseTime: 1768469400.000 (seconds since epoch)]',
      '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"',
    ]);
    expect(lines[5]).toMatch(/^Tag=latency,0\.000,1\.000,1\.000,HIST[A-Za-z0-9+/=]+$/);
    expect(log.endsWith('\n')).toBe(true);
  });

  it('round-trips tags, times, counts and maxima through HistogramLogReader', () => {
    const intervals = [
      interval('latency', 0, [1_000, 2_000, 3_000]),
      interval('http_req_duration', 0, [900, 1_800]),
      interval(
        'latency',
        1_000,
        Array.from({ length: 10 }, () => 5_000),
      ),
      interval('chat_ttft', 1_000, [250_000]),
    ];

    const log = renderHistogramLog(intervals, STARTED_AT_MS);

    expect(hdr.listTags(log)).toEqual(['http_req_duration', 'latency', 'chat_ttft']);
    expect(readLog(log)).toEqual([
      {
        tag: 'http_req_duration',
        startMs: STARTED_AT_MS,
        endMs: STARTED_AT_MS + 1_000,
        count: 2,
        max: 1_800,
      },
      {
        tag: 'latency',
        startMs: STARTED_AT_MS,
        endMs: STARTED_AT_MS + 1_000,
        count: 3,
        max: 3_001,
      },
      {
        tag: 'chat_ttft',
        startMs: STARTED_AT_MS + 1_000,
        endMs: STARTED_AT_MS + 2_000,
        count: 1,
        max: 250_111,
      },
      {
        tag: 'latency',
        startMs: STARTED_AT_MS + 1_000,
        endMs: STARTED_AT_MS + 2_000,
        count: 10,
        max: 5_003,
      },
    ]);
    // Interval_Max is in milliseconds, as HdrHistogram's writers put it.
    expect(log).toContain('Tag=chat_ttft,1.000,1.000,250.111,');
  });

  it('keeps every sample of a whole run: per-tag counts add up to the run totals', async () => {
    const { summary, intervals } = await buildFixtureRun('fail');

    const back = readLog(renderHistogramLog(intervals, Date.parse(summary.startedAt)));

    const totals = new Map<string, number>();
    for (const h of back) totals.set(h.tag, (totals.get(h.tag) ?? 0) + h.count);
    expect(Object.fromEntries(totals)).toEqual({
      latency: summary.metrics.latency?.kind === 'trend' ? summary.metrics.latency.count : -1,
      http_req_duration: 300,
      chat_ttft: summary.metrics.chat_ttft?.kind === 'trend' ? summary.metrics.chat_ttft.count : -1,
    });
    expect(back).toHaveLength(60);
    expect(back.at(-1)?.startMs).toBe(Date.parse(summary.startedAt) + 19_000);
  });

  it('keeps commas and spaces out of tags, which readers split fields on', () => {
    const log = renderHistogramLog([interval('odd tag,name', 0, [10])], STARTED_AT_MS);
    expect(readLog(log).map((h) => h.tag)).toEqual(['odd_tag_name']);
  });
});

describe('renderPercentileDistribution', () => {
  it('prints HdrHistogram percentile rows and footer in milliseconds (golden values)', () => {
    const h = new ValueHistogram();
    for (let ms = 1; ms <= 1_000; ms++) h.record(ms * 1_000);
    const hgrm = renderPercentileDistribution(h.encode());
    h.destroy();

    const lines = hgrm.split('\n');
    expect(lines[0]).toBe('       Value     Percentile TotalCount 1/(1-Percentile)');
    // Exact decimals (WebAssembly's own printer would write this row's value as 100.310).
    expect(lines).toContain('     100.031 0.100000000000        100           1.11');
    // 500 ms sits in a bucket 256 µs wide: its highest equivalent value is 500.223 ms.
    expect(lines).toContain('     500.223 0.500000000000        500           2.00');
    expect(lines).toContain('     991.231 0.990625000000        991         106.67');
    expect(hgrm).toContain('#[Mean    =      500.505, StdDeviation   =      288.676]');
    expect(hgrm).toContain('#[Max     =     1000.447, Total count    =         1000]');
  });
});

describe('percentileSpectrum', () => {
  it('returns the .hgrm rows as points, without the infinite 100% row', () => {
    const h = new ValueHistogram();
    for (let ms = 1; ms <= 1_000; ms++) h.record(ms * 1_000);
    const points = percentileSpectrum(h.encode());
    h.destroy();

    expect(points[0]).toEqual({ percentile: 0, inverse: 1, valueMs: 1 });
    expect(points.find((p) => p.percentile === 0.5)).toEqual({
      percentile: 0.5,
      inverse: 2,
      valueMs: 500.223,
    });
    expect(points.every((p) => Number.isFinite(p.inverse) && p.percentile < 1)).toBe(true);
    const values = points.map((p) => p.valueMs);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
  });

  it('refuses a histogram that is not HdrHistogram base64, with LP_ERR_RESULTS_INVALID', () => {
    expect(() => percentileSpectrum('not a histogram', 'histogram latency')).toThrow(
      expect.objectContaining({
        code: 'LP_ERR_RESULTS_INVALID',
        message: expect.stringContaining('histogram latency'),
      }),
    );
  });
});
