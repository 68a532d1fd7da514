import { parentPort, workerData } from 'node:worker_threads';
import { isLaunchproofError } from '../../errors.ts';
import { initHistograms } from '../../metrics/histogram.ts';
import { loadScenario } from '../../scenario/load-scenario.ts';
import { applyOverrides } from '../../scenario/overrides.ts';
import { executeRun } from '../run-scenario.ts';
import type { FromWorker, ToWorker, WorkerInput, WorkerReport } from './worker-protocol.ts';

/**
 * One worker thread: loads the scenario itself (its functions cannot cross threads), waits
 * for the coordinator's t0, sends its share of the load, and posts its parts back.
 */
const port = parentPort;
if (port === null) throw new Error('worker-main runs only in a worker thread');
const input = workerData as WorkerInput;
const post = (message: FromWorker) => port.postMessage(message);

try {
  const loaded = await loadScenario(input.file, input.cwd);
  const scenario = applyOverrides(loaded.scenario, input.overrides);
  // Compile the histograms' WebAssembly before reporting ready, not after t0.
  await initHistograms();
  const stop = new AbortController();
  const t0Us = await new Promise<number>((resolve) => {
    port.on('message', (message: ToWorker) => {
      if (message.type === 'start') resolve(message.t0Us);
      else stop.abort();
    });
    post({ type: 'ready' });
  });

  const parts = await executeRun(scenario, {
    target: input.target,
    share: { worker: input.worker, workers: input.workers },
    t0Us,
    skipReachabilityCheck: true,
    signal: stop.signal,
    extraThresholds: input.extraThresholds,
    ...(input.httpClient === undefined ? {} : { httpClient: input.httpClient }),
    onEvent: (event) => {
      if (event.type === 'progress') post({ type: 'progress', progress: event.progress });
      if (event.type === 'stopping') post(event);
    },
  });
  try {
    const report: WorkerReport = {
      worker: input.worker,
      durationMs: parts.durationMs,
      plannedMs: parts.plannedMs,
      complete: parts.complete,
      stopReason: parts.stopReason,
      snapshot: parts.store.snapshot(),
      rows: parts.series.rows,
      flowSeconds: parts.series.flowSeconds,
      intervals: parts.series.intervals,
      failures: [...parts.failures.byKind].map(([kind, entry]) => ({
        kind,
        count: entry.count,
        message: entry.message,
        flows: [...entry.flows],
      })),
      flows: parts.flows.map((flow) => ({
        name: flow.flow.name,
        sent: flow.sent,
        checks: flow.checks,
        notes: flow.notes ?? [],
      })),
      generator: parts.generator,
    };
    post({ type: 'done', report });
  } finally {
    parts.dispose();
  }
} catch (error) {
  post({
    type: 'failed',
    message: error instanceof Error ? error.message : String(error),
    ...(isLaunchproofError(error) ? { code: error.code } : {}),
  });
}
