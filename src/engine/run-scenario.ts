import { initHistograms } from '../metrics/histogram.ts';
import { METRIC_CATALOG } from '../metrics/metric-catalog.ts';
import { MetricStore } from '../metrics/metric-store.ts';
import { type IntervalHistogram, TimeSeries } from '../metrics/time-series.ts';
import type { Summary, Verification } from '../report/summary-schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import {
  evaluateThresholds,
  shouldAbort,
  type ThresholdResult,
  validateThresholdMetrics,
} from '../thresholds/evaluate.ts';
import { type ParsedThreshold, parseThresholds } from '../thresholds/parse.ts';
import { collectGarbage } from '../util/collect-garbage.ts';
import { deriveSeed } from '../util/random.ts';
import { createArrivalSchedule, isOpenLoad } from './arrival-schedule.ts';
import { type Clock, monotonicClock } from './clock.ts';
import {
  FailureTally,
  FlowRuntime,
  type HttpClientChoice,
  type Phase,
  preconnectCount,
} from './flow-runtime.ts';
import { GeneratorMonitor, type GeneratorPart, generatorHealth } from './generator-monitor.ts';
import { setupIdentities } from './identity-pool.ts';
import { closedDurationMs, type LoopContext, runClosedLoop, runOpenLoop } from './load-loops.ts';
import { checkReachable } from './reachability.ts';
import type { ExtensionOutput, RunExtension } from './run-extension.ts';
import { RunStop } from './run-stop.ts';
import { SpinBudget } from './spin-budget.ts';
import { buildSummary, type FlowOutcome } from './summarize.ts';

export interface RunOptions {
  /** The target's origin, e.g. `http://127.0.0.1:3000`. */
  target: string;
  scenarioFile?: string;
  clock?: Clock;
  /** Aborting stops sending, waits briefly for in-flight requests, and ends incomplete. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Thresholds added to the scenario's own (from `--thresholds`). */
  extraThresholds?: Record<string, unknown>;
  extensions?: readonly RunExtension[];
  /** How long an interrupted run waits for in-flight requests before aborting them. */
  interruptGraceMs?: number;
  toolVersion?: string;
  /** This process's share of a run split across worker threads (see src/engine/workers). */
  share?: { worker: number; workers: number };
  /**
   * t = 0 on the monotonic clock, when a coordinator fixes it for several workers at once
   * (the clock is per process, so every thread of the process reads the same one).
   */
  t0Us?: number;
  /** Notes for the summary from whoever set the run up (e.g. why it used fewer workers). */
  notes?: readonly string[];
  /** Skip the reachability check (a coordinator did it once for every worker). */
  skipReachabilityCheck?: boolean;
  /**
   * Which HTTP client sends (default `auto`: the fast client for a plain-HTTP target, undici
   * for HTTPS; `undici`: undici always). Both report the same metrics.
   */
  httpClient?: HttpClientChoice;
}

/** A finished run before it is summarised: live store and series, owned by the caller. */
export interface RunParts {
  scenario: Scenario;
  startedAt: Date;
  durationMs: number;
  plannedMs: number;
  complete: boolean;
  stopReason: 'finished' | 'signal' | 'threshold-abort';
  store: MetricStore;
  series: TimeSeries;
  failures: FailureTally;
  flows: FlowOutcome[];
  generator: GeneratorPart;
  outputs: ExtensionOutput[];
  /** Releases the store's and series' WebAssembly memory. */
  dispose(): void;
}

export interface RunProgress {
  elapsedMs: number;
  plannedMs: number;
  sent: number;
  achievedRatePerSec: number;
  inFlight: number;
  recentP95Ms: number | undefined;
  errors: number;
  dropped: number;
}

export type RunEvent =
  | { type: 'started'; plannedMs: number; flows: number; plannedRequests: number }
  | { type: 'progress'; progress: RunProgress }
  | { type: 'stopping'; reason: 'signal' | 'threshold-abort' | 'finished'; detail?: string }
  | { type: 'warning'; message: string };

export interface RunResult {
  summary: Summary;
  /** Per-second encoded histograms for the HdrHistogram interval log. */
  intervals: IntervalHistogram[];
}

/** Lead time between setting up and t = 0, so every flow starts on the same instant. */
const START_LEAD_MS = 20;

/** Longest the run waits for connections opened ahead before it starts anyway. */
const PRECONNECT_MAX_MS = 2_000;

/**
 * Runs a validated scenario against a target and returns its summary.
 * 1. Check the target is reachable (LP_ERR_TARGET_UNREACHABLE otherwise) and parse every
 *    threshold before any load is sent.
 * 2. Build each flow's runtime (pools per identity) and start every load loop on one t0.
 * 3. Each second: close the series' second, emit progress, evaluate abortOnFail thresholds.
 * 4. When the schedules end, give in-flight requests each flow's gracefulStop, then abort
 *    them; on a signal, stop sending at once and wait `interruptGraceMs`.
 * 5. Let extensions add verifications, evaluate thresholds, and summarise.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const thresholds = parseAllThresholds(scenario, options.extraThresholds);
  const parts = await executeRun(scenario, options);
  try {
    return summarizeRun(
      parts,
      thresholds,
      options,
      [parts.generator],
      (message) => options.onEvent?.({ type: 'warning', message }),
      options.notes ?? [],
    );
  } finally {
    parts.dispose();
  }
}

/**
 * Evaluates thresholds on a finished run's store and builds its summary. `generators` holds
 * one part per process that sent load (one, or one per worker).
 */
export function summarizeRun(
  parts: RunParts,
  thresholds: readonly ParsedThreshold[],
  options: Pick<RunOptions, 'scenarioFile' | 'target' | 'toolVersion'>,
  generators: readonly GeneratorPart[],
  warn: (message: string) => void,
  notes: readonly string[] = [],
): RunResult {
  const { scenario, store, series, outputs } = parts;
  const thresholdResults = evaluateThresholds([...thresholds], store, parts.durationMs);
  const planned = series.rows.reduce((sum, row) => sum + row.planned, 0);
  const sent = parts.flows.reduce((sum, flow) => sum + flow.sent, 0);
  const generator = generatorHealth(
    generators,
    planned,
    sent,
    store.counter('dropped_iterations', {})?.count ?? 0,
    parts.durationMs,
  );
  for (const reason of generator.reasons) warn(reason);

  for (const output of outputs) {
    for (const figures of output.series ?? []) {
      const row = series.rows[figures.t];
      if (row === undefined) continue;
      if (figures.providerCalls !== undefined) row.providerCalls = figures.providerCalls;
      if (figures.providerCostUsd !== undefined) row.providerCostUsd = figures.providerCostUsd;
    }
  }

  const summary = buildSummary({
    scenario,
    scenarioFile: options.scenarioFile,
    target: options.target,
    startedAt: parts.startedAt,
    durationMs: parts.durationMs,
    plannedMs: parts.plannedMs,
    complete: parts.complete,
    stopReason: parts.stopReason,
    flows: parts.flows,
    store,
    series,
    failures: parts.failures,
    thresholdResults,
    verifications: outputs.flatMap((output) => output.verifications ?? []) as Verification[],
    notes: [...notes, ...outputs.flatMap((output) => output.notes ?? [])],
    faultWindows: outputs.flatMap((output) => output.faultWindows ?? []),
    generator,
    workers: generators.length,
    toolVersion: options.toolVersion ?? '0.0.0',
  });
  return { summary, intervals: series.intervals };
}

/** Parses the scenario's thresholds and `--thresholds`' together, checking metric kinds. */
export function parseRunThresholds(
  scenario: Scenario,
  extra: Record<string, unknown> | undefined,
): ParsedThreshold[] {
  return parseAllThresholds(scenario, extra);
}

/**
 * Sends a scenario's load (or this worker's share of it) and returns the raw parts; see
 * `runScenario` for the steps. The caller owns the parts and must `dispose()` them.
 */
export async function executeRun(scenario: Scenario, options: RunOptions): Promise<RunParts> {
  const clock = options.clock ?? monotonicClock;
  const emit = options.onEvent ?? (() => undefined);
  const extensions = options.extensions ?? [];
  const thresholds = parseAllThresholds(scenario, options.extraThresholds);
  // Until the parts are handed over, a failure must release what was built.
  let releaseOnExit = true;

  if (options.skipReachabilityCheck !== true) await checkReachable(options.target);
  await initHistograms();

  const startedAt = new Date();
  let t0Us = clock.nowUs() + START_LEAD_MS * 1_000;
  const elapsedMs = () => Math.max(0, (clock.nowUs() - t0Us) / 1_000);
  const store = new MetricStore(elapsedMs);
  const series = new TimeSeries(
    scenario.flows.map((flow) => flow.name),
    { keepFlowHistograms: options.share !== undefined },
  );
  const monitor = new GeneratorMonitor();
  const failures = new FailureTally();

  const runStop = new RunStop(emit, options.signal);

  const phaseOf = (): Phase => {
    const at = elapsedMs();
    for (const extension of extensions) {
      const phase = extension.phase?.(at);
      if (phase !== undefined) return phase;
    }
    return NO_PHASE;
  };
  const observers = extensions.filter((extension) => extension.observe !== undefined);
  const runtimes = scenario.flows.map(
    (flow) =>
      new FlowRuntime(flow, {
        origin: options.target,
        seed: scenario.seed,
        clock,
        store,
        series,
        monitor,
        get t0Us() {
          return t0Us;
        },
        phase: phaseOf,
        failures,
        httpClient: options.httpClient ?? 'auto',
        share:
          options.share === undefined
            ? undefined
            : { ...options.share, flowIndex: scenario.flows.indexOf(flow) },
        observe:
          observers.length === 0
            ? undefined
            : (record) => {
                for (const extension of observers) extension.observe?.(record);
              },
      }),
  );

  const schedules = runtimes.map((runtime) =>
    isOpenLoad(runtime.flow.load)
      ? createArrivalSchedule(runtime.flow.load, deriveSeed(scenario.seed, runtime.flow.name))
      : undefined,
  );
  const plannedMs = Math.max(
    ...runtimes.map((runtime, i) => {
      const load = runtime.flow.load;
      const schedule = schedules[i];
      if (schedule !== undefined) return schedule.endUs / 1_000;
      if (load.executor === 'constant-vus' || load.executor === 'ramping-vus') {
        return load.startTime + closedDurationMs(load);
      }
      return 0;
    }),
  );
  const plannedRequests = schedules.reduce((sum, s) => sum + (s?.plannedCount ?? 0), 0);

  try {
    // Identities' session setup requests go first, so their sessions exist at t = 0.
    for (const runtime of runtimes) {
      const problems = await setupIdentities(runtime.flow, runtime.clients, runStop.signal);
      for (const problem of problems) emit({ type: 'warning', message: problem });
    }
    await preconnect(runtimes, options.t0Us, clock);
    // Start-up garbage is collected now, not by pauses in the first seconds of load.
    collectGarbage();
    t0Us = clock.nowUs() + START_LEAD_MS * 1_000;
    for (const extension of extensions) {
      await extension.start?.({
        scenario,
        target: options.target,
        // Read when needed: t0 is fixed again once every extension has started.
        get t0Us() {
          return t0Us;
        },
        nowUs: () => clock.nowUs(),
        signal: runStop.signal,
      });
    }
    t0Us = options.t0Us ?? clock.nowUs() + START_LEAD_MS * 1_000;
    monitor.start();
    emit({ type: 'started', plannedMs, flows: runtimes.length, plannedRequests });

    const loopCtx: LoopContext = {
      clock,
      t0Us,
      store,
      series,
      monitor,
      stopping: () => runStop.stopping,
      stopped: runStop.stopped,
      spin: new SpinBudget(clock.nowUs()),
    };
    const ticker = setInterval(() => {
      const elapsed = elapsedMs();
      const inFlight = runtimes.reduce((sum, runtime) => sum + runtime.inFlight, 0);
      series.rollTo(Math.floor(elapsed / 1_000), monitor.second(inFlight));
      const sent = runtimes.reduce((sum, runtime) => sum + runtime.sent, 0);
      emit({
        type: 'progress',
        progress: {
          elapsedMs: elapsed,
          plannedMs,
          sent,
          achievedRatePerSec: elapsed > 0 ? sent / (elapsed / 1_000) : 0,
          inFlight,
          recentP95Ms: series.recentLatencyP95Ms(),
          errors: failures.total,
          dropped: store.counter('dropped_iterations', {})?.count ?? 0,
        },
      });
      const aborting = abortingThreshold(thresholds, store, elapsed);
      if (aborting !== undefined) {
        runStop.stop('threshold-abort', `${aborting.metric} ${aborting.expression} failed`);
      }
    }, 1_000);

    try {
      await Promise.all(
        runtimes.map(async (runtime, i) => {
          const schedule = schedules[i];
          const load = runtime.flow.load;
          if (schedule !== undefined) await runOpenLoop(runtime, schedule, loopCtx);
          else if (load.executor === 'constant-vus' || load.executor === 'ramping-vus') {
            await runClosedLoop(
              runtime,
              load,
              deriveSeed(scenario.seed, runtime.flow.name),
              loopCtx,
            );
          }
          const graceMs = runStop.stopping
            ? (options.interruptGraceMs ?? 2_000)
            : load.gracefulStop;
          await drain(runtime, graceMs, runStop.stopping ? undefined : runStop.stopped);
          if (runStop.stopping) await drain(runtime, options.interruptGraceMs ?? 2_000);
          runtime.abortAll();
        }),
      );
    } finally {
      clearInterval(ticker);
    }

    const durationMs = elapsedMs();
    const inFlight = runtimes.reduce((sum, runtime) => sum + runtime.inFlight, 0);
    series.rollTo(Math.ceil(durationMs / 1_000), monitor.second(inFlight));
    const complete = runStop.reason === 'finished';

    const outputs: ExtensionOutput[] = [];
    for (const extension of extensions) {
      try {
        const output = await extension.finish?.({ scenario, store, series, durationMs, complete });
        if (output !== undefined) outputs.push(output);
      } catch (error) {
        outputs.push({
          verifications: [
            {
              name: extension.name,
              ok: false,
              evidence: [
                `the check itself failed: ${error instanceof Error ? error.message : error}`,
              ],
            },
          ],
        });
      }
    }

    const flows: FlowOutcome[] = runtimes.map((runtime, i) => ({
      flow: runtime.flow,
      model: schedules[i] === undefined ? 'closed' : 'open',
      sent: runtime.sent,
      checks: [...runtime.checks].map(([name, tally]) => ({ name, ...tally })),
      notes: runtime.notes,
    }));
    releaseOnExit = false;
    return {
      scenario,
      startedAt,
      durationMs,
      plannedMs,
      complete,
      stopReason: runStop.reason,
      store,
      series,
      failures,
      flows,
      generator: monitor.part(),
      outputs,
      dispose() {
        series.destroy();
        store.destroy();
      },
    };
  } finally {
    runStop.close();
    monitor.destroy();
    await Promise.all(runtimes.map((runtime) => runtime.close()));
    for (const extension of extensions) await extension.dispose?.();
    if (releaseOnExit) {
      series.destroy();
      store.destroy();
    }
  }
}

const NO_PHASE: Phase = Object.freeze({ key: '', tags: Object.freeze({}) });

function parseAllThresholds(
  scenario: Scenario,
  extra: Record<string, unknown> | undefined,
): ParsedThreshold[] {
  const parsed = parseThresholds({ ...scenario.thresholds, ...(extra ?? {}) });
  const known = Object.keys(METRIC_CATALOG);
  validateThresholdMetrics(
    parsed,
    (name) =>
      (METRIC_CATALOG as Record<string, { kind: 'trend' | 'counter' | 'rate' | 'gauge' }>)[name]
        ?.kind,
    known,
  );
  return parsed;
}

function abortingThreshold(
  thresholds: ParsedThreshold[],
  store: MetricStore,
  elapsedMs: number,
): ThresholdResult | undefined {
  const watched = thresholds.filter((threshold) => threshold.abortOnFail);
  if (watched.length === 0) return undefined;
  return shouldAbort(evaluateThresholds(watched, store, elapsedMs), elapsedMs);
}

/** Waits until the flow has nothing in flight, `graceMs` passes, or `until` settles. */
/**
 * Opens each flow's connections before t = 0 (flows that start at once; a later flow's would
 * sit idle until the server closed them). Waits at most PRECONNECT_MAX_MS, or until shortly
 * before a coordinator's t0; connections still opening then go on opening during the run.
 */
async function preconnect(
  runtimes: readonly FlowRuntime[],
  fixedT0Us: number | undefined,
  clock: Clock,
): Promise<void> {
  const opening = runtimes
    .filter((runtime) => runtime.flow.load.startTime === 0)
    .map(async (runtime) => {
      const note = await runtime.preconnect(preconnectCount(runtime.flow));
      if (note !== undefined) runtime.notes.push(note);
    });
  if (opening.length === 0) return;
  const waitMs =
    fixedT0Us === undefined
      ? PRECONNECT_MAX_MS
      : Math.min(PRECONNECT_MAX_MS, (fixedT0Us - clock.nowUs()) / 1_000 - 50);
  if (waitMs <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(opening),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    }),
  ]);
  clearTimeout(timer);
}

async function drain(runtime: FlowRuntime, graceMs: number, until?: Promise<void>): Promise<void> {
  if (runtime.inFlight === 0) return;
  const deadline = Date.now() + graceMs;
  let interrupted = false;
  until?.then(() => {
    interrupted = true;
  });
  while (runtime.inFlight > 0 && Date.now() < deadline && !interrupted) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
