import * as hdr from 'hdr-histogram-js';

/** The percentiles every timing reports, in the order summaries and tables show them. */
export const REPORTED_PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/** Highest value a histogram tracks before it resizes itself: one hour in microseconds. */
const HIGHEST_TRACKABLE = 3_600_000_000;

let wasmReady: Promise<void> | undefined;

/**
 * Loads hdr-histogram-js's WebAssembly module once per thread. Must be awaited before the
 * first histogram is built.
 */
export function initHistograms(): Promise<void> {
  wasmReady ??= hdr.initWebAssembly();
  return wasmReady;
}

/**
 * An HDR histogram of integer values (microseconds for timings) at 3 significant digits,
 * backed by WebAssembly memory, which must be released with `destroy()`.
 */
export class ValueHistogram {
  readonly raw: hdr.Histogram;
  #destroyed = false;

  constructor(raw?: hdr.Histogram) {
    this.raw =
      raw ??
      hdr.build({
        useWebAssembly: true,
        numberOfSignificantValueDigits: 3,
        lowestDiscernibleValue: 1,
        highestTrackableValue: HIGHEST_TRACKABLE,
        autoResize: true,
      });
  }

  /** Records one value; values below 1 are recorded as 1 (HDR histograms discern from 1). */
  record(value: number): void {
    this.raw.recordValue(value < 1 ? 1 : Math.round(value));
  }

  get count(): number {
    return this.raw.totalCount;
  }

  get min(): number {
    return this.raw.totalCount === 0 ? 0 : this.raw.minNonZeroValue;
  }

  get max(): number {
    return this.raw.maxValue;
  }

  get mean(): number {
    return this.raw.mean;
  }

  percentile(p: number): number {
    return this.raw.getValueAtPercentile(p);
  }

  /** Adds every recorded value of `other` (lossless merge: percentiles are never averaged). */
  add(other: ValueHistogram): void {
    this.raw.add(other.raw);
  }

  reset(): void {
    this.raw.reset();
  }

  /** Compressed base64, HdrHistogram's standard encoding (used by interval logs and workers). */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.raw);
  }

  static decode(base64: string): ValueHistogram {
    return new ValueHistogram(hdr.decodeFromCompressedBase64(base64, 32, true));
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.raw.destroy();
  }
}
