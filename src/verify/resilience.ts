import type { ResponseRecord } from '../engine/flow-runtime.ts';
import type { ExtensionOutput, RunExtension, RunStart } from '../engine/run-extension.ts';
import { LaunchproofError } from '../errors.ts';
import type { Verification } from '../report/summary-schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import { checkAbandonedStreams } from './abandoned-streams.ts';
import { checkBrokenStreamsEnd } from './broken-streams.ts';
import { checkCircuitOpens } from './circuit-opens.ts';
import { checkFallbackEngages } from './fallback-engages.ts';
import { checkFallbackFast } from './fallback-fast.ts';
import { FaultTimeline } from './fault-timeline.ts';
import type { FaultWindowSpec } from './fault-timeline-schema.ts';
import type { VerifyEnvironment } from './index.ts';
import type {
  ObservedRequest,
  ObservedRun,
  ObservedWindow,
  TimelinePhase,
} from './observed-run.ts';
import { ProviderSampler } from './provider-sampler.ts';
import { checkRecovery } from './recovery.ts';
import {
  abandoningFlows,
  breaksMidStream,
  coveredFlows,
  declarationProblems,
  windowsFollowedBy,
} from './resilience-declarations.ts';
import type { ResilienceSpec } from './resilience-schema.ts';
import { checkNoRetryStorm } from './retry-storm.ts';
import { checkNoServerErrors } from './server-errors.ts';

const NO_PROVIDER_HINT =
  'run against the embedded demo (leave out --target), or start `launchproof provider` ' +
  '(with --upstream URL for a real model), point the target at it and pass --provider URL';

/** A timer may fire this much before its due time; an abandonment is never shorter. */
const TIMER_SLACK_US = 2_000;

/**
 * Turns a scenario's `faults` timeline and `resilience` declarations into run extensions:
 * the verifier (which reads every response and the provider's counters), then the timeline
 * (which applies the faults and tags phases). Declarations that do not fit the scenario are
 * reported when the run starts, before any load, as LP_ERR_SCENARIO_INVALID.
 */
export function resilienceExtensions(scenario: Scenario, env: VerifyEnvironment): RunExtension[] {
  const windows = scenario.faults ?? [];
  const spec = scenario.resilience;
  if (windows.length === 0 && spec === undefined) return [];

  const timeline =
    windows.length > 0 && env.provider !== undefined
      ? new FaultTimeline(windows, env.provider)
      : undefined;
  const verifier = new ResilienceVerifier(scenario, windows, spec ?? {}, env, timeline);
  return timeline === undefined ? [verifier] : [verifier, timeline];
}

/** Reads every response of the run, samples the provider, and runs the declared checks. */
class ResilienceVerifier implements RunExtension {
  readonly name = 'resilience';
  readonly #scenario: Scenario;
  readonly #spec: ResilienceSpec;
  readonly #timeline: FaultTimeline | undefined;
  readonly #windows: readonly FaultWindowSpec[];
  readonly #problems: string[];
  readonly #needsProvider: boolean;
  readonly #env: VerifyEnvironment;
  readonly #abandonAfterUs = new Map<string, number>();
  readonly #requests: ObservedRequest[] = [];
  #sampler: ProviderSampler | undefined;
  #nowUs: () => number = () => 0;
  #t0Us = 0;

  constructor(
    scenario: Scenario,
    windows: readonly FaultWindowSpec[],
    spec: ResilienceSpec,
    env: VerifyEnvironment,
    timeline: FaultTimeline | undefined,
  ) {
    this.#scenario = scenario;
    this.#spec = spec;
    this.#env = env;
    this.#timeline = timeline;
    this.#windows = windows;
    this.#needsProvider =
      windows.length > 0 ||
      spec.noRetryStorm !== undefined ||
      spec.circuitOpens !== undefined ||
      spec.abandonedStreamsStop !== undefined;
    this.#problems = declarationProblems(scenario, windows, spec);
    for (const flow of scenario.flows) {
      const leaveMs = flow.stream?.abandonAfter;
      if (leaveMs !== undefined) this.#abandonAfterUs.set(flow.name, leaveMs * 1_000);
    }
  }

  async start(run: RunStart): Promise<void> {
    const [first, ...rest] = this.#problems;
    if (first !== undefined) {
      throw new LaunchproofError('LP_ERR_SCENARIO_INVALID', `resilience checks: ${first}`, {
        details: rest,
      });
    }
    const provider = this.#env.provider;
    if (this.#needsProvider && provider === undefined) {
      throw new LaunchproofError(
        'LP_ERR_USAGE',
        'the scenario declares provider faults or checks that read the provider, but no mock ' +
          'provider is in the path',
        { hint: NO_PROVIDER_HINT },
      );
    }

    this.#nowUs = run.nowUs;
    this.#t0Us = run.t0Us;
    if (this.#needsProvider && provider !== undefined) {
      this.#sampler = new ProviderSampler(provider, run.nowUs);
      await this.#sampler.start();
    }
  }

  observe(record: ResponseRecord): void {
    const tags = record.phase.tags;
    const phase = tags.phase;
    this.#requests.push({
      flow: record.flow,
      status: record.status,
      intendedUs: record.intendedUs,
      startUs: record.startUs,
      headersUs: record.headersUs,
      endUs: record.endUs,
      firstContentUs: record.firstContentUs,
      failure: record.failure,
      fallback: record.fallback,
      abandoned: this.#abandoned(record),
      fault: typeof tags.fault === 'string' ? tags.fault : undefined,
      phase:
        phase === 'before' || phase === 'during' || phase === 'after'
          ? (phase as TimelinePhase)
          : undefined,
    });
  }

  async finish(): Promise<ExtensionOutput> {
    await this.#sampler?.stop();
    const endUs = this.#nowUs();
    const run: ObservedRun = {
      t0Us: this.#timeline?.t0Us ?? this.#t0Us,
      endUs,
      requests: [...this.#requests].sort((a, b) => a.intendedUs - b.intendedUs),
      windows: this.#timeline?.windows(endUs) ?? [],
      samples: this.#sampler?.samples,
      sampleEveryMs: this.#sampler?.everyMs ?? 0,
    };
    const verifications = this.#check(run);
    const notes: string[] = [];
    const failures = this.#sampler?.failures;
    if (failures !== undefined && failures.count > 0) {
      notes.push(
        `${failures.count} reads of the provider's counters failed (${failures.lastError}); ` +
          'the checks that read them had fewer samples',
      );
    }
    return { verifications, notes };
  }

  dispose(): void {
    this.#sampler?.dispose();
  }

  #check(run: ObservedRun): Verification[] {
    const spec = this.#spec;
    const flows = coveredFlows(this.#scenario, spec);
    const names = new Set(flows.map((flow) => flow.name));
    const marked = new Set(flows.filter((f) => f.fallbackMarker !== undefined).map((f) => f.name));
    const pick = (selected: readonly string[] | undefined, fits = (_: ObservedWindow) => true) =>
      run.windows.filter((w) => (selected === undefined ? fits(w) : selected.includes(w.name)));
    const out: Verification[] = [];

    if (spec.fallbackEngages) {
      const { faults, minShare } = spec.fallbackEngages;
      out.push(...checkFallbackEngages(run, pick(faults), marked, minShare));
    }
    if (spec.fallbackFast) {
      const { faults, deadline, percentile } = spec.fallbackFast;
      out.push(...checkFallbackFast(run, pick(faults), marked, deadline, percentile));
    }
    if (spec.noServerErrors) {
      out.push(...checkNoServerErrors(run, pick(spec.noServerErrors.faults), names));
    }
    if (spec.recovery) {
      const { faults, within, minNormalShare } = spec.recovery;
      const quietAfter = new Set(windowsFollowedBy(this.#windows, within).map((w) => w.name));
      const windows = pick(faults, (w) => quietAfter.has(w.name));
      out.push(...checkRecovery(run, windows, run.windows, names, within, minNormalShare));
    }
    if (spec.noRetryStorm) {
      const { maxCallsPerRequest, window, minRequests } = spec.noRetryStorm;
      out.push(
        checkNoRetryStorm(run, names, { maxCallsPerRequest, windowMs: window, minRequests }),
      );
    }
    if (spec.circuitOpens) {
      const { faults, within, maxCallsPerRequest, probeAfter, probeTolerance } = spec.circuitOpens;
      out.push(
        ...checkCircuitOpens(run, pick(faults), names, {
          withinMs: within,
          maxCallsPerRequest,
          probeAfterMs: probeAfter,
          probeToleranceMs: probeTolerance,
        }),
      );
    }
    if (spec.abandonedStreamsStop) {
      const { within, minShare, settle } = spec.abandonedStreamsStop;
      const leavers = abandoningFlows(this.#scenario, spec);
      const abandonAfterMs = new Map(leavers.map((f) => [f.name, f.stream?.abandonAfter ?? 0]));
      out.push(
        checkAbandonedStreams(run, new Set(abandonAfterMs.keys()), {
          withinMs: within,
          minShare,
          settleMs: settle,
          abandonAfterMs,
        }),
      );
    }
    if (spec.brokenStreamsEnd) {
      const idle = new Map(
        flows.flatMap((f) =>
          f.stream === undefined ? [] : [[f.name, f.stream.idleTimeout] as const],
        ),
      );
      const windows = pick(spec.brokenStreamsEnd.faults, breaksMidStream);
      out.push(...checkBrokenStreamsEnd(run, windows, idle));
    }
    return out;
  }

  /**
   * Whether the client left this response on purpose: its flow leaves `abandonAfter` after
   * the headers, and the response ended no sooner than that with nothing else wrong.
   */
  #abandoned(record: ResponseRecord): boolean {
    if (record.failure?.kind === 'abandoned') return true;
    const leaveUs = this.#abandonAfterUs.get(record.flow);
    if (leaveUs === undefined || record.failure !== undefined || record.headersUs === 0)
      return false;
    return record.endUs - record.headersUs >= leaveUs - TIMER_SLACK_US;
  }
}
