/**
 * The one error registry. Every failure the library throws is a `LaunchproofError` with a
 * stable code; the CLI maps codes to exit codes and prints `message` (and `hint`) without a
 * stack trace unless asked.
 */
export const ERROR_CODES = {
  LP_ERR_USAGE: 'bad command-line usage',
  LP_ERR_SCENARIO_NOT_FOUND: 'scenario file not found',
  LP_ERR_SCENARIO_LOAD: 'scenario file failed to load',
  LP_ERR_SCENARIO_INVALID: 'scenario failed validation',
  LP_ERR_THRESHOLD_INVALID: 'threshold expression is invalid',
  LP_ERR_DURATION_INVALID: 'duration string is invalid',
  LP_ERR_TARGET_INVALID: 'target URL is invalid',
  LP_ERR_TARGET_UNREACHABLE: 'target unreachable',
  LP_ERR_RESULTS_WRITE: 'results could not be written',
  LP_ERR_RESULTS_INVALID: 'results folder is missing or invalid',
  LP_ERR_PROVIDER: 'mock provider failure',
  LP_ERR_DEMO: 'demo target failure',
  LP_ERR_ENGINE: 'engine failure',
  LP_ERR_EXPORT: 'export failure',
  LP_ERR_COMPARE: 'runs cannot be compared',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that are the user's to fix through input: the CLI exits 2 for these. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'LP_ERR_USAGE',
  'LP_ERR_SCENARIO_NOT_FOUND',
  'LP_ERR_SCENARIO_LOAD',
  'LP_ERR_SCENARIO_INVALID',
  'LP_ERR_THRESHOLD_INVALID',
  'LP_ERR_DURATION_INVALID',
  'LP_ERR_TARGET_INVALID',
  'LP_ERR_COMPARE',
]);

export interface LaunchproofErrorOptions {
  /** What the user can do about it, when there is something. */
  hint?: string;
  /** Extra lines (for example every validation problem), printed after the message. */
  details?: readonly string[];
  cause?: unknown;
}

export class LaunchproofError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: LaunchproofErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LaunchproofError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  /** True when the fault is in what the user gave us (exit 2), not in the run (exit 1). */
  get isUsage(): boolean {
    return USAGE_CODES.has(this.code);
  }
}

export function isLaunchproofError(value: unknown): value is LaunchproofError {
  return value instanceof LaunchproofError;
}
