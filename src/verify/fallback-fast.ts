import type { Verification } from '../report/summary-schema.ts';
import {
  formatSpanUs,
  isJudged,
  nearestRank,
  type ObservedRequest,
  type ObservedRun,
  type ObservedWindow,
  sentDuring,
  verification,
  windowLabel,
} from './observed-run.ts';

export const FALLBACK_FAST = 'fallback is fast';

/**
 * During a fault, the `percentile` of the time to the fallback answer stays under the
 * deadline, and no request waits past it for an answer of any kind.
 *
 * 1. A request's answer time is its first content delta, or its response headers when it
 *    streamed no content, measured from its intended send time (what the visitor waits).
 * 2. The percentile is the nearest rank over the fallback answers.
 * 3. A request hangs when it had no answer by the deadline: it answered later, or it ended
 *    with no answer at all after the deadline (a timeout). A quick reset is not a hang (no
 *    server errors reports it).
 */
export function checkFallbackFast(
  run: ObservedRun,
  windows: readonly ObservedWindow[],
  flows: ReadonlySet<string>,
  deadlineMs: number,
  percentile: number,
): Verification[] {
  const deadlineUs = deadlineMs * 1_000;
  return windows.map((window) => {
    const requests = sentDuring(run.requests, window).filter(
      (request) => flows.has(request.flow) && isJudged(request),
    );
    const label = windowLabel(run, window);
    const evidence: string[] = [];

    const fallbackWaits = requests.filter((r) => r.fallback).map((r) => waitUs(r));
    const observed = nearestRank(fallbackWaits, percentile);
    if (observed === undefined) {
      evidence.push(
        `no fallback answer to a request sent while ${label} was in force: none to time`,
      );
    } else {
      evidence.push(
        `p${percentile} time to the fallback answer: ${formatSpanUs(observed)} over ` +
          `${fallbackWaits.length} fallback answers (longest ${formatSpanUs(Math.max(...fallbackWaits))}), ` +
          `declared under ${formatSpanUs(deadlineUs)}`,
      );
    }

    const hung = requests.filter((request) => waitUs(request) > deadlineUs);
    if (hung.length === 0) {
      evidence.push(
        `none of the ${requests.length} requests sent during the fault waited past ` +
          `${formatSpanUs(deadlineUs)} for an answer`,
      );
    } else {
      const unanswered = hung.filter((request) => answerUs(request) === undefined).length;
      evidence.push(
        `${hung.length} of ${requests.length} requests sent during the fault waited past ` +
          `${formatSpanUs(deadlineUs)} (longest ${formatSpanUs(Math.max(...hung.map(waitUs)))}` +
          `${unanswered > 0 ? `; ${unanswered} got no answer at all` : ''})`,
      );
    }

    const ok = observed !== undefined && observed < deadlineUs && hung.length === 0;
    return verification(FALLBACK_FAST, window.name, ok, evidence);
  });
}

/** When the answer began: the first content, or the headers of a response without content. */
function answerUs(request: ObservedRequest): number | undefined {
  if (request.firstContentUs !== undefined) return request.firstContentUs;
  return request.headersUs > 0 ? request.headersUs : undefined;
}

/** How long the visitor waited for an answer, or for the request to give up. */
function waitUs(request: ObservedRequest): number {
  return (answerUs(request) ?? request.endUs) - request.intendedUs;
}
