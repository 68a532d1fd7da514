import type { Flow, ResponseView } from '../scenario/schema.ts';

/** A response as autocannon hands it to a request's `onResponse`: status, headers, body. */
export interface Answer {
  status: number;
  /** Lower-cased names, repeated headers as arrays (node's `IncomingHttpHeaders` shape). */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An answer with no response: a timeout, a connection error, a request cut off. */
export const NO_ANSWER: Answer = Object.freeze({ status: 0, headers: Object.freeze({}), body: '' });

/**
 * autocannon gives headers as it parsed them (names as the server spelled them, repeats as
 * arrays); checks and markers read node's lower-cased shape.
 */
export function lowerCaseHeaders(raw: unknown): Answer['headers'] {
  const out: Answer['headers'] = {};
  if (raw === null || typeof raw !== 'object') return out;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const key = name.toLowerCase();
    const values = (Array.isArray(value) ? value : [value]).map(String);
    const before = out[key];
    const merged =
      before === undefined ? values : [...(Array.isArray(before) ? before : [before]), ...values];
    out[key] = merged.length === 1 ? merged[0] : merged;
  }
  return out;
}

/** What checks and `onResponse` see, the body cut at the flow's `maxBodyBytes`. */
export function responseView(
  answer: Answer,
  durationMs: number,
  maxBodyBytes: number,
): ResponseView {
  const body =
    Buffer.byteLength(answer.body) > maxBodyBytes
      ? Buffer.from(answer.body).subarray(0, maxBodyBytes).toString('utf8')
      : answer.body;
  let parsed: { value: unknown } | undefined;
  return {
    status: answer.status,
    headers: answer.headers,
    body,
    durationMs,
    text: undefined,
    json() {
      parsed ??= { value: JSON.parse(body) };
      return parsed.value;
    },
  };
}

/** Whether the status is one of the flow's `expectedStatuses`. */
export function statusExpected(status: number, flow: Flow): boolean {
  for (const range of flow.expectedStatuses) {
    if (typeof range === 'number' ? status === range : status >= range.min && status <= range.max) {
      return true;
    }
  }
  return false;
}

/** Whether an answer carries the flow's fallback marker (header, JSON field or text). */
export function carriesFallback(answer: Answer, flow: Flow): boolean {
  const marker = flow.fallbackMarker;
  if (marker === undefined || answer.status === 0) return false;
  if (marker.header !== undefined && answer.headers[marker.header.toLowerCase()] !== undefined) {
    return true;
  }
  if (marker.textPattern?.test(answer.body)) return true;
  if (marker.jsonField !== undefined) {
    try {
      let value: unknown = JSON.parse(answer.body);
      for (const key of marker.jsonField.split('.')) {
        value =
          value !== null && typeof value === 'object'
            ? (value as Record<string, unknown>)[key]
            : undefined;
      }
      return value !== undefined && value !== null && value !== false;
    } catch {
      return false;
    }
  }
  return false;
}
