import { createRequire } from 'node:module';
import { LaunchproofError } from '../errors.ts';
import { initHistograms } from '../metrics/histogram.ts';
import { MetricStore } from '../metrics/metric-store.ts';
import { TimeSeries } from '../metrics/time-series.ts';
import type { Scenario } from '../scenario/schema.ts';
import { evaluateThresholds, shouldAbort, type ThresholdResult } from '../thresholds/evaluate.ts';
import type { ParsedThreshold } from '../thresholds/parse.ts';
import { assertAutocannonCompatible } from './autocannon-compat.ts';
import { CannonFlow } from './autocannon-flow.ts';
import { autocannonNotes } from './autocannon-notes.ts';
import { type Clock, monotonicClock } from './clock.ts';
import { FailureTally } from './flow-runtime.ts';
import { GeneratorMonitor } from './generator-monitor.ts';
import { createIdentityClients, setupIdentities } from './identity-pool.ts';
import { checkReachable } from './reachability.ts';
import type { RunExtension } from './run-extension.ts';
import {
  parseRunThresholds,
  type RunEvent,
  type RunParts,
  type RunResult,
  summarizeRun,
} from './run-scenario.ts';
import { RunStop } from './run-stop.ts';

export interface AutocannonRunOptions {
  /** The target's origin, e.g. `http://127.0.0.1:3000`. */
  target: string;
  scenarioFile?: string;
  /** Aborting stops sending, waits `interruptGraceMs` for answers in flight, ends incomplete. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Thresholds added to the scenario's own (from `--thresholds`). */
  extraThresholds?: Record<string, unknown>;
  /** Must be empty: extensions need the undici engine (refused with LP_ERR_USAGE). */
  extensions?: readonly RunExtension[];
  interruptGraceMs?: number;
  toolVersion?: string;
  clock?: Clock;
}

/** Lead time between setting up and t = 0, so every flow starts on the same instant. */
const START_LEAD_MS = 20;

/** autocannon's own stop fires this long after ours would have, as a backstop only. */
const BACKSTOP_MARGIN_MS = 1_000;

const AUTOCANNON_VERSION = readAutocannonVersion();

/**
 * Runs a scenario's closed-model flows through autocannon and maps what it measured into
 * the same summary, metrics and thresholds as `runScenario`.
 * 1. Refuse what autocannon cannot run (LP_ERR_USAGE, naming the flow and the reason),
 *    parse every threshold and check the target is reachable, before any load.
 * 2. Set up each flow's identities (session setup requests included) as the undici engine
 *    does, then start one autocannon instance per flow at t0 + its startTime, all at once.
 * 3. Each second: close the series' second, emit progress, evaluate abortOnFail thresholds.
 * 4. At a flow's duration, stop sending and let each connection's answer in flight come
 *    (up to gracefulStop); on a signal or an abort, stop at once and wait `interruptGraceMs`;
 *    then close what is left and count it as cut off.
 * 5. Evaluate thresholds and summarise, with notes on which figures came from autocannon.
 */
export async function runWithAutocannon(
  scenario: Scenario,
  options: AutocannonRunOptions,
): Promise<RunResult> {
  assertAutocannonCompatible(scenario, options.extensions);
  const clock = options.clock ?? monotonicClock;
  const emit = options.onEvent ?? (() => undefined);
  const thresholds = parseRunThresholds(scenario, options.extraThresholds);
  const origin = originOf(options.target);

  await checkReachable(origin);
  await initHistograms();

  const startedAt = new Date();
  let t0Us = clock.nowUs() + START_LEAD_MS * 1_000;
  const elapsedMs = () => Math.max(0, (clock.nowUs() - t0Us) / 1_000);
  const store = new MetricStore(elapsedMs);
  const series = new TimeSeries(scenario.flows.map((flow) => flow.name));
  const monitor = new GeneratorMonitor();
  const failures = new FailureTally();

  const runStop = new RunStop(emit, options.signal);

  const flows: CannonFlow[] = [];
  try {
    for (const flow of scenario.flows) {
      const identities = await setUpIdentities(flow, origin, runStop.signal, emit);
      flows.push(
        new CannonFlow(flow, {
          origin,
          seed: scenario.seed,
          clock,
          store,
          series,
          failures,
          identities,
        }),
      );
    }
    const plannedMs = Math.max(...flows.map((runner) => flowWindowMs(runner).endMs));

    t0Us = clock.nowUs() + START_LEAD_MS * 1_000;
    monitor.start();
    emit({ type: 'started', plannedMs, flows: flows.length, plannedRequests: 0 });

    const inFlight = () => flows.reduce((sum, runner) => sum + runner.inFlight, 0);
    const ticker = setInterval(() => {
      const elapsed = elapsedMs();
      series.rollTo(Math.floor(elapsed / 1_000), monitor.second(inFlight()));
      const sent = flows.reduce((sum, runner) => sum + runner.sent, 0);
      emit({
        type: 'progress',
        progress: {
          elapsedMs: elapsed,
          plannedMs,
          sent,
          achievedRatePerSec: elapsed > 0 ? sent / (elapsed / 1_000) : 0,
          inFlight: inFlight(),
          recentP95Ms: series.recentLatencyP95Ms(),
          errors: failures.total,
          dropped: 0,
        },
      });
      const aborting = abortingThreshold(thresholds, store, elapsed);
      if (aborting !== undefined) {
        runStop.stop('threshold-abort', `${aborting.metric} ${aborting.expression} failed`);
      }
    }, 1_000);

    try {
      const graceMs = options.interruptGraceMs ?? 2_000;
      await Promise.all(
        flows.map((runner) =>
          driveFlow(runner, {
            startInMs: (t0Us - clock.nowUs()) / 1_000,
            stopped: runStop.stopped,
            isStopping: () => runStop.stopping,
            interruptGraceMs: graceMs,
          }),
        ),
      );
    } finally {
      clearInterval(ticker);
    }

    const durationMs = elapsedMs();
    series.rollTo(Math.ceil(durationMs / 1_000), monitor.second(0));
    const parts: RunParts = {
      scenario,
      startedAt,
      durationMs,
      plannedMs,
      complete: runStop.reason === 'finished',
      stopReason: runStop.reason,
      store,
      series,
      failures,
      flows: flows.map((runner) => ({
        flow: runner.flow,
        model: 'closed' as const,
        sent: runner.sent,
        checks: [...runner.checks].map(([name, tally]) => ({ name, ...tally })),
      })),
      generator: monitor.part(),
      outputs: [],
      dispose: () => undefined,
    };
    // Closed model: each request is planned when its virtual user is ready, so planned = sent
    // (the series counts both per request), and there is no send lag to measure.
    return summarizeRun(
      parts,
      thresholds,
      {
        scenarioFile: options.scenarioFile,
        target: options.target,
        toolVersion: options.toolVersion,
      },
      [parts.generator],
      (message) => emit({ type: 'warning', message }),
      autocannonNotes({ version: AUTOCANNON_VERSION, target: origin, flows }),
    );
  } finally {
    runStop.close();
    // After a failure, no flow may start or keep sending, nor record into a released store.
    for (const runner of flows) runner.stopNow();
    await Promise.all(flows.map((runner) => runner.ended));
    for (const runner of flows) runner.finish();
    monitor.destroy();
    series.destroy();
    store.destroy();
  }
}

interface DriveOptions {
  startInMs: number;
  stopped: Promise<void>;
  isStopping(): boolean;
  interruptGraceMs: number;
}

/** One flow from its start to its last connection closed. */
async function driveFlow(runner: CannonFlow, options: DriveOptions): Promise<void> {
  const { startMs, endMs, graceMs } = flowWindowMs(runner);
  await sleep(options.startInMs + startMs, options.stopped);
  if (options.isStopping()) return;

  runner.start(endMs - startMs + graceMs + BACKSTOP_MARGIN_MS);
  await Promise.race([runner.ended, sleep(endMs - startMs, options.stopped)]);
  runner.retire();
  if (!options.isStopping()) {
    await Promise.race([runner.ended, sleep(graceMs, options.stopped)]);
  }
  if (options.isStopping()) {
    runner.retire();
    await Promise.race([runner.ended, sleep(options.interruptGraceMs)]);
  }
  runner.stopNow();
  await runner.ended;
  if (runner.error !== undefined) {
    throw new LaunchproofError(
      'LP_ERR_ENGINE',
      `autocannon failed on flow "${runner.flow.name}": ${runner.error.message}`,
      { cause: runner.error },
    );
  }
  runner.finish();
}

/** A flow's start and end (ms from t0) and its gracefulStop. */
function flowWindowMs(runner: CannonFlow): { startMs: number; endMs: number; graceMs: number } {
  const load = runner.flow.load;
  if (load.executor !== 'constant-vus') return { startMs: 0, endMs: 0, graceMs: 0 };
  return {
    startMs: load.startTime,
    endMs: load.startTime + load.duration,
    graceMs: load.gracefulStop,
  };
}

/**
 * The flow's identities with their headers and sessions, built by the undici engine's own
 * code: the pools only carry the session setup requests and are closed before the load.
 */
async function setUpIdentities(
  flow: Scenario['flows'][number],
  origin: string,
  signal: AbortSignal,
  emit: (event: RunEvent) => void,
) {
  const clients = createIdentityClients(flow, origin, 1);
  try {
    const problems = await setupIdentities(flow, clients, signal);
    for (const problem of problems) emit({ type: 'warning', message: problem });
  } finally {
    await Promise.all(clients.map((client) => client.pool.destroy().catch(() => undefined)));
  }
  return clients.map((client) => client.identity);
}

function originOf(target: string): string {
  try {
    return new URL(target).origin;
  } catch {
    throw new LaunchproofError('LP_ERR_TARGET_INVALID', `target ${target} is not a URL`, {
      hint: 'give an origin such as http://127.0.0.1:3000',
    });
  }
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

/** Resolves after `ms`, or when `until` settles, whichever comes first. */
function sleep(ms: number, until?: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  return Promise.race(until === undefined ? [elapsed] : [elapsed, until]).finally(() =>
    clearTimeout(timer),
  );
}

function readAutocannonVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('autocannon/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
