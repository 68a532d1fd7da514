/** A monotonic clock in integer microseconds. Injected so tests can drive time themselves. */
export interface Clock {
  nowUs(): number;
}

/** process.hrtime.bigint(), in whole microseconds. */
export const monotonicClock: Clock = {
  nowUs: () => Number(process.hrtime.bigint() / 1_000n),
};
