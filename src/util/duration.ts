import { LaunchproofError } from '../errors.ts';

const UNIT_MS: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h|d)/y;
const HINT = "use k6-style durations such as '500ms', '30s', '2m' or '1h30m'";

/** What a duration may be given as: a k6-style string, or a number of milliseconds. */
export type DurationInput = string | number;

/**
 * Parses a k6-style duration (`'30s'`, `'1m30s'`, `'250ms'`) into milliseconds.
 * A bare number is taken as milliseconds, as k6 does. Throws LP_ERR_DURATION_INVALID.
 */
export function parseDurationMs(input: DurationInput): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw invalid(String(input));
    return input;
  }

  const text = input.trim();
  if (text === '') throw invalid(input);
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);

  let totalMs = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (match === null || match.index !== start) throw invalid(input);
    totalMs += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return totalMs;
}

/** True when `input` parses as a duration. */
export function isDuration(input: unknown): boolean {
  if (typeof input !== 'string' && typeof input !== 'number') return false;
  try {
    parseDurationMs(input);
    return true;
  } catch {
    return false;
  }
}

/** Renders milliseconds back as a compact k6-style string (`90000` → `'1m30s'`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1_000 || !Number.isInteger(ms / 1_000)) return `${ms}ms`;
  let rest = ms / 1_000;
  const hours = Math.floor(rest / 3_600);
  rest -= hours * 3_600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}`;
}

function invalid(received: string): LaunchproofError {
  return new LaunchproofError(
    'LP_ERR_DURATION_INVALID',
    `invalid duration: expected a duration, received ${JSON.stringify(received)}`,
    { hint: HINT },
  );
}
