import type { MetricStore } from '../metrics/metric-store.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import type { Verification } from '../report/summary-schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { Phase, ResponseRecord } from './flow-runtime.ts';

/** What an extension sees of a run that is about to start. */
export interface RunStart {
  scenario: Scenario;
  target: string;
  /**
   * Microsecond timestamp of t = 0 (on the engine's clock). Read it when it is needed, not in
   * `start`: t0 is fixed only after every extension has started.
   */
  readonly t0Us: number;
  nowUs(): number;
  signal: AbortSignal;
}

/** What an extension sees once the load has ended. */
export interface RunEnd {
  scenario: Scenario;
  store: MetricStore;
  series: TimeSeries;
  durationMs: number;
  complete: boolean;
}

export interface ExtensionOutput {
  verifications?: Verification[];
  notes?: string[];
  faultWindows?: Array<{ label: string; startMs: number; endMs: number }>;
  /** Figures per second of the run, merged into the summary's series rows by `t`. */
  series?: Array<{ t: number; providerCalls?: number; providerCostUsd?: number }>;
}

/**
 * A part that rides along a run without the engine knowing what it is: a fault timeline that
 * tags phases, a rate-limit or fallback verifier that reads every response, a cost counter
 * that reads the provider. Each hook is optional; a hook that throws is reported as a failed
 * verification rather than crashing the run.
 */
export interface RunExtension {
  readonly name: string;
  /** Before t0: arm timers, reset counters. */
  start?(run: RunStart): void | Promise<void>;
  /** The phase a request sent now belongs to; its tags go on every metric of the request. */
  phase?(elapsedMs: number): Phase | undefined;
  /** Every finished request, in completion order. */
  observe?(record: ResponseRecord): void;
  /** After the load, before thresholds: may add samples to the store and verifications. */
  finish?(run: RunEnd): ExtensionOutput | Promise<ExtensionOutput>;
  /** Always called last, even when the run failed. */
  dispose?(): void | Promise<void>;
}
