import type { Verification } from '../report/summary-schema.ts';
import {
  formatSpanUs,
  isJudged,
  type ObservedRun,
  type ObservedWindow,
  sentDuring,
  tallyOutcomes,
  verification,
  windowLabel,
} from './observed-run.ts';

export const BROKEN_STREAMS_END = 'broken streams end';

/**
 * When the provider stalls or breaks mid-stream, the client still gets a whole answer: every
 * chat stream sent during the fault ends with its format's terminator, with no error event,
 * and none goes silent past the flow's `stream.idleTimeout` (the engine records a silence
 * that long as a stalled stream).
 */
export function checkBrokenStreamsEnd(
  run: ObservedRun,
  windows: readonly ObservedWindow[],
  idleTimeoutMs: ReadonlyMap<string, number>,
): Verification[] {
  const idle = [...new Set(idleTimeoutMs.values())]
    .map((ms) => formatSpanUs(ms * 1_000))
    .join(', ');
  return windows.map((window) => {
    const streams = sentDuring(run.requests, window).filter(
      (request) => idleTimeoutMs.has(request.flow) && isJudged(request),
    );
    const label = windowLabel(run, window);
    if (streams.length === 0) {
      return verification(BROKEN_STREAMS_END, window.name, false, [
        `no chat stream was sent while ${label} was in force: nothing to judge`,
      ]);
    }

    const broken = streams.filter(
      (request) => request.failure !== undefined || request.status < 200 || request.status >= 400,
    );
    const longestUs = Math.max(...streams.map((request) => request.endUs - request.startUs));
    const evidence = [
      `${streams.length - broken.length} of ${streams.length} chat streams sent while ${label} ` +
        `was in force ended with their terminator (the longest took ${formatSpanUs(longestUs)}); ` +
        `a silence past the idle timeout (${idle}) counts as stalled`,
    ];
    if (broken.length > 0) evidence.push(`the rest: ${tallyOutcomes(broken)}`);
    return verification(BROKEN_STREAMS_END, window.name, broken.length === 0, evidence);
  });
}
