import type { FaultRule } from '../../src/provider/index.ts';
import type {
  CounterSample,
  ObservedRequest,
  ObservedRun,
  ObservedWindow,
} from '../../src/verify/observed-run.ts';

/** Microseconds from seconds, so hand-built runs read in seconds. */
export const s = (seconds: number): number => Math.round(seconds * 1e6);

/** A normal 200 answer sent at `at` seconds that took `tookS` to its first content. */
export function request(at: number, overrides: Partial<ObservedRequest> = {}): ObservedRequest {
  const intendedUs = s(at);
  return {
    flow: 'chat',
    status: 200,
    intendedUs,
    startUs: intendedUs,
    headersUs: intendedUs + s(0.05),
    endUs: intendedUs + s(0.2),
    firstContentUs: intendedUs + s(0.05),
    failure: undefined,
    fallback: false,
    abandoned: false,
    fault: undefined,
    phase: undefined,
    ...overrides,
  };
}

/** A fault window from `from` to `to` seconds. */
export function window(
  name: string,
  from: number,
  to: number,
  rules?: FaultRule[],
): ObservedWindow {
  return {
    name,
    rules: rules ?? [{ kind: 'hang', fraction: 1 }],
    requestedUs: s(from),
    startUs: s(from),
    endUs: s(to),
    applied: true,
    cleared: true,
  };
}

/** Tags each request with the phase of `windows` it was sent in, as the timeline does. */
export function phased(requests: ObservedRequest[], windows: ObservedWindow[]): ObservedRequest[] {
  return requests.map((r) => {
    let tag: Pick<ObservedRequest, 'fault' | 'phase'> = {
      fault: windows[0]?.name,
      phase: 'before',
    };
    for (const w of windows) {
      if (r.intendedUs < w.startUs) break;
      tag = { fault: w.name, phase: r.intendedUs < w.endUs ? 'during' : 'after' };
    }
    return { ...r, ...tag };
  });
}

/** Samples every 0.1 s from `from` to `to` seconds, with counts from the given functions. */
export function samples(
  from: number,
  to: number,
  calls: (atS: number) => number,
  aborted: (atS: number) => number = () => 0,
): CounterSample[] {
  const out: CounterSample[] = [];
  for (let tenth = Math.round(from * 10); tenth <= Math.round(to * 10); tenth++) {
    const at = tenth / 10;
    out.push({ atUs: s(at), calls: calls(at), abortedStreams: aborted(at) });
  }
  return out;
}

export function run(
  requests: ObservedRequest[],
  windows: ObservedWindow[] = [],
  counterSamples?: CounterSample[],
  endS = 20,
): ObservedRun {
  return {
    t0Us: 0,
    endUs: s(endS),
    requests: phased(requests, windows).sort((a, b) => a.intendedUs - b.intendedUs),
    windows,
    samples: counterSamples,
    sampleEveryMs: 100,
  };
}

/** `count` requests evenly spread over [from, to) seconds. */
export function spread(
  from: number,
  to: number,
  count: number,
  make: (at: number, i: number) => ObservedRequest = (at) => request(at),
): ObservedRequest[] {
  return Array.from({ length: count }, (_, i) => make(from + ((to - from) * i) / count, i));
}
