import * as hdr from 'hdr-histogram-js';
import { LaunchproofError } from '../errors.ts';

/** Recorded microseconds per reported millisecond. */
export const US_PER_MS = 1_000;

/** One point of a percentile spectrum, as HdrHistogram's plotter reads it from a `.hgrm`. */
export interface SpectrumPoint {
  /** 0 to 1. */
  percentile: number;
  /** 1/(1−percentile): the x of the plotter's log axis. */
  inverse: number;
  valueMs: number;
}

/**
 * Decodes a compressed base64 histogram into a plain JavaScript histogram. Reports read
 * histograms without WebAssembly: decoding is synchronous, nothing needs freeing, and the
 * WebAssembly build's `outputPercentileDistribution` drops leading zeros from fractions
 * (it prints 100.031 as `100.310`) and has no CSV mode, while the JavaScript one is exact.
 */
export function decodeHistogram(encoded: string, label = 'histogram'): hdr.JsHistogram {
  let histogram: hdr.Histogram;
  try {
    histogram = hdr.decodeFromCompressedBase64(encoded, 32, false);
  } catch (error) {
    throw new LaunchproofError(
      'LP_ERR_RESULTS_INVALID',
      `${label} could not be decoded: expected HdrHistogram compressed base64 (${reason(error)})`,
      { cause: error },
    );
  }
  // With useWebAssembly false the decoder always builds a JsHistogram.
  if (!(histogram instanceof hdr.JsHistogram)) throw new TypeError('expected a JsHistogram');
  return histogram;
}

/**
 * The percentile spectrum of a timing histogram, in ms: the rows of its percentile
 * distribution (5 ticks per half distance, as `.hgrm` files and HdrHistogram's plotter use),
 * without the final 100% row, whose 1/(1−p) is infinite.
 */
export function percentileSpectrum(encoded: string, label?: string): SpectrumPoint[] {
  const histogram = decodeHistogram(encoded, label);
  if (histogram.totalCount === 0) return [];
  const csv = histogram.outputPercentileDistribution(5, US_PER_MS, true);
  const points: SpectrumPoint[] = [];
  for (const line of csv.split('\n').slice(1)) {
    const [value, percentile] = line.split(',');
    if (value === undefined || percentile === undefined) continue;
    const p = Number(percentile);
    if (!(p < 1)) continue;
    points.push({ percentile: p, inverse: 1 / (1 - p), valueMs: Number(value) });
  }
  return points;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
