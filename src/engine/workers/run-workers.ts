import { Worker } from 'node:worker_threads';
import { LaunchproofError } from '../../errors.ts';
import { initHistograms, ValueHistogram } from '../../metrics/histogram.ts';
import { MetricStore } from '../../metrics/metric-store.ts';
import { percentiles, type SecondRow, TimeSeries } from '../../metrics/time-series.ts';
import type { ScenarioOverrides } from '../../scenario/overrides.ts';
import type { Scenario } from '../../scenario/schema.ts';
import { type Clock, monotonicClock } from '../clock.ts';
import { FailureTally } from '../flow-runtime.ts';
import { checkReachable } from '../reachability.ts';
import {
  parseRunThresholds,
  type RunOptions,
  type RunParts,
  type RunProgress,
  type RunResult,
  summarizeRun,
} from '../run-scenario.ts';
import type { FromWorker, ToWorker, WorkerInput, WorkerReport } from './worker-protocol.ts';

/** Time between the last worker being ready and t0: each builds its pools in it. */
const START_LEAD_MS = 500;

export interface WorkerRunOptions extends RunOptions {
  /** The scenario file: each worker loads it itself. */
  file: string;
  cwd: string;
  overrides: ScenarioOverrides;
  workers: number;
  /** Why the worker count was lowered, when it was (goes into the summary's notes). */
  note?: string;
}

/**
 * Runs a scenario on several worker threads of this process and merges their parts into one
 * summary of the same shape as a single-threaded run.
 * 1. Start N workers; each loads the scenario and reports ready.
 * 2. Fix one t0 on the process's monotonic clock (shared by its threads) and start them all:
 *    each sends only the requests of the identities it owns, at the same planned instants.
 * 3. Merge: histograms encoded and added (never averaged), counters, checks and failures
 *    summed, per-second rows summed with their percentiles taken from merged histograms.
 * 4. Evaluate thresholds on the merged store and summarise.
 */
export async function runWithWorkers(
  scenario: Scenario,
  options: WorkerRunOptions,
): Promise<RunResult> {
  const clock: Clock = options.clock ?? monotonicClock;
  const emit = options.onEvent ?? (() => undefined);
  const thresholds = parseRunThresholds(scenario, options.extraThresholds);
  await checkReachable(options.target);
  await initHistograms();

  const startedAt = new Date();
  const workers = Array.from({ length: options.workers }, (_, worker) => {
    const input: WorkerInput = {
      file: options.file,
      cwd: options.cwd,
      overrides: options.overrides,
      target: options.target,
      worker,
      workers: options.workers,
      extraThresholds: options.extraThresholds,
      httpClient: options.httpClient,
    };
    return new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: input });
  });
  const send = (message: ToWorker) => {
    for (const worker of workers) worker.postMessage(message);
  };
  const onSignal = () => send({ type: 'stop' });
  options.signal?.addEventListener('abort', onSignal, { once: true });

  const progress = new Map<number, RunProgress>();
  let stopping = false;
  try {
    let ready = 0;
    const reports = await Promise.all(
      workers.map(
        (worker, index) =>
          new Promise<WorkerReport>((resolve, reject) => {
            worker.on('message', (message: FromWorker) => {
              switch (message.type) {
                case 'ready':
                  ready++;
                  if (ready === workers.length) {
                    const t0Us = clock.nowUs() + START_LEAD_MS * 1_000;
                    emit({
                      type: 'started',
                      plannedMs: 0,
                      flows: scenario.flows.length,
                      plannedRequests: 0,
                    });
                    send({ type: 'start', t0Us });
                  }
                  return;
                case 'progress':
                  progress.set(index, message.progress);
                  emit({ type: 'progress', progress: combineProgress([...progress.values()]) });
                  return;
                case 'stopping':
                  if (message.reason !== 'finished' && !stopping) {
                    stopping = true;
                    emit(message);
                    send({ type: 'stop' });
                  }
                  return;
                case 'done':
                  resolve(message.report);
                  return;
                case 'failed':
                  reject(
                    new LaunchproofError(
                      'LP_ERR_ENGINE',
                      `worker ${index + 1} of ${workers.length} failed: ${message.message}`,
                    ),
                  );
                  return;
              }
            });
            worker.on('error', (error) =>
              reject(
                new LaunchproofError(
                  'LP_ERR_ENGINE',
                  `worker ${index + 1} crashed: ${error.message}`,
                ),
              ),
            );
          }),
      ),
    );

    const parts = mergeReports(scenario, reports, startedAt);
    try {
      return summarizeRun(
        parts,
        thresholds,
        options,
        reports.map((report) => report.generator),
        (message) => emit({ type: 'warning', message }),
        options.note === undefined ? [] : [options.note],
      );
    } finally {
      parts.dispose();
    }
  } finally {
    options.signal?.removeEventListener('abort', onSignal);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Merges the workers' parts into the parts of one run. */
export function mergeReports(
  scenario: Scenario,
  reports: readonly WorkerReport[],
  startedAt: Date,
): RunParts {
  const durationMs = Math.max(...reports.map((report) => report.durationMs));
  const store = new MetricStore(() => durationMs);
  for (const report of reports) store.merge(report.snapshot);

  const failures = new FailureTally();
  for (const report of reports) {
    for (const f of report.failures) failures.merge(f.kind, f.count, f.message, f.flows);
  }

  const series = new TimeSeries(scenario.flows.map((flow) => flow.name));
  series.rows.push(...mergeRows(reports));
  series.intervals.push(...mergeIntervals(reports));

  const flows = scenario.flows.map((flow) => {
    const mine = reports.map((report) => report.flows.find((f) => f.name === flow.name));
    const checks = new Map<string, { passes: number; fails: number }>();
    for (const entry of mine) {
      for (const check of entry?.checks ?? []) {
        const tally = checks.get(check.name) ?? { passes: 0, fails: 0 };
        tally.passes += check.passes;
        tally.fails += check.fails;
        checks.set(check.name, tally);
      }
    }
    const open = flow.load.executor.endsWith('arrival-rate') || flow.load.executor === 'burst';
    return {
      flow,
      model: open ? ('open' as const) : ('closed' as const),
      sent: mine.reduce((sum, entry) => sum + (entry?.sent ?? 0), 0),
      checks: [...checks].map(([name, tally]) => ({ name, ...tally })),
      notes: [...new Set(mine.flatMap((entry) => entry?.notes ?? []))],
    };
  });

  const stopped = reports.find((report) => report.stopReason !== 'finished');
  return {
    scenario,
    startedAt,
    durationMs,
    plannedMs: Math.max(...reports.map((report) => report.plannedMs)),
    complete: reports.every((report) => report.complete),
    stopReason: stopped?.stopReason ?? 'finished',
    store,
    series,
    failures,
    flows,
    generator: reports[0]?.generator as WorkerReport['generator'],
    outputs: [],
    dispose() {
      series.destroy();
      store.destroy();
    },
  };
}

/** Sums the workers' rows second by second; percentiles come from merged histograms. */
function mergeRows(reports: readonly WorkerReport[]): SecondRow[] {
  const seconds = Math.max(0, ...reports.map((report) => report.rows.length));
  const rows: SecondRow[] = [];
  for (let t = 0; t < seconds; t++) {
    const mine = reports.map((report) => report.rows[t]).filter((row) => row !== undefined);
    const row: SecondRow = {
      t,
      flows: {},
      planned: sum(mine, (r) => r.planned),
      sent: sum(mine, (r) => r.sent),
      dropped: sum(mine, (r) => r.dropped),
      inFlight: sum(mine, (r) => r.inFlight),
      sendLagP99Ms: Math.max(0, ...mine.map((r) => r.sendLagP99Ms)),
      sendLagMaxMs: Math.max(0, ...mine.map((r) => r.sendLagMaxMs)),
      loopDelayP99Ms: Math.max(0, ...mine.map((r) => r.loopDelayP99Ms)),
      cpuPercent: Math.max(0, ...mine.map((r) => r.cpuPercent)),
    };
    const flowNames = new Set(mine.flatMap((r) => Object.keys(r.flows)));
    for (const flow of flowNames) {
      const parts = mine.map((r) => r.flows[flow]).filter((f) => f !== undefined);
      const requests: Record<string, number> = {};
      for (const part of parts) {
        for (const [key, count] of Object.entries(part.requests)) {
          requests[key] = (requests[key] ?? 0) + count;
        }
      }
      const histograms = reports.flatMap((report) =>
        report.flowSeconds.filter((s) => s.t === t && s.flow === flow),
      );
      row.flows[flow] = {
        requests,
        ratelimited: sum(parts, (p) => p.ratelimited),
        fallback: sum(parts, (p) => p.fallback),
        failures: sum(parts, (p) => p.failures),
        latency: mergedPercentiles(histograms.map((h) => h.latency)),
        duration: mergedPercentiles(histograms.map((h) => h.duration)),
        ttft: mergedPercentiles(histograms.map((h) => h.ttft)),
      };
    }
    rows.push(row);
  }
  return rows;
}

function mergeIntervals(reports: readonly WorkerReport[]) {
  const groups = new Map<
    string,
    { startMs: number; durationMs: number; tag: string; encoded: string[] }
  >();
  for (const report of reports) {
    for (const interval of report.intervals) {
      const key = `${interval.startMs}|${interval.tag}`;
      const group = groups.get(key) ?? { ...interval, encoded: [] };
      group.encoded.push(interval.encoded);
      groups.set(key, group);
    }
  }
  return [...groups.values()]
    .sort((a, b) => a.startMs - b.startMs || a.tag.localeCompare(b.tag))
    .map((group) => ({
      startMs: group.startMs,
      durationMs: group.durationMs,
      tag: group.tag,
      encoded: mergeEncoded(group.encoded),
    }));
}

function mergedPercentiles(encoded: ReadonlyArray<string | undefined>) {
  const present = encoded.filter((e): e is string => e !== undefined);
  if (present.length === 0) return null;
  const merged = new ValueHistogram();
  for (const text of present) {
    const decoded = ValueHistogram.decode(text);
    merged.add(decoded);
    decoded.destroy();
  }
  const out = percentiles(merged);
  merged.destroy();
  return out;
}

function mergeEncoded(encoded: readonly string[]): string {
  if (encoded.length === 1) return encoded[0] as string;
  const merged = new ValueHistogram();
  for (const text of encoded) {
    const decoded = ValueHistogram.decode(text);
    merged.add(decoded);
    decoded.destroy();
  }
  const out = merged.encode();
  merged.destroy();
  return out;
}

function combineProgress(parts: readonly RunProgress[]): RunProgress {
  return {
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    plannedMs: Math.max(...parts.map((p) => p.plannedMs)),
    sent: sum(parts, (p) => p.sent),
    achievedRatePerSec: sum(parts, (p) => p.achievedRatePerSec),
    inFlight: sum(parts, (p) => p.inFlight),
    // The worst worker's recent p95: percentiles of different threads cannot be added.
    recentP95Ms: Math.max(0, ...parts.map((p) => p.recentP95Ms ?? 0)) || undefined,
    errors: sum(parts, (p) => p.errors),
    dropped: sum(parts, (p) => p.dropped),
  };
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += pick(item);
  return total;
}
