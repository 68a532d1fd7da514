import type { Verification } from '../report/summary-schema.ts';
import {
  atSeconds,
  formatShare,
  formatSpanUs,
  isJudged,
  isNormal,
  type ObservedRequest,
  type ObservedRun,
  type ObservedWindow,
  tallyOutcomes,
  verification,
} from './observed-run.ts';

export const RECOVERY = 'recovery';

const NEXT_FAULT_GUARD_US = 100_000;

/**
 * After a fault clears, normal answers come back within `within`.
 *
 * 1. The requests judged are those sent from the clearing until 100 ms before the next
 *    window was asked for (or the run ends), in order of intended send time.
 * 2. The recovery instant is the send time of the earliest normal answer from which on at
 *    least `minNormalShare` of the answers are normal.
 * 3. It passes when that instant is no later than `within` after the clearing.
 */
export function checkRecovery(
  run: ObservedRun,
  windows: readonly ObservedWindow[],
  allWindows: readonly ObservedWindow[],
  flows: ReadonlySet<string>,
  withinMs: number,
  minNormalShare: number,
): Verification[] {
  const withinUs = withinMs * 1_000;
  return windows.map((window) => {
    if (!window.cleared) {
      return verification(RECOVERY, window.name, false, [
        `${window.name} was never cleared before the run ended: recovery cannot be seen`,
      ]);
    }
    const next = allWindows.find((other) => other.startUs > window.startUs);
    // A request sent just before the next fault was asked for may reach the provider after.
    const untilUs =
      next === undefined ? Number.POSITIVE_INFINITY : next.requestedUs - NEXT_FAULT_GUARD_US;
    const requests = run.requests.filter(
      (request) =>
        flows.has(request.flow) &&
        isJudged(request) &&
        request.intendedUs >= window.endUs &&
        request.intendedUs < untilUs,
    );
    const cleared = `${window.name} cleared at ${atSeconds(run, window.endUs)}`;
    const recoveredAt = recoveryIndex(requests, minNormalShare);

    if (recoveredAt === undefined) {
      const lastUs = requests.at(-1)?.intendedUs ?? window.endUs;
      const evidence = [
        `after ${cleared}, no run of normal answers came back: ${requests.length} requests ` +
          `sent until ${atSeconds(run, Math.min(untilUs, run.endUs))}`,
      ];
      if (requests.length > 0) evidence.push(`they were: ${tallyOutcomes(requests)}`);
      if (lastUs - window.endUs < withinUs) {
        evidence.push(
          `requests were sent for only ${formatSpanUs(lastUs - window.endUs)} after the ` +
            `clearing, less than the declared ${formatSpanUs(withinUs)}`,
        );
      }
      return verification(RECOVERY, window.name, false, evidence);
    }

    const first = requests[recoveredAt] as ObservedRequest;
    const tookUs = Math.max(0, first.intendedUs - window.endUs);
    const tail = requests.slice(recoveredAt);
    const normal = tail.filter(isNormal).length;
    const evidence = [
      `normal answers were back ${formatSpanUs(tookUs)} after ${cleared}: from ` +
        `${atSeconds(run, first.intendedUs)} on, ${normal} of ${tail.length} answers were ` +
        `normal (${formatShare(normal / tail.length)}, at least ${formatShare(minNormalShare)} ` +
        `needed); declared within ${formatSpanUs(withinUs)}`,
    ];
    const before = requests.slice(0, recoveredAt);
    if (before.length > 0) evidence.push(`sent before that: ${tallyOutcomes(before)}`);
    return verification(RECOVERY, window.name, tookUs <= withinUs, evidence);
  });
}

/**
 * The index of the earliest normal answer from which on at least `minShare` are normal, or
 * undefined when there is none. One pass from the end keeps the counts of each suffix.
 */
export function recoveryIndex(
  requests: readonly ObservedRequest[],
  minShare: number,
): number | undefined {
  let found: number | undefined;
  let normal = 0;
  for (let i = requests.length - 1; i >= 0; i--) {
    const request = requests[i] as ObservedRequest;
    if (isNormal(request)) normal++;
    const total = requests.length - i;
    if (isNormal(request) && normal / total >= minShare) found = i;
  }
  return found;
}
