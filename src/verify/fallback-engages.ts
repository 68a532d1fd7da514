import type { Verification } from '../report/summary-schema.ts';
import {
  formatShare,
  isJudged,
  type ObservedRun,
  type ObservedWindow,
  sentDuring,
  tallyOutcomes,
  verification,
  windowLabel,
} from './observed-run.ts';

export const FALLBACK_ENGAGES = 'fallback engages';

/**
 * While a fault is in force, at least `minShare` of the answers to requests sent then carry
 * the fallback marker. Requests the client left on purpose, or that the run's stop cut, are
 * not judged; everything else that is not marked counts against the share (a 429, a 5xx, a
 * timeout, an unmarked 200).
 */
export function checkFallbackEngages(
  run: ObservedRun,
  windows: readonly ObservedWindow[],
  flows: ReadonlySet<string>,
  minShare: number,
): Verification[] {
  return windows.map((window) => {
    const requests = sentDuring(run.requests, window).filter(
      (request) => flows.has(request.flow) && isJudged(request),
    );
    const label = windowLabel(run, window);
    if (requests.length === 0) {
      return verification(FALLBACK_ENGAGES, window.name, false, [
        `no request of ${[...flows].join(', ')} was sent while ${label} was in force: nothing to judge`,
      ]);
    }

    const marked = requests.filter((request) => request.fallback);
    const observed = marked.length / requests.length;
    const ok = observed >= minShare;
    const evidence = [
      `${marked.length} of ${requests.length} answers to requests sent while ${label} was in ` +
        `force carried the fallback marker: ${formatShare(observed)}, declared at least ` +
        `${formatShare(minShare)}`,
    ];
    const rest = requests.filter((request) => !request.fallback);
    if (rest.length > 0) evidence.push(`the rest: ${tallyOutcomes(rest)}`);
    return verification(FALLBACK_ENGAGES, window.name, ok, evidence);
  });
}
