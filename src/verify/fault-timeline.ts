import type { Phase } from '../engine/flow-runtime.ts';
import type { ExtensionOutput, RunExtension, RunStart } from '../engine/run-extension.ts';
import type { FaultRuleInput } from '../provider/fault-rules.ts';
import { describeRules, type FaultWindowSpec } from './fault-timeline-schema.ts';
import type { ObservedWindow, TimelinePhase } from './observed-run.ts';

/** What the timeline needs of the provider: ProviderControl fits. */
export interface FaultControl {
  setFaults(rules: readonly FaultRuleInput[]): Promise<void>;
}

interface WindowState {
  spec: FaultWindowSpec;
  requestedUs: number | undefined;
  appliedUs: number | undefined;
  clearedUs: number | undefined;
  problems: string[];
}

/**
 * Applies a scenario's provider faults on schedule and tags every request with its phase.
 *
 * 1. `start` clears the provider's faults, then arms a timer for each window's start and end.
 * 2. Control calls run one after another, so a clear and the next window's start never race.
 * 3. A window is `during` from the moment the provider acknowledged its faults until 100 ms
 *    before their clearing is due (a request sent later may reach the provider after the
 *    clearing). Before the first window is its `before`; between windows, and after the
 *    last, is the previous window's `after`.
 * 4. The engine's t = 0 is fixed after every extension started, so the timers are re-armed
 *    once the first request's phase shows where t = 0 really is.
 * 5. `dispose` stops the timers and clears any fault still in force.
 */
export class FaultTimeline implements RunExtension {
  readonly name = 'fault timeline';
  readonly #control: FaultControl;
  readonly #states: WindowState[];
  readonly #phases: Phase[];
  #nowUs: () => number = () => 0;
  #t0Us = 0;
  #calibrated = false;
  #timers: NodeJS.Timeout[] = [];
  #queue: Promise<void> = Promise.resolve();
  #inForce = false;
  #stopped = false;

  constructor(windows: readonly FaultWindowSpec[], control: FaultControl) {
    this.#control = control;
    this.#states = windows.map((spec) => ({
      spec,
      requestedUs: undefined,
      appliedUs: undefined,
      clearedUs: undefined,
      problems: [],
    }));
    this.#phases = windows.flatMap((spec) =>
      (['before', 'during', 'after'] as const).map((phase) => ({
        key: `${spec.name}:${phase}`,
        tags: Object.freeze({ fault: spec.name, phase }),
      })),
    );
  }

  /** The run's t = 0 on the engine's clock, as best known. */
  get t0Us(): number {
    return this.#t0Us;
  }

  async start(run: RunStart): Promise<void> {
    this.#nowUs = run.nowUs;
    this.#t0Us = run.t0Us;
    await this.#control.setFaults([]);
    this.#arm();
  }

  phase(elapsedMs: number): Phase | undefined {
    if (this.#states.length === 0) return undefined;
    const nowUs = this.#nowUs();
    if (!this.#calibrated && elapsedMs > 0) this.#calibrate(nowUs - elapsedMs * 1_000);

    let current: { index: number; phase: TimelinePhase } = { index: 0, phase: 'before' };
    for (let i = 0; i < this.#states.length; i++) {
      const state = this.#states[i] as WindowState;
      if (state.appliedUs === undefined || nowUs < state.appliedUs) break;
      const ending = nowUs >= this.#duringUntilUs(state.spec);
      const cleared = state.clearedUs !== undefined && nowUs >= state.clearedUs;
      current = { index: i, phase: ending || cleared ? 'after' : 'during' };
    }
    return this.#phases[current.index * 3 + PHASE_OFFSET[current.phase]];
  }

  finish(): ExtensionOutput {
    this.#stop();
    const endUs = this.#nowUs();
    const windows = this.windows(endUs);
    const evidence: string[] = [];
    let ok = true;
    for (const [i, window] of windows.entries()) {
      const state = this.#states[i] as WindowState;
      const plan = `planned at ${state.spec.atMs / 1_000} s for ${state.spec.forMs / 1_000} s`;
      const what = `${window.name}: ${describeRules(state.spec.rules)}`;
      if (!window.applied) {
        ok = false;
        evidence.push(
          `${what}: never applied (${plan}; the run ended first or the provider refused)`,
        );
      } else {
        const start = seconds(window.startUs - this.#t0Us);
        const end = window.cleared
          ? `cleared at ${seconds(window.endUs - this.#t0Us)}`
          : 'still in force at the end';
        evidence.push(`${what}: applied at ${start}, ${end} (${plan})`);
      }
      for (const problem of state.problems) {
        ok = false;
        evidence.push(`${window.name}: ${problem}`);
      }
    }
    return {
      verifications: [{ name: this.name, ok, evidence }],
      faultWindows: windows
        .filter((window) => window.applied)
        .map((window) => ({
          label: `${window.name}: ${describeRules(window.rules)}`,
          startMs: (window.startUs - this.#t0Us) / 1_000,
          endMs: (window.endUs - this.#t0Us) / 1_000,
        })),
    };
  }

  /** The windows as applied, with `endUs` standing in for clearings still to come. */
  windows(endUs: number = this.#nowUs()): ObservedWindow[] {
    return this.#states.map((state) => ({
      name: state.spec.name,
      rules: state.spec.rules,
      requestedUs: state.requestedUs ?? this.#t0Us + state.spec.atMs * 1_000,
      startUs: state.appliedUs ?? this.#t0Us + state.spec.atMs * 1_000,
      endUs: state.clearedUs ?? Math.max(endUs, state.appliedUs ?? 0),
      applied: state.appliedUs !== undefined,
      cleared: state.clearedUs !== undefined,
    }));
  }

  async dispose(): Promise<void> {
    this.#stop();
    await this.#queue;
    if (this.#inForce) await this.#control.setFaults([]).catch(() => undefined);
  }

  /**
   * When `during` ends: shortly before the clearing is due, since a request sent in the last
   * moments may reach the provider (through the target) after the clearing did.
   */
  #duringUntilUs(spec: FaultWindowSpec): number {
    const guardMs = Math.min(DURING_GUARD_MS, spec.forMs / 4);
    return this.#t0Us + (spec.atMs + spec.forMs - guardMs) * 1_000;
  }

  #calibrate(t0Us: number): void {
    this.#calibrated = true;
    if (Math.abs(t0Us - this.#t0Us) < 1_000) return;
    this.#t0Us = t0Us;
    if (this.#stopped) return;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#arm();
  }

  /** Arms the start and end of every window that has not started (or ended) yet. */
  #arm(): void {
    this.#timers = [];
    const nowUs = this.#nowUs();
    for (const state of this.#states) {
      const startUs = this.#t0Us + state.spec.atMs * 1_000;
      const endUs = startUs + state.spec.forMs * 1_000;
      if (state.appliedUs === undefined) {
        this.#timers.push(
          setTimeout(() => this.#apply(state), Math.max(0, (startUs - nowUs) / 1_000)),
        );
      }
      if (state.clearedUs === undefined) {
        this.#timers.push(
          setTimeout(() => this.#clear(state), Math.max(0, (endUs - nowUs) / 1_000)),
        );
      }
    }
  }

  #apply(state: WindowState): void {
    this.#enqueue(async () => {
      if (state.appliedUs !== undefined || this.#stopped) return;
      state.requestedUs = this.#nowUs();
      try {
        await this.#control.setFaults(state.spec.rules);
        state.appliedUs = this.#nowUs();
        this.#inForce = true;
      } catch (error) {
        state.problems.push(`could not apply the fault: ${messageOf(error)}`);
      }
    });
  }

  #clear(state: WindowState): void {
    this.#enqueue(async () => {
      if (state.clearedUs !== undefined || state.appliedUs === undefined) return;
      try {
        await this.#control.setFaults([]);
        state.clearedUs = this.#nowUs();
        this.#inForce = false;
      } catch (error) {
        state.problems.push(`could not clear the fault: ${messageOf(error)}`);
      }
    });
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(step);
  }

  #stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }
}

const PHASE_OFFSET: Record<TimelinePhase, number> = { before: 0, during: 1, after: 2 };

/** How long before a clearing is due requests already count as `after` (a quarter at most). */
const DURING_GUARD_MS = 100;

function seconds(us: number): string {
  return `${(us / 1e6).toFixed(2)} s`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
