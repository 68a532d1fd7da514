import type { Distribution } from './provider-options.ts';

/**
 * Seeded randomness for the mock provider. Every draw is a pure function of (seed, call
 * index, purpose), so the same seed faults the same calls and gives the same text and timing
 * whatever else happened between them.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: small, fast and good enough for test traffic (not for cryptography). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes several integers into one 32-bit seed (the finaliser of murmur3). */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** One uniform draw in [0, 1) that depends only on its arguments. */
export function drawUniform(seed: number, callIndex: number, purpose: number): number {
  return createRandom(mixSeed(seed, callIndex, purpose))();
}

/**
 * Draws one value. Normal and lognormal use Box-Muller on two draws; results are clamped at
 * zero because none of the quantities drawn here can be negative.
 */
export function sample(distribution: Distribution, random: Random): number {
  switch (distribution.kind) {
    case 'fixed':
      return distribution.value;
    case 'uniform':
      return distribution.min + (distribution.max - distribution.min) * random();
    case 'normal':
      return Math.max(0, distribution.mean + distribution.stddev * gaussian(random));
    case 'lognormal':
      return distribution.median * Math.exp(distribution.sigma * gaussian(random));
  }
}

function gaussian(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
