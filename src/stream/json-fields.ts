/**
 * Small readers for untrusted JSON: each returns the value when it has the expected type and
 * `undefined` otherwise, so format code never throws on a body of the wrong shape.
 */

/** The sentinel `parseJson` returns for text that is not JSON. */
export const NOT_JSON: unique symbol = Symbol('not-json');

/** `JSON.parse` that answers `NOT_JSON` instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A token count: a finite number at least 0, else `undefined`. */
export function asCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * The human-readable message of an error value as providers and SDKs send it: a string, an
 * object with `message` or `errorText`, or one nested under `error` (OpenAI's and
 * Anthropic's bodies). Falls back to the JSON text, then to `fallback`.
 */
export function errorMessageOf(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value === '' ? fallback : value;

  const record = asRecord(value);
  if (record === undefined) return fallback;

  const direct = asString(record.message) ?? asString(record.errorText);
  if (direct !== undefined && direct !== '') return direct;

  if (record.error !== undefined && record.error !== value) {
    return errorMessageOf(record.error, fallback);
  }

  const type = asString(record.type);
  return type !== undefined && type !== 'error' ? type : fallback;
}
