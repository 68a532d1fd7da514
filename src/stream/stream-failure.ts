/**
 * Why a chat stream did not deliver a whole answer. Failures are data: the engine counts and
 * groups them by `kind`, and `formatStreamFailure` turns them into words.
 */
export type StreamFailure =
  /** The target said so in the stream: an `event: error`, an error object, an error part. */
  | { kind: 'error-event'; message: string }
  /** The body ended before the format's terminator (`[DONE]`, `message_stop`). */
  | { kind: 'truncated' }
  /** No event within the flow's idle timeout; detected and passed in by the engine. */
  | { kind: 'stalled'; idleMs: number }
  /** An event (or a `json` body) that should hold JSON did not parse. */
  | { kind: 'invalid-json'; sample: string }
  /** One event, or a `json` body, grew past the reader's buffer limit. */
  | { kind: 'oversized'; limitChars: number };

export type StreamFailureKind = StreamFailure['kind'];

/** How much of a bad event, and of an error message, a failure keeps. */
export const FAILURE_SAMPLE_CHARS = 120;
export const FAILURE_MESSAGE_CHARS = 300;

// A provider's error text can echo a credential back ("Incorrect API key provided: sk-…"),
// and failures end up in summaries and logs, which must never hold one.
const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{6,}/g, '[redacted]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]'],
  [/\b(api[_-]?key|token|secret)(["']?\s*[:=]\s*["']?)[^\s"',}&;]+/gi, '$1$2[redacted]'],
];

/** Makes an `error-event` failure, its message bounded and stripped of credentials. */
export function errorEventFailure(message: string): StreamFailure {
  return { kind: 'error-event', message: redactSecrets(clip(message, FAILURE_MESSAGE_CHARS)) };
}

/** Makes an `invalid-json` failure that keeps a bounded, credential-free sample of the data. */
export function invalidJsonFailure(data: string): StreamFailure {
  return { kind: 'invalid-json', sample: redactSecrets(clip(data, FAILURE_SAMPLE_CHARS)) };
}

/** One sentence for a failure, as reports and logs show it. */
export function formatStreamFailure(failure: StreamFailure): string {
  switch (failure.kind) {
    case 'error-event':
      return `error event in the stream: ${failure.message}`;
    case 'truncated':
      return 'stream ended before its terminator (truncated)';
    case 'stalled':
      return `stream stalled: no event for ${failure.idleMs} ms`;
    case 'invalid-json':
      return `invalid JSON in a stream event: ${JSON.stringify(failure.sample)}`;
    case 'oversized':
      return `stream event or body exceeded ${failure.limitChars} characters`;
  }
}

/** Replaces anything shaped like an API key, a bearer token or a `token=` value. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}
