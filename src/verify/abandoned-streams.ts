import type { Verification } from '../report/summary-schema.ts';
import {
  counterAt,
  formatShare,
  formatSpanUs,
  nearestRank,
  type ObservedRun,
  verification,
} from './observed-run.ts';

export const ABANDONED_STREAMS_STOP = 'abandoned streams stop';

export interface AbandonOptions {
  withinMs: number;
  minShare: number;
  settleMs: number;
  /** Each flow's `stream.abandonAfter`, for the evidence. */
  abandonAfterMs: ReadonlyMap<string, number>;
}

/**
 * Streams the client left on purpose are aborted upstream within `within`.
 *
 * 1. Fault windows abort streams of their own (a stall ends in the target's idle timeout),
 *    so only clean stretches are read: the run minus each window and `settle` after it.
 * 2. An abandonment is judged when it and `within` after it lie in one clean stretch.
 * 3. In a stretch, the k-th abandonment is matched to the first counter sample at or after
 *    it that shows k more aborted streams than the stretch began with; the gap is an upper
 *    bound of how long the provider kept streaming, since samples come only every
 *    `sampleEveryMs`. At least `minShare` of the gaps must be within `within`.
 */
export function checkAbandonedStreams(
  run: ObservedRun,
  flows: ReadonlySet<string>,
  options: AbandonOptions,
): Verification {
  const name = [...flows].join(', ');
  const samples = run.samples ?? [];
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined) {
    return verification(ABANDONED_STREAMS_STOP, name, false, [
      'the provider counters could not be read: no aborted streams to count',
    ]);
  }

  const withinUs = options.withinMs * 1_000;
  const abandoned = run.requests
    .filter((request) => flows.has(request.flow) && request.abandoned)
    .map((request) => request.endUs)
    .sort((a, b) => a - b);
  const stretches = cleanStretches(run, first.atUs, last.atUs, options.settleMs * 1_000);

  const lagsUs: number[] = [];
  let judged = 0;
  let missed = 0;
  let abortedSeen = 0;
  for (const [fromUs, toUs] of stretches) {
    const base = (counterAt(samples, fromUs) ?? first).abortedStreams;
    const inside = abandoned.filter((atUs) => atUs >= fromUs && atUs + withinUs <= toUs);
    abortedSeen += (counterAt(samples, toUs) ?? first).abortedStreams - base;
    inside.forEach((atUs, k) => {
      judged++;
      const seen = samples.find((s) => s.atUs >= atUs && s.abortedStreams - base >= k + 1);
      if (seen === undefined || seen.atUs - atUs > withinUs) missed++;
      else lagsUs.push(seen.atUs - atUs);
    });
  }

  const leave = [...new Set(options.abandonAfterMs.values())].map((ms) => `${ms} ms`).join(', ');
  const evidence = [
    `${abandoned.length} streams of ${name} were left mid-answer (abandonAfter ${leave}); ` +
      `${judged} of them lie clear of fault windows (and ${formatSpanUs(options.settleMs * 1_000)} ` +
      `after each) and are judged`,
    `the provider counted ${abortedSeen} aborted streams over the same stretches`,
  ];
  if (judged === 0) {
    evidence.push('no abandoned stream to judge: nothing shows the target stops streaming');
    return verification(ABANDONED_STREAMS_STOP, name, false, evidence);
  }
  if (lagsUs.length > 0) {
    evidence.push(
      `${lagsUs.length} were aborted upstream within ${formatSpanUs(Math.max(...lagsUs))} ` +
        `(median ${formatSpanUs(nearestRank(lagsUs, 50) as number)}; upper bounds from counter ` +
        `samples every ${run.sampleEveryMs} ms), declared within ${formatSpanUs(withinUs)}`,
    );
  }
  const stopped = (judged - missed) / judged;
  if (missed > 0) {
    evidence.push(
      `${missed} of ${judged} were not aborted upstream within ${formatSpanUs(withinUs)}` +
        (abortedSeen === 0 ? ': the target kept reading answers nobody would see' : ''),
    );
  }
  evidence.push(
    `${formatShare(stopped)} stopped in time, declared at least ${formatShare(options.minShare)}`,
  );
  return verification(ABANDONED_STREAMS_STOP, name, stopped >= options.minShare, evidence);
}

/** The stretches of [fromUs, toUs] outside every window and `settleUs` after it. */
export function cleanStretches(
  run: ObservedRun,
  fromUs: number,
  toUs: number,
  settleUs: number,
): Array<[number, number]> {
  const blocked = run.windows
    .map((window) => [window.startUs, window.endUs + settleUs] as const)
    .sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  let cursor = fromUs;
  for (const [start, end] of blocked) {
    if (start > cursor) out.push([cursor, Math.min(start, toUs)]);
    cursor = Math.max(cursor, end);
    if (cursor >= toUs) break;
  }
  if (cursor < toUs) out.push([cursor, toUs]);
  return out.filter(([start, end]) => end > start);
}
