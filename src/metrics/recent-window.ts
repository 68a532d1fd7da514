/** HDR bucketing at 3 significant digits from 1: 2,048 sub-buckets, the lower half shared. */
const SUB_BUCKET_HALF_MAGNITUDE = 10;
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const SUB_BUCKET_MASK = 2 * SUB_BUCKET_HALF_COUNT - 1;
/** Values are kept below 2^32 (71 minutes in microseconds), so `Math.clz32` finds the bucket. */
const HIGHEST_VALUE = 2 ** 32 - 1;
const COUNTS_LENGTH = countsIndex(HIGHEST_VALUE) + 1;

/**
 * The values of the last few seconds, for a live figure such as the progress line's
 * five-second p95, counted in plain typed arrays with HdrHistogram's own buckets (3
 * significant digits from 1, as `ValueHistogram`), so its percentiles are the ones a merged
 * `ValueHistogram` of the same seconds would give.
 *
 * It exists because the per-second tick must not hold the event loop: merging five
 * WebAssembly histograms cost 0.3 to 0.7 ms a second (bench/per-second-tick.ts), while here
 * a second's slot is subtracted from the window's sum over the buckets it touched only, and
 * recording is two array increments.
 *
 * 1. Each second has a slot of counts; the window holds their sum.
 * 2. `record` adds to the current slot and to the window, widening the slot's touched range.
 * 3. `advance` moves to the next slot, the oldest, and subtracts it from the window first.
 * 4. `percentile` walks the window's counts in value order, as HdrHistogram does.
 */
export class RecentWindow {
  readonly #slots: Slot[] = [];
  readonly #window = new Uint32Array(COUNTS_LENGTH);
  #current: Slot;
  #currentIndex = 0;
  #count = 0;

  constructor(seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw new RangeError(
        `a recent window spans a whole number of seconds, at least 1: ${seconds}`,
      );
    }
    for (let i = 0; i < seconds; i++) {
      this.#slots.push({
        counts: new Uint32Array(COUNTS_LENGTH),
        count: 0,
        lowest: COUNTS_LENGTH,
        highest: -1,
      });
    }
    this.#current = this.#slots[0] as Slot;
  }

  /** Values counted in the window. */
  get count(): number {
    return this.#count;
  }

  /** Counts one value in the current second; as `ValueHistogram`, below 1 counts as 1. */
  record(value: number): void {
    const rounded = value < 1 ? 1 : Math.round(value);
    const index = countsIndex(Math.min(rounded, HIGHEST_VALUE));
    const slot = this.#current;
    slot.counts[index] = (slot.counts[index] as number) + 1;
    this.#window[index] = (this.#window[index] as number) + 1;
    slot.count++;
    this.#count++;
    if (index < slot.lowest) slot.lowest = index;
    if (index > slot.highest) slot.highest = index;
  }

  /** Starts the next second: the oldest second leaves the window and its slot is reused. */
  advance(): void {
    this.#currentIndex = (this.#currentIndex + 1) % this.#slots.length;
    const slot = this.#slots[this.#currentIndex] as Slot;
    const window = this.#window;
    for (let i = slot.lowest; i <= slot.highest; i++) {
      window[i] = (window[i] as number) - (slot.counts[i] as number);
    }
    if (slot.highest >= slot.lowest) slot.counts.fill(0, slot.lowest, slot.highest + 1);
    this.#count -= slot.count;
    slot.count = 0;
    slot.lowest = COUNTS_LENGTH;
    slot.highest = -1;
    this.#current = slot;
  }

  /**
   * The value at percentile `p` (0 to 100) as HdrHistogram computes it: the first bucket at
   * which the running count reaches p% of the count rounded up (less one ulp, so floating
   * point cannot skip a count), reported as the bucket's highest equivalent value (its lowest
   * for p = 0); undefined with nothing counted.
   */
  percentile(p: number): number | undefined {
    if (this.#count === 0) return undefined;
    const exact = (Math.min(p, 100) / 100) * this.#count;
    const ulp = 2 ** (Math.floor(Math.log2(exact)) - 52);
    const wanted = Math.max(1, Math.ceil(exact - ulp));
    let lowest = COUNTS_LENGTH;
    let highest = -1;
    for (const slot of this.#slots) {
      if (slot.lowest < lowest) lowest = slot.lowest;
      if (slot.highest > highest) highest = slot.highest;
    }
    let running = 0;
    for (let i = lowest; i <= highest; i++) {
      running += this.#window[i] as number;
      if (running >= wanted) return p === 0 ? lowestValueAt(i) : highestValueAt(i);
    }
    return highestValueAt(highest);
  }
}

/** One second's counts and the range of indexes it has counts at (lowest > highest: none). */
interface Slot {
  readonly counts: Uint32Array;
  count: number;
  lowest: number;
  highest: number;
}

/** HdrHistogram's counts index of an integer value from 1 to 2^32 − 1. */
function countsIndex(value: number): number {
  const bucket = 31 - Math.clz32(value | SUB_BUCKET_MASK) - SUB_BUCKET_HALF_MAGNITUDE;
  const subBucket = value >>> bucket;
  return ((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + subBucket - SUB_BUCKET_HALF_COUNT;
}

function lowestValueAt(index: number): number {
  let bucket = (index >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
  let subBucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    subBucket -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return subBucket * 2 ** bucket;
}

function highestValueAt(index: number): number {
  const bucket = Math.max(0, (index >> SUB_BUCKET_HALF_MAGNITUDE) - 1);
  return lowestValueAt(index) + 2 ** bucket - 1;
}
