import type { RequestFailure } from '../engine/request-failure.ts';
import type { Verification } from '../report/summary-schema.ts';
import {
  isJudged,
  type ObservedRequest,
  type ObservedRun,
  type ObservedWindow,
  sentDuring,
  tallyOutcomes,
  verification,
  windowLabel,
} from './observed-run.ts';

export const NO_SERVER_ERRORS = 'no server errors';

/**
 * While the provider is down, the target answers no 5xx and drops no connection: no reset,
 * refused or protocol-broken exchange, no stream that broke off or carried an error event.
 * Timeouts are not counted here: a target that hangs fails "fallback is fast" instead.
 */
export function checkNoServerErrors(
  run: ObservedRun,
  windows: readonly ObservedWindow[],
  flows: ReadonlySet<string>,
): Verification[] {
  return windows.map((window) => {
    const requests = sentDuring(run.requests, window).filter(
      (request) => flows.has(request.flow) && isJudged(request),
    );
    const label = windowLabel(run, window);
    const bad = requests.filter(isServerError);
    const evidence = [
      `${bad.length} of ${requests.length} requests sent while ${label} was in force got a ` +
        `5xx or a dropped connection`,
    ];
    if (bad.length > 0) evidence.push(`they were: ${tallyOutcomes(bad)}`);
    const timedOut = requests.filter((request) => request.failure?.kind === 'timeout').length;
    if (timedOut > 0) evidence.push(`${timedOut} more timed out (judged by "fallback is fast")`);
    if (requests.length === 0)
      evidence.push('no request was sent during the fault: nothing to judge');
    return verification(
      NO_SERVER_ERRORS,
      window.name,
      requests.length > 0 && bad.length === 0,
      evidence,
    );
  });
}

/** A 5xx, or a connection the target dropped or broke mid-answer. */
export function isServerError(request: ObservedRequest): boolean {
  if (request.status >= 500) return true;
  return request.failure !== undefined && DROPPED[request.failure.kind](request.failure);
}

const DROPPED: Record<RequestFailure['kind'], (failure: RequestFailure) => boolean> = {
  reset: () => true,
  refused: () => true,
  protocol: () => true,
  stream: (failure) =>
    failure.kind === 'stream' &&
    (failure.reason === 'truncated' || failure.reason === 'error-event'),
  timeout: () => false,
  dns: () => false,
  tls: () => false,
  aborted: () => false,
  abandoned: () => false,
  other: () => false,
};
