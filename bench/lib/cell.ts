import type { Daemon } from './process.ts';

/** How a bench invocation was asked to run. */
export interface BenchOptions {
  /** The full lengths: 10 s cells, a 10-minute memory run, finer stream steps. */
  long: boolean;
  /** Runs per tool and cell (at least 5 in the default bench). */
  runs: number;
  /** Only these cells (by id), or all of them. */
  only: ReadonlySet<string> | undefined;
  /** Write a CPU profile of each cell's last launchproof run under bench/results/profiles/. */
  profile: boolean;
}

export interface BenchContext {
  options: BenchOptions;
  /** nginx on the target's core, or undefined when it is not installed. */
  nginx: Daemon | undefined;
  wrk: boolean;
  /** Prints one line as the bench goes (the figures are printed again at the end). */
  log(line: string): void;
  /** Where a cell's launchproof profile goes, when profiles are asked for. */
  profilePath(cell: string): string | undefined;
}

/** A goal of the issue and whether this run met it (undefined: could not be measured). */
export interface GoalOutcome {
  goal: string;
  met: boolean | undefined;
  /** The figure that decides it, in words. */
  observed: string;
  /** A figure the issue asks to report without a mark to meet (a ratio to wrk, say). */
  figure?: boolean;
}

/** What one cell found: its table, its goals, and the raw runs behind them. */
export interface CellReport {
  id: string;
  title: string;
  /** What was run, in one or two sentences (target, load, lengths, runs). */
  setup: string;
  /** A Markdown table: header row first. */
  table: string[][];
  goals: GoalOutcome[];
  notes: string[];
  /** Every run's figures, for bench/results/<date>.json. */
  runs: unknown;
}

export interface Cell {
  id: string;
  title: string;
  /** Rough length in the default and long variants, for the time budget. */
  estimateMs(options: BenchOptions): number;
  run(ctx: BenchContext): Promise<CellReport>;
}
