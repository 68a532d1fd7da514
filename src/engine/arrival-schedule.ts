import type { LoadShape } from '../scenario/schema.ts';
import { SeededRandom } from '../util/random.ts';

type OpenLoad = Extract<
  LoadShape,
  { executor: 'constant-arrival-rate' | 'ramping-arrival-rate' | 'burst' }
>;

/** A piece of the planned rate: linear from `fromPerUs` to `toPerUs` over `durationUs`. */
interface RateSegment {
  startUs: number;
  durationUs: number;
  fromPerUs: number;
  toPerUs: number;
  /** Planned arrivals before this segment (the cumulative rate at its start). */
  before: number;
}

/** The planned arrival offsets of an open-model flow, in microseconds from the run's start. */
export interface ArrivalSchedule {
  /** Arrivals planned: exact for uniform spacing and bursts, expected for Poisson rates. */
  readonly plannedCount: number;
  /** When the last arrival may fall, from the run's start. */
  readonly endUs: number;
  /** Offsets in increasing order; lazy, so a long run never holds its whole plan. */
  offsets(): Generator<number, void, undefined>;
}

export function isOpenLoad(load: LoadShape): load is OpenLoad {
  return (
    load.executor === 'constant-arrival-rate' ||
    load.executor === 'ramping-arrival-rate' ||
    load.executor === 'burst'
  );
}

/**
 * Builds the arrival schedule of an open-model load shape.
 *
 * Rates are handled as a cumulative planned count Λ(t), piecewise quadratic over linear rate
 * segments (k6 ramps the rate linearly within a stage):
 * 1. uniform spacing puts arrival i where Λ(t) = i, so a constant rate r over D sends exactly
 *    ceil(r·D) requests, the first at t = 0;
 * 2. Poisson spacing puts arrival k where Λ(t) = S_k, S_k a sum of seeded unit exponentials
 *    (time rescaling of a unit-rate Poisson process), so the rate follows the ramp exactly;
 * 3. a burst releases `count` arrivals at once, or spreads them over `spread`: evenly
 *    (uniform) or as sorted seeded uniform points (a Poisson process conditioned on its count).
 */
export function createArrivalSchedule(load: OpenLoad, seed: number): ArrivalSchedule {
  const startUs = load.startTime * 1_000;
  if (load.executor === 'burst') return burstSchedule(load, startUs, seed);

  const segments = rateSegments(load, startUs);
  const last = segments[segments.length - 1] as RateSegment;
  const total = last.before + ((last.fromPerUs + last.toPerUs) / 2) * last.durationUs;
  const endUs = last.startUs + last.durationUs;
  const poisson = load.spacing === 'poisson';

  return {
    plannedCount: poisson ? total : Math.ceil(total - 1e-9),
    endUs,
    *offsets() {
      const random = new SeededRandom(seed);
      let target = poisson ? random.exponential() : 0;
      let index = 0;
      for (const segment of segments) {
        const segmentTotal = ((segment.fromPerUs + segment.toPerUs) / 2) * segment.durationUs;
        while (target < segment.before + segmentTotal - 1e-9) {
          yield segment.startUs + invertSegment(segment, target - segment.before);
          index++;
          target = poisson ? target + random.exponential() : index;
        }
      }
    },
  };
}

function rateSegments(load: Exclude<OpenLoad, { executor: 'burst' }>, startUs: number) {
  const perUs = (rate: number) => rate / (load.timeUnit * 1_000);
  const segments: RateSegment[] = [];
  if (load.executor === 'constant-arrival-rate') {
    const r = perUs(load.rate);
    segments.push({
      startUs,
      durationUs: load.duration * 1_000,
      fromPerUs: r,
      toPerUs: r,
      before: 0,
    });
    return segments;
  }

  let at = startUs;
  let before = 0;
  let from = perUs(load.startRate);
  for (const stage of load.stages) {
    const to = perUs(stage.target);
    const durationUs = stage.duration * 1_000;
    segments.push({ startUs: at, durationUs, fromPerUs: from, toPerUs: to, before });
    before += ((from + to) / 2) * durationUs;
    at += durationUs;
    from = to;
  }
  return segments;
}

/**
 * Solves Λ_seg(τ) = n for τ, where Λ_seg(τ) = a·τ + k·τ²/2. The form 2n / (a + √(a² + 2kn))
 * is the quadratic root that stays exact when the slope k is 0 and when a is 0.
 */
function invertSegment(segment: RateSegment, n: number): number {
  const a = segment.fromPerUs;
  const k = segment.durationUs > 0 ? (segment.toPerUs - a) / segment.durationUs : 0;
  if (n <= 0) return 0;
  const root = Math.sqrt(Math.max(0, a * a + 2 * k * n));
  return (2 * n) / (a + root);
}

function burstSchedule(
  load: Extract<OpenLoad, { executor: 'burst' }>,
  startUs: number,
  seed: number,
): ArrivalSchedule {
  const spreadUs = load.spread * 1_000;
  return {
    plannedCount: load.count,
    endUs: startUs + spreadUs,
    *offsets() {
      if (spreadUs === 0) {
        for (let i = 0; i < load.count; i++) yield startUs;
        return;
      }
      if (load.spacing === 'uniform') {
        for (let i = 0; i < load.count; i++) yield startUs + (i * spreadUs) / load.count;
        return;
      }
      const random = new SeededRandom(seed);
      const points = Array.from({ length: load.count }, () => random.next() * spreadUs);
      points.sort((a, b) => a - b);
      for (const point of points) yield startUs + point;
    },
  };
}
