import { z } from 'zod';
import { isDuration, parseDurationMs } from '../util/duration.ts';

// Parsed here rather than with the scenario schema's durations, which import this file.
const duration = z
  .union([z.string(), z.number()])
  .refine(isDuration, { message: "expected a duration such as '500ms', '30s' or '2m'" })
  .transform((value) => parseDurationMs(value));
const positiveDuration = duration.refine((ms) => ms > 0, {
  message: 'expected a duration longer than 0s',
});
const share = z.number().min(0).max(1);

/** Which windows of the fault timeline a check reads, by name; absent: every one it fits. */
const faults = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .optional();

/** Checks that read the whole run may be switched on with `true`. */
const onOrOptions = <T extends z.ZodType>(options: T) =>
  z.union([z.literal(true).transform(() => ({}) as z.output<T>), options]).optional();

/**
 * What a scenario declares about graceful degradation, each check reported with evidence
 * and able to fail the run. Checks read the requests of `flows` (all flows when absent),
 * phases come from the `faults` timeline, provider figures from the mock provider's counters.
 */
export const resilienceSchema = z.strictObject({
  /** The flows whose requests the checks read; all flows when absent. */
  flows: z.array(z.string().min(1)).min(1).optional(),

  /**
   * While each fault is in force, at least `minShare` of the answers carry the flow's
   * `fallbackMarker` (429s, timeouts and resets count against it).
   */
  fallbackEngages: z.strictObject({ faults, minShare: share }).optional(),

  /**
   * The `percentile` (99 by default) of the time from the intended send to the fallback
   * answer stays under `deadline`, and no request sent during the fault waits longer than
   * `deadline` for an answer of any kind.
   */
  fallbackFast: z
    .strictObject({
      faults,
      deadline: positiveDuration,
      percentile: z.number().gt(0).max(100).default(99),
    })
    .optional(),

  /** No 5xx and no dropped connection (reset, refused, broken-off stream) during a fault. */
  noServerErrors: onOrOptions(z.strictObject({ faults })),

  /**
   * After each fault clears, normal answers (expected status, no fallback marker, no
   * failure) are back within `within`: from then on at least `minNormalShare` of them are.
   * By default it reads the windows followed by `within` free of the next fault.
   */
  recovery: z
    .strictObject({ faults, within: positiveDuration, minNormalShare: share.default(0.95) })
    .optional(),

  /**
   * Provider calls per user request, from the provider's counters, stay at or under
   * `maxCallsPerRequest` over the whole run and in every `window` holding at least
   * `minRequests` requests.
   */
  noRetryStorm: z
    .strictObject({
      maxCallsPerRequest: z.number().positive(),
      // Two seconds: a stalled event loop can carry a few calls over a window's edge.
      window: positiveDuration.default(2_000),
      minRequests: z.number().int().positive().default(10),
    })
    .optional(),

  /**
   * A breaker sheds load: from `within` after each fault starts until it clears, provider
   * calls per user request stay at or under `maxCallsPerRequest`. With `probeAfter` (the
   * breaker's reset interval), the first call after the provider went quiet comes that long
   * after the last one, give or take `probeTolerance`.
   */
  circuitOpens: z
    .strictObject({
      faults,
      within: duration,
      maxCallsPerRequest: z.number().min(0).default(0.2),
      probeAfter: positiveDuration.optional(),
      probeTolerance: positiveDuration.default(1_500),
    })
    .optional(),

  /**
   * Streams the client leaves on purpose (`stream.abandonAfter`) are aborted upstream: the
   * provider counts an aborted stream within `within` for at least `minShare` of them (a
   * client may leave the instant an answer ends, when there is nothing left to stop).
   * Abandonments less than `settle` after a fault window are left out, since the fault
   * aborts streams of its own.
   */
  abandonedStreamsStop: z
    .strictObject({
      flows: z.array(z.string().min(1)).min(1).optional(),
      within: positiveDuration,
      minShare: share.default(0.9),
      settle: duration.default(3_000),
    })
    .optional(),

  /**
   * When the provider stalls or breaks mid-stream, every chat stream sent during the fault
   * still ends with its terminator, none going silent past the flow's `stream.idleTimeout`.
   * By default it reads the windows whose rules break streams mid-answer.
   */
  brokenStreamsEnd: onOrOptions(z.strictObject({ faults })),
});

/** Declared resilience checks, validated. */
export type ResilienceSpec = z.output<typeof resilienceSchema>;

/** Declared resilience checks, as a scenario writes them. */
export type ResilienceInput = z.input<typeof resilienceSchema>;
