import type { Verification } from '../report/summary-schema.ts';
import {
  atSeconds,
  type CounterSample,
  counterAt,
  type ObservedRequest,
  type ObservedRun,
  verification,
} from './observed-run.ts';

export const NO_RETRY_STORM = 'no retry storm';

export interface RetryStormOptions {
  maxCallsPerRequest: number;
  windowMs: number;
  minRequests: number;
}

/** Provider calls against user requests over one stretch of the run. */
export interface CallRatio {
  fromUs: number;
  toUs: number;
  calls: number;
  requests: number;
}

/**
 * Provider calls per user request stay at or under the maximum, over the whole run and in
 * every window of `windowMs` that holds at least `minRequests` requests.
 *
 * 1. Windows start and end on counter samples, so the calls of a window are exactly the
 *    counter's growth between two samples; its requests are those actually sent between
 *    the same two instants.
 * 2. The whole run counts every call from the first sample (before t = 0) to the last
 *    (after the last request ended) against every request of the flows read.
 * 3. The calls of each phase of the timeline are shown beside, for the reader.
 */
export function checkNoRetryStorm(
  run: ObservedRun,
  flows: ReadonlySet<string>,
  options: RetryStormOptions,
): Verification {
  const samples = run.samples ?? [];
  const requests = run.requests.filter((request) => flows.has(request.flow));
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || requests.length === 0) {
    return verification(NO_RETRY_STORM, undefined, false, [
      samples.length === 0
        ? 'the provider counters could not be read: no call count to judge'
        : 'no request was sent: nothing to judge',
    ]);
  }

  const max = options.maxCallsPerRequest;
  const overall = last.calls - first.calls;
  const overallRatio = overall / requests.length;
  const windows = callWindows(samples, requests, options.windowMs * 1_000).filter(
    (window) => window.requests >= options.minRequests,
  );
  const worst = windows.reduce<CallRatio | undefined>(
    (top, window) =>
      top === undefined || window.calls / window.requests > top.calls / top.requests ? window : top,
    undefined,
  );
  const over = windows.filter((window) => window.calls / window.requests > max);

  const evidence = [
    `over the whole run: ${overall} provider calls for ${requests.length} user requests = ` +
      `${ratio(overall, requests.length)} per request, declared at most ${max}`,
  ];
  if (worst !== undefined) {
    evidence.push(
      `busiest ${options.windowMs / 1_000} s window (${atSeconds(run, worst.fromUs)}–` +
        `${atSeconds(run, worst.toUs)}): ${worst.calls} calls for ${worst.requests} requests = ` +
        `${ratio(worst.calls, worst.requests)} per request` +
        (over.length > 0 ? `; ${over.length} of ${windows.length} windows over ${max}` : ''),
    );
  } else {
    evidence.push(`no ${options.windowMs / 1_000} s window held ${options.minRequests} requests`);
  }
  for (const phase of phaseRatios(run, samples, requests)) evidence.push(phase);

  return verification(
    NO_RETRY_STORM,
    undefined,
    overallRatio <= max && over.length === 0,
    evidence,
  );
}

/** Consecutive windows at least `windowUs` long, cut on sample instants. */
export function callWindows(
  samples: readonly CounterSample[],
  requests: readonly ObservedRequest[],
  windowUs: number,
): CallRatio[] {
  const sent = requests.map((request) => request.startUs).sort((a, b) => a - b);
  const out: CallRatio[] = [];
  let from = samples[0];
  let cursor = 0;
  for (const sample of samples) {
    if (from === undefined || sample.atUs - from.atUs < windowUs) continue;
    while (cursor < sent.length && (sent[cursor] as number) < from.atUs) cursor++;
    let count = 0;
    while (cursor + count < sent.length && (sent[cursor + count] as number) < sample.atUs) count++;
    out.push({
      fromUs: from.atUs,
      toUs: sample.atUs,
      calls: sample.calls - from.calls,
      requests: count,
    });
    from = sample;
  }
  return out;
}

/** `provider-errors:during: 40 calls for 48 requests (0.83)`, one line per phase seen. */
function phaseRatios(
  run: ObservedRun,
  samples: readonly CounterSample[],
  requests: readonly ObservedRequest[],
): string[] {
  const [firstWindow] = run.windows;
  const firstSample = samples[0];
  const lastSample = samples.at(-1);
  if (firstWindow === undefined || firstSample === undefined || lastSample === undefined) return [];

  const stretches = [
    { name: `${firstWindow.name}:before`, fromUs: firstSample.atUs, toUs: firstWindow.startUs },
  ];
  run.windows.forEach((window, i) => {
    const nextUs = run.windows[i + 1]?.startUs ?? lastSample.atUs;
    stretches.push({ name: `${window.name}:during`, fromUs: window.startUs, toUs: window.endUs });
    stretches.push({ name: `${window.name}:after`, fromUs: window.endUs, toUs: nextUs });
  });

  const lines: string[] = [];
  for (const { name, fromUs, toUs } of stretches) {
    const count = requests.filter((r) => r.startUs >= fromUs && r.startUs < toUs).length;
    if (count === 0) continue;
    const calls = callsAt(samples, toUs) - callsAt(samples, fromUs);
    lines.push(`${name}: ${calls} calls for ${count} requests (${ratio(calls, count)})`);
  }
  return lines;
}

function callsAt(samples: readonly CounterSample[], us: number): number {
  return (counterAt(samples, us) ?? samples[0])?.calls ?? 0;
}

function ratio(calls: number, requests: number): string {
  return (calls / requests).toFixed(2);
}
