import type { IntervalHistogram } from '../metrics/time-series.ts';
import { decodeHistogram, US_PER_MS } from './hdr-read.ts';

const LOG_FORMAT_VERSION = '1.3';
const LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"';

/**
 * Renders an HdrHistogram interval log (format 1.3, as Java's `HistogramLogWriter` writes
 * it and every HdrHistogram log reader parses it):
 *
 * 1. comments naming the tool and the units, the format version, `#[StartTime: …]` and
 *    `#[BaseTime: …]` (both the run's start in seconds since the epoch, so timestamps are
 *    relative to it), then the legend line;
 * 2. one line per interval, in time order (the metric's tag breaking ties):
 *    `Tag=<metric>,<start s>,<length s>,<max ms>,<compressed base64>`.
 *
 * Values in the histograms stay in microseconds; `Interval_Max` is in milliseconds, the
 * ratio HdrHistogram's own writers use. The start time is printed in ISO form (UTC) rather
 * than the machine's local time, so the file reads the same everywhere.
 */
export function renderHistogramLog(
  intervals: readonly IntervalHistogram[],
  startedAtMs: number,
): string {
  const startSec = (startedAtMs / 1_000).toFixed(3);
  const lines = [
    '#[launchproof interval log: values in microseconds, Interval_Max in milliseconds]',
    `#[Histogram log format version ${LOG_FORMAT_VERSION}]`,
    `#[StartTime: ${startSec} (seconds since epoch), ${new Date(startedAtMs).toISOString()}]`,
    `#[BaseTime: ${startSec} (seconds since epoch)]`,
    LEGEND,
  ];

  const ordered = [...intervals].sort(
    (a, b) => a.startMs - b.startMs || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0),
  );
  for (const interval of ordered) {
    const maxMs =
      decodeHistogram(interval.encoded, `interval ${interval.tag}`).maxValue / US_PER_MS;
    const fields = [
      (interval.startMs / 1_000).toFixed(3),
      (interval.durationMs / 1_000).toFixed(3),
      maxMs.toFixed(3),
      interval.encoded,
    ];
    lines.push(`Tag=${logTag(interval.tag)},${fields.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Renders a `.hgrm` percentile distribution of one timing histogram (microseconds) in
 * milliseconds: HdrHistogram's own table (5 ticks per half distance) with its mean, max and
 * count footer, the input of HdrHistogram's plotter.
 */
export function renderPercentileDistribution(encoded: string): string {
  return decodeHistogram(encoded).outputPercentileDistribution(5, US_PER_MS);
}

/** Log readers split fields on commas and whitespace, so a tag may contain neither. */
function logTag(tag: string): string {
  return tag.replace(/[\s,]/g, '_');
}
