import { deflateSync, constants as zlibConstants } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';

/** The percentiles every timing reports, in the order summaries and tables show them. */
export const REPORTED_PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/** Highest value a histogram tracks before it resizes itself: one hour in microseconds. */
const HIGHEST_TRACKABLE = 3_600_000_000;

/** HdrHistogram's V2 compressed-encoding cookie (word-size bits 0x10), as Java writes it. */
const V2_COMPRESSED_COOKIE = 0x1c849304 | 0x10;

/**
 * Huffman coding alone: the V2 payload is LEB128 counts with few repeated strings, so on
 * per-second histograms it comes out smaller than zlib's default (2,729 against 3,157 bytes at
 * 10,000 values) and four times faster (bench/per-second-tick.ts).
 */
const DEFLATE_OPTIONS = { strategy: zlibConstants.Z_HUFFMAN_ONLY } as const;

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

  /**
   * Compressed base64, HdrHistogram's standard encoding (used by interval logs and workers),
   * built as hdr-histogram-js builds it but cheaper, since the engine encodes every second:
   *
   * 1. the V2 payload comes from the histogram's own `encode()`, the bytes hdr-histogram-js
   *    itself compresses;
   * 2. it is deflated by node's zlib (zlib format, as Java's `Deflater` writes), Huffman only;
   * 3. the V2 compressed cookie and the deflated length go before it, big-endian int32s;
   * 4. base64 by node's Buffer rather than base64-js in JavaScript.
   *
   * Any HdrHistogram decoder inflates it back to the same V2 payload, so to the same counts.
   */
  encode(): string {
    const raw = this.raw;
    if (!(raw instanceof hdr.WasmHistogram)) return hdr.encodeIntoCompressedBase64(raw);
    const deflated = deflateSync(raw.encode(), DEFLATE_OPTIONS);
    const out = Buffer.allocUnsafe(8 + deflated.length);
    out.writeInt32BE(V2_COMPRESSED_COOKIE, 0);
    out.writeInt32BE(deflated.length, 4);
    deflated.copy(out, 8);
    return out.toString('base64');
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
