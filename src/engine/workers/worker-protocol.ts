import type { MetricStoreSnapshot } from '../../metrics/metric-store.ts';
import type {
  FlowSecondHistograms,
  IntervalHistogram,
  SecondRow,
} from '../../metrics/time-series.ts';
import type { ScenarioOverrides } from '../../scenario/overrides.ts';
import type { HttpClientChoice } from '../flow-runtime.ts';
import type { GeneratorPart } from '../generator-monitor.ts';
import type { RunProgress } from '../run-scenario.ts';

/** What a worker is started with (structured-cloned into the thread). */
export interface WorkerInput {
  file: string;
  cwd: string;
  overrides: ScenarioOverrides;
  target: string;
  worker: number;
  workers: number;
  extraThresholds: Record<string, unknown> | undefined;
  httpClient: HttpClientChoice | undefined;
}

/** A worker's share of a finished run, as plain data. */
export interface WorkerReport {
  worker: number;
  durationMs: number;
  plannedMs: number;
  complete: boolean;
  stopReason: 'finished' | 'signal' | 'threshold-abort';
  snapshot: MetricStoreSnapshot;
  rows: SecondRow[];
  flowSeconds: FlowSecondHistograms[];
  intervals: IntervalHistogram[];
  failures: Array<{ kind: string; count: number; message: string; flows: string[] }>;
  flows: Array<{
    name: string;
    sent: number;
    notes: readonly string[];
    checks: Array<{ name: string; passes: number; fails: number }>;
  }>;
  generator: GeneratorPart;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; progress: RunProgress }
  | { type: 'stopping'; reason: 'signal' | 'threshold-abort' | 'finished'; detail?: string }
  | { type: 'done'; report: WorkerReport }
  | { type: 'failed'; message: string; code?: string };

export type ToWorker = { type: 'start'; t0Us: number } | { type: 'stop' };
