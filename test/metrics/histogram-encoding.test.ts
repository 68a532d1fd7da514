import { inflateSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initHistograms, ValueHistogram } from '../../src/metrics/histogram.ts';
import { TimeSeries } from '../../src/metrics/time-series.ts';
import { renderHistogramLog } from '../../src/report/hdr-log.ts';

beforeAll(async () => {
  await initHistograms();
});

/** A seeded linear congruential generator (exact in 32 bits), so every run has the same values. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * 2,000 timings log-spread from 1 ms to 1 s (microseconds), one second at 2,000 req/s, and the
 * edges: below 1 (recorded as 1), both sides of the first sub-bucket boundary, the highest
 * trackable value and past it (the histogram resizes itself).
 */
function secondOfValues(seed = 1): number[] {
  const random = seeded(seed);
  const values = Array.from({ length: 2_000 }, () => 1_000 * 1_000 ** random());
  return [...values, 0.4, 1, 2_047, 2_048, 3_600_000_000, 5_000_000_000];
}

function valueHistogram(values: readonly number[]): ValueHistogram {
  const histogram = new ValueHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

/** The counts a plain JavaScript histogram holds for `values`: no encoding involved. */
function expectedCounts(values: readonly number[]): Array<[number, number]> {
  const histogram = hdr.build({
    useWebAssembly: false,
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    autoResize: true,
  });
  for (const value of values) histogram.recordValue(value < 1 ? 1 : Math.round(value));
  return nonZeroCounts(histogram as hdr.JsHistogram);
}

/** Decodes with hdr-histogram-js's own JavaScript decoder and lists every non-zero count. */
function decodedCounts(encoded: string): Array<[number, number]> {
  const histogram = hdr.decodeFromCompressedBase64(encoded, 32, false);
  if (!(histogram instanceof hdr.JsHistogram)) throw new TypeError('expected a JsHistogram');
  return nonZeroCounts(histogram);
}

function nonZeroCounts(histogram: hdr.JsHistogram): Array<[number, number]> {
  const counts: Array<[number, number]> = [];
  for (let i = 0; i < histogram.countsArrayLength; i++) {
    const count = histogram.getCountAtIndex(i);
    if (count > 0) counts.push([i, count]);
  }
  return counts;
}

/** The cookie, the stated length and the inflated V2 payload of a compressed encoding. */
function unpack(encoded: string): { cookie: number; length: number; payload: Buffer } {
  const bytes = Buffer.from(encoded, 'base64');
  return {
    cookie: bytes.readInt32BE(0),
    length: bytes.readInt32BE(4),
    payload: inflateSync(bytes.subarray(8)),
  };
}

describe('ValueHistogram.encode', () => {
  it('writes the V2 compressed cookie, the deflated length and the V2 payload hdr-histogram-js writes', () => {
    const histogram = valueHistogram(secondOfValues());
    const ours = histogram.encode();
    const theirs = hdr.encodeIntoCompressedBase64(histogram.raw);
    histogram.destroy();

    const mine = unpack(ours);
    const reference = unpack(theirs);
    expect(mine.cookie).toBe(0x1c849314);
    expect(mine.cookie).toBe(reference.cookie);
    expect(mine.length).toBe(Buffer.from(ours, 'base64').length - 8);
    expect(mine.payload.equals(reference.payload)).toBe(true);
    expect(ours.startsWith('HIST')).toBe(true);
  });

  it("decodes with hdr-histogram-js's own decoder to the very counts recorded", () => {
    const values = secondOfValues();
    const histogram = valueHistogram(values);
    const encoded = histogram.encode();
    histogram.destroy();

    expect(decodedCounts(encoded)).toEqual(expectedCounts(values));
    const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false);
    // Golden figures of the seeded second (µs), worked out from the sorted inputs: HdrHistogram
    // reports a value as the highest of its bucket. The 1,003rd of 2,006 is 32,600 (16 µs
    // buckets there: 32,607), the 1,986th is 927,111 (512 µs buckets: 927,231), the largest
    // 5,000,000,000 (4,194,304 µs buckets: 5,003,804,671).
    expect(decoded.totalCount).toBe(2_006);
    expect(decoded.minNonZeroValue).toBe(1);
    expect(decoded.getValueAtPercentile(50)).toBe(32_607);
    expect(decoded.getValueAtPercentile(99)).toBe(927_231);
    expect(decoded.maxValue).toBe(5_003_804_671);
  });

  it('round-trips through ValueHistogram.decode (the WebAssembly decoder workers use)', () => {
    const values = secondOfValues(7);
    const histogram = valueHistogram(values);
    const decoded = ValueHistogram.decode(histogram.encode());

    expect(decoded.count).toBe(histogram.count);
    for (const p of [0, 50, 90, 99, 99.9, 100]) {
      expect(decoded.percentile(p), `p${p}`).toBe(histogram.percentile(p));
    }
    expect(decodedCounts(decoded.encode())).toEqual(expectedCounts(values));
    histogram.destroy();
    decoded.destroy();
  });

  it('encodes an empty histogram that decodes to no counts', () => {
    const histogram = new ValueHistogram();
    const encoded = histogram.encode();
    histogram.destroy();

    expect(decodedCounts(encoded)).toEqual([]);
    expect(hdr.decodeFromCompressedBase64(encoded, 32, false).totalCount).toBe(0);
  });
});

describe("a series' interval log", () => {
  /** Three seconds of responses across `flows`; returns what each logged metric recorded. */
  function recordSeconds(series: TimeSeries, flows: readonly string[]) {
    const recorded = new Map<string, number[]>();
    const keep = (tag: string, second: number, value: number) => {
      const key = `${tag}@${second}`;
      recorded.set(key, [...(recorded.get(key) ?? []), value]);
    };
    for (let second = 0; second < 3; second++) {
      const values = secondOfValues(second + 1).slice(0, 600);
      values.forEach((latencyUs, i) => {
        const flow = flows[i % flows.length] as string;
        const durationUs = latencyUs * 0.8;
        const ttftUs = i % 3 === 0 ? undefined : latencyUs * 0.3;
        series.recordResponse(flow, '2xx', latencyUs, durationUs, ttftUs, {
          ratelimited: false,
          fallback: false,
          failed: false,
        });
        keep('latency', second, latencyUs);
        keep('http_req_duration', second, durationUs);
        if (ttftUs !== undefined) keep('chat_ttft', second, ttftUs);
      });
      series.rollTo(second + 1, {
        sendLagP99Ms: 0,
        sendLagMaxMs: 0,
        loopDelayP99Ms: 0,
        cpuPercent: 0,
        inFlight: 0,
      });
    }
    return recorded;
  }

  for (const flows of [['chat'], ['visitors', 'buyers']]) {
    it(`reads back through HistogramLogReader with every count recorded (${flows.length} flow(s))`, () => {
      const series = new TimeSeries(flows, { keepFlowHistograms: true });
      const recorded = recordSeconds(series, flows);
      const log = renderHistogramLog(series.intervals, Date.parse('2026-01-15T09:30:00.000Z'));

      const reader = new hdr.HistogramLogReader(log);
      const read = new Map<string, string>();
      for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
        const second = (h.startTimeStampMsec - Date.parse('2026-01-15T09:30:00.000Z')) / 1_000;
        read.set(`${h.tag}@${second}`, hdr.encodeIntoCompressedBase64(h));
      }
      expect([...read.keys()].sort()).toEqual([...recorded.keys()].sort());
      for (const [key, values] of recorded) {
        expect(decodedCounts(read.get(key) as string), key).toEqual(expectedCounts(values));
      }

      // A worker's flow seconds decode to the flow's own share of the same responses.
      const latencyOfFirstFlow = series.flowSeconds
        .filter((s) => s.flow === flows[0])
        .map((s) => decodedCounts(s.latency as string));
      const firstFlowValues = [0, 1, 2].map((second) =>
        secondOfValues(second + 1)
          .slice(0, 600)
          .filter((_, i) => i % flows.length === 0),
      );
      expect(latencyOfFirstFlow).toEqual(firstFlowValues.map((v) => expectedCounts(v)));
      series.destroy();
    });
  }

  it("gives one flow's rows the same figures whether its histograms are shared or not", () => {
    const single = new TimeSeries(['chat']);
    const paired = new TimeSeries(['chat', 'idle']);
    recordSeconds(single, ['chat']);
    recordSeconds(paired, ['chat']);

    expect(single.rows.map((row) => row.flows.chat)).toEqual(
      paired.rows.map((row) => row.flows.chat),
    );
    expect(single.intervals.map((i) => decodedCounts(i.encoded))).toEqual(
      paired.intervals.map((i) => decodedCounts(i.encoded)),
    );
    single.destroy();
    paired.destroy();
  });
});
