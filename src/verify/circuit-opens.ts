import type { Verification } from '../report/summary-schema.ts';
import {
  atSeconds,
  type CounterSample,
  counterAt,
  formatSpanUs,
  type ObservedRequest,
  type ObservedRun,
  type ObservedWindow,
  verification,
} from './observed-run.ts';

export const CIRCUIT_OPENS = 'circuit opens';

export interface CircuitOptions {
  withinMs: number;
  maxCallsPerRequest: number;
  probeAfterMs: number | undefined;
  probeToleranceMs: number;
}

/**
 * During a long fault a breaker sheds load, then lets one probe through.
 *
 * 1. From `within` after the fault started until it cleared, provider calls (the counter's
 *    growth) per user request sent in that stretch stay at or under the maximum.
 * 2. With `probeAfter`: the breaker's open time is the provider's longest quiet stretch
 *    that began during the fault, and the probe the call that ended it. Its length is
 *    `probeAfter` (the breaker's reset interval) give or take the tolerance, which covers
 *    the counter's sampling and the spacing of requests.
 */
export function checkCircuitOpens(
  run: ObservedRun,
  windows: readonly ObservedWindow[],
  flows: ReadonlySet<string>,
  options: CircuitOptions,
): Verification[] {
  const samples = run.samples ?? [];
  const requests = run.requests.filter((request) => flows.has(request.flow));
  return windows.map((window) => {
    const shedFromUs = window.startUs + options.withinMs * 1_000;
    if (samples.length === 0) {
      return verification(CIRCUIT_OPENS, window.name, false, [
        'the provider counters could not be read: no call count to judge',
      ]);
    }
    if (shedFromUs >= window.endUs) {
      return verification(CIRCUIT_OPENS, window.name, false, [
        `${window.name} lasted ${formatSpanUs(window.endUs - window.startUs)}, not longer than ` +
          `the declared ${formatSpanUs(options.withinMs * 1_000)} for the breaker to open`,
      ]);
    }

    const early = stretch(samples, requests, window.startUs, shedFromUs);
    const late = stretch(samples, requests, shedFromUs, window.endUs);
    const lateRatio = late.requests === 0 ? Number.POSITIVE_INFINITY : late.calls / late.requests;
    let ok = late.requests > 0 && lateRatio <= options.maxCallsPerRequest;
    const evidence = [
      `first ${formatSpanUs(shedFromUs - window.startUs)} of ${window.name}: ${early.calls} ` +
        `provider calls for ${early.requests} requests (${per(early)})`,
      `from ${atSeconds(run, shedFromUs)} until it cleared at ${atSeconds(run, window.endUs)}: ` +
        `${late.calls} calls for ${late.requests} requests (${per(late)}), declared at most ` +
        `${options.maxCallsPerRequest} per request`,
    ];

    if (options.probeAfterMs !== undefined) {
      const probe = findProbe(samples, window.startUs, window.endUs);
      const wantUs = options.probeAfterMs * 1_000;
      const toleranceUs = options.probeToleranceMs * 1_000;
      const declared = `declared reset interval ${formatSpanUs(wantUs)} ± ${formatSpanUs(toleranceUs)}`;
      if (probe.quietUs === undefined) {
        ok = false;
        evidence.push(`the provider never went quiet during ${window.name}: no breaker opened`);
      } else if (probe.probeUs === undefined) {
        ok = false;
        evidence.push(
          `the provider went quiet at ${atSeconds(run, probe.quietUs)} and saw no call after ` +
            `that until the run ended ${formatSpanUs(run.endUs - probe.quietUs)} later: no probe ` +
            `came (${declared})`,
        );
      } else {
        const gapUs = probe.probeUs - probe.quietUs;
        const fits = Math.abs(gapUs - wantUs) <= toleranceUs;
        ok &&= fits;
        evidence.push(
          `the provider's longest quiet stretch began at ${atSeconds(run, probe.quietUs)}; the ` +
            `probe that ended it came at ${atSeconds(run, probe.probeUs)}, ${formatSpanUs(gapUs)} ` +
            `later (${probe.calls} call${probe.calls === 1 ? '' : 's'} in that sample); ${declared}`,
        );
      }
    }
    return verification(CIRCUIT_OPENS, window.name, ok, evidence);
  });
}

interface Stretch {
  calls: number;
  requests: number;
}

function stretch(
  samples: readonly CounterSample[],
  requests: readonly ObservedRequest[],
  fromUs: number,
  toUs: number,
): Stretch {
  const at = (us: number) => (counterAt(samples, us) ?? samples[0])?.calls ?? 0;
  return {
    calls: at(toUs) - at(fromUs),
    requests: requests.filter((r) => r.startUs >= fromUs && r.startUs < toUs).length,
  };
}

/**
 * The longest stretch in which the provider saw no call, among those that began while the
 * fault was in force: `quietUs` is the sample where the call counter last grew before it,
 * `probeUs` the first sample where it grew again (undefined when it never did).
 */
export function findProbe(
  samples: readonly CounterSample[],
  fromUs: number,
  toUs: number,
): { quietUs: number | undefined; probeUs: number | undefined; calls: number } {
  let best: { quietUs: number | undefined; probeUs: number | undefined; calls: number } = {
    quietUs: undefined,
    probeUs: undefined,
    calls: 0,
  };
  let bestSpanUs = -1;
  let runStart = 0;
  for (let i = 1; i <= samples.length; i++) {
    const sample = samples[i];
    const started = samples[runStart] as CounterSample;
    if (sample !== undefined && sample.calls === started.calls) continue;

    const endUs = sample?.atUs ?? Number.POSITIVE_INFINITY;
    const spanUs = endUs - started.atUs;
    // A stretch that began before the fault, or one sample long, is no breaker's doing.
    if (started.atUs >= fromUs && started.atUs <= toUs && i - runStart > 1 && spanUs > bestSpanUs) {
      bestSpanUs = spanUs;
      best = {
        quietUs: started.atUs,
        probeUs: sample?.atUs,
        calls: sample === undefined ? 0 : sample.calls - started.calls,
      };
    }
    runStart = i;
  }
  return best;
}

function per(part: Stretch): string {
  return part.requests === 0
    ? 'no requests'
    : `${(part.calls / part.requests).toFixed(2)} per request`;
}
