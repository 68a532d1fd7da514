import type { OptionDefs } from './options.ts';

/** What a command may touch of the outside world; tests pass their own. */
export interface CommandIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  verbose: boolean;
}

export interface Positional {
  name: string;
  description: string;
  optional?: boolean;
}

/**
 * One subcommand of `launchproof`. `run` returns the exit code; it throws LaunchproofError for
 * usage and environment failures, which main turns into a message and exit code.
 */
export interface Command<D extends OptionDefs = OptionDefs> {
  name: string;
  summary: string;
  positionals: readonly Positional[];
  options: D;
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

/** Exit codes, as DESIGN.md fixes them (99 is k6's code for a failed threshold). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  thresholdsFailed: 99,
} as const;
