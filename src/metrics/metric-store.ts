import { ValueHistogram } from './histogram.ts';
import type { MetricKind } from './metric-catalog.ts';
import { metricDefinition, TREND_SCALE } from './metric-catalog.ts';
import { type Tags, tagKey, tagsMatch } from './tags.ts';

/** Values are in the metric's reported unit: milliseconds for timings, raw numbers otherwise. */
export interface TrendStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  percentile(p: number): number;
}

export interface TrendLeaf {
  readonly name: string;
  readonly tags: Tags;
  readonly histogram: ValueHistogram;
}

export interface CounterLeaf {
  readonly name: string;
  readonly tags: Tags;
  value: number;
}

export interface RateLeaf {
  readonly name: string;
  readonly tags: Tags;
  passes: number;
  total: number;
}

interface GaugeLeaf {
  readonly name: string;
  readonly tags: Tags;
  value: number;
}

/** A metric store's whole state as plain data, for workers and for merging. */
export interface MetricStoreSnapshot {
  trends: Array<{ name: string; tags: Tags; encoded: string }>;
  counters: Array<{ name: string; tags: Tags; value: number }>;
  rates: Array<{ name: string; tags: Tags; passes: number; total: number }>;
  gauges: Array<{ name: string; tags: Tags; value: number }>;
}

/**
 * All samples of a run, one leaf per metric and full tag set. A query for a sub-metric
 * (`latency{flow:visitors}`) merges every leaf whose tags include the filter: histograms are
 * added, never averaged, so any sub-metric's percentiles are exact to the histogram's precision.
 */
export class MetricStore {
  readonly #trends = new Map<string, TrendLeaf>();
  readonly #counters = new Map<string, CounterLeaf>();
  readonly #rates = new Map<string, RateLeaf>();
  readonly #gauges = new Map<string, GaugeLeaf>();
  readonly #kinds = new Map<string, MetricKind>();
  readonly #mergedCache = new Map<string, { version: number; histogram: ValueHistogram }>();
  readonly #elapsedMs: () => number;
  #version = 0;

  constructor(elapsedMs: () => number) {
    this.#elapsedMs = elapsedMs;
  }

  /** The leaf for one full tag set; callers on the hot path keep it rather than look it up. */
  trendLeaf(name: string, tags: Tags): TrendLeaf {
    const key = `${name}|${tagKey(tags)}`;
    let leaf = this.#trends.get(key);
    if (leaf === undefined) {
      this.#declare(name, 'trend');
      leaf = { name, tags: { ...tags }, histogram: new ValueHistogram() };
      this.#trends.set(key, leaf);
    }
    return leaf;
  }

  /** Records one value in recorded units (microseconds for timings). */
  record(leaf: TrendLeaf, value: number): void {
    leaf.histogram.record(value);
    this.#version++;
  }

  addCounter(name: string, tags: Tags, value = 1): void {
    this.counterLeaf(name, tags).value += value;
  }

  /**
   * The counter leaf for one full tag set. As with `trendLeaf`, the hot path keeps it and
   * adds to it directly (`leaf.value += n`): building the tag key costs a sort per call.
   */
  counterLeaf(name: string, tags: Tags): CounterLeaf {
    const key = `${name}|${tagKey(tags)}`;
    let leaf = this.#counters.get(key);
    if (leaf === undefined) {
      this.#declare(name, 'counter');
      leaf = { name, tags: { ...tags }, value: 0 };
      this.#counters.set(key, leaf);
    }
    return leaf;
  }

  addRate(name: string, tags: Tags, passed: boolean): void {
    MetricStore.count(this.rateLeaf(name, tags), passed);
  }

  /** The rate leaf for one full tag set, for the hot path to keep (see `counterLeaf`). */
  rateLeaf(name: string, tags: Tags): RateLeaf {
    const key = `${name}|${tagKey(tags)}`;
    let leaf = this.#rates.get(key);
    if (leaf === undefined) {
      this.#declare(name, 'rate');
      leaf = { name, tags: { ...tags }, passes: 0, total: 0 };
      this.#rates.set(key, leaf);
    }
    return leaf;
  }

  /** Counts one sample of a kept rate leaf. */
  static count(leaf: RateLeaf, passed: boolean): void {
    leaf.total++;
    if (passed) leaf.passes++;
  }

  setGauge(name: string, tags: Tags, value: number): void {
    const key = `${name}|${tagKey(tags)}`;
    let leaf = this.#gauges.get(key);
    if (leaf === undefined) {
      this.#declare(name, 'gauge');
      leaf = { name, tags: { ...tags }, value };
      this.#gauges.set(key, leaf);
    }
    leaf.value = value;
  }

  kindOf(name: string): MetricKind | undefined {
    return this.#kinds.get(name) ?? metricDefinition(name)?.kind;
  }

  /** Metric names with at least one sample, in insertion order. */
  names(): string[] {
    return [...this.#kinds.keys()];
  }

  /** Every distinct tag set recorded for a metric. */
  tagSets(name: string): Tags[] {
    const out: Tags[] = [];
    for (const map of [this.#trends, this.#counters, this.#rates, this.#gauges]) {
      for (const leaf of map.values()) if (leaf.name === name) out.push(leaf.tags);
    }
    return out;
  }

  trend(name: string, tags: Tags): TrendStats | undefined {
    const histogram = this.mergedHistogram(name, tags);
    if (histogram === undefined || histogram.count === 0) return undefined;
    const scale = TREND_SCALE[metricDefinition(name)?.unit ?? 'ms'];
    return {
      count: histogram.count,
      min: histogram.min / scale,
      max: histogram.max / scale,
      mean: histogram.mean / scale,
      percentile: (p: number) => histogram.percentile(p) / scale,
    };
  }

  /**
   * The merged histogram of every leaf matching `tags`, cached until the next record. Owned by
   * the store: callers must not destroy it.
   */
  mergedHistogram(name: string, tags: Tags): ValueHistogram | undefined {
    const matching: TrendLeaf[] = [];
    for (const leaf of this.#trends.values()) {
      if (leaf.name === name && tagsMatch(leaf.tags, tags)) matching.push(leaf);
    }
    if (matching.length === 0) return undefined;
    if (matching.length === 1) return (matching[0] as TrendLeaf).histogram;

    const key = `${name}|${tagKey(tags)}`;
    const cached = this.#mergedCache.get(key);
    if (cached !== undefined && cached.version === this.#version) return cached.histogram;
    const merged = cached?.histogram ?? new ValueHistogram();
    merged.reset();
    for (const leaf of matching) merged.add(leaf.histogram);
    this.#mergedCache.set(key, { version: this.#version, histogram: merged });
    return merged;
  }

  counter(name: string, tags: Tags): { count: number; ratePerSec: number } | undefined {
    let count = 0;
    let found = false;
    for (const leaf of this.#counters.values()) {
      if (leaf.name !== name || !tagsMatch(leaf.tags, tags)) continue;
      found = true;
      count += leaf.value;
    }
    if (!found) return undefined;
    const elapsedSec = this.#elapsedMs() / 1_000;
    return { count, ratePerSec: elapsedSec > 0 ? count / elapsedSec : 0 };
  }

  rate(name: string, tags: Tags): { passes: number; total: number } | undefined {
    let passes = 0;
    let total = 0;
    for (const leaf of this.#rates.values()) {
      if (leaf.name !== name || !tagsMatch(leaf.tags, tags)) continue;
      passes += leaf.passes;
      total += leaf.total;
    }
    return total === 0 ? undefined : { passes, total };
  }

  gauge(name: string, tags: Tags): { value: number } | undefined {
    for (const leaf of this.#gauges.values()) {
      if (leaf.name === name && tagsMatch(leaf.tags, tags)) return { value: leaf.value };
    }
    return undefined;
  }

  snapshot(): MetricStoreSnapshot {
    return {
      trends: [...this.#trends.values()].map((leaf) => ({
        name: leaf.name,
        tags: leaf.tags,
        encoded: leaf.histogram.encode(),
      })),
      counters: [...this.#counters.values()].map(({ name, tags, value }) => ({
        name,
        tags,
        value,
      })),
      rates: [...this.#rates.values()].map(({ name, tags, passes, total }) => ({
        name,
        tags,
        passes,
        total,
      })),
      gauges: [...this.#gauges.values()].map(({ name, tags, value }) => ({ name, tags, value })),
    };
  }

  /** Adds another store's snapshot into this one (counters and rates summed, histograms added). */
  merge(snapshot: MetricStoreSnapshot): void {
    for (const trend of snapshot.trends) {
      const other = ValueHistogram.decode(trend.encoded);
      this.trendLeaf(trend.name, trend.tags).histogram.add(other);
      other.destroy();
    }
    for (const c of snapshot.counters) this.addCounter(c.name, c.tags, c.value);
    for (const r of snapshot.rates) {
      const key = `${r.name}|${tagKey(r.tags)}`;
      this.addRateCounts(key, r.name, r.tags, r.passes, r.total);
    }
    for (const g of snapshot.gauges) this.setGauge(g.name, g.tags, g.value);
    this.#version++;
  }

  /** Releases every histogram's WebAssembly memory. The store is unusable afterwards. */
  destroy(): void {
    for (const leaf of this.#trends.values()) leaf.histogram.destroy();
    for (const cached of this.#mergedCache.values()) cached.histogram.destroy();
    this.#trends.clear();
    this.#mergedCache.clear();
  }

  private addRateCounts(key: string, name: string, tags: Tags, passes: number, total: number) {
    let leaf = this.#rates.get(key);
    if (leaf === undefined) {
      this.#declare(name, 'rate');
      leaf = { name, tags: { ...tags }, passes: 0, total: 0 };
      this.#rates.set(key, leaf);
    }
    leaf.passes += passes;
    leaf.total += total;
  }

  #declare(name: string, kind: MetricKind): void {
    const known = this.#kinds.get(name) ?? metricDefinition(name)?.kind;
    if (known !== undefined && known !== kind) {
      throw new TypeError(`metric ${name} is a ${known}, not a ${kind}`);
    }
    if (!this.#kinds.has(name)) this.#kinds.set(name, kind);
  }
}
