import { createParser } from 'eventsource-parser';
import { Client } from 'undici';
import type { DemoStack, DemoStackOptions } from '../../src/demo/index.ts';
import { startDemoStack } from '../../src/demo/index.ts';

/** One SSE event of a demo answer: its event name (when named) and its data. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** A read chat answer: status, headers, events, and conveniences over them. */
export interface ChatAnswer {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** The JSON parts of `data:` events without a name, in order ([DONE] left out). */
  parts: Array<Record<string, unknown>>;
  /** The text of all text-delta parts. */
  text: string;
  /** The data of the `fallback` event, when there was one. */
  fallback: { type: string; data: { reason: string; contact: Record<string, string> } } | undefined;
  done: boolean;
  /** The raw body when it was not an event stream (an error's JSON). */
  body: string;
  elapsedMs: number;
}

/** A fast provider, so that tests spend their time on what they check. */
export const FAST_PROVIDER = { ttftMs: 5, tokensPerSec: 2_000, completionTokens: 6 } as const;

/** Starts a demo stack with a fast mock provider unless told otherwise. */
export function startTestStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  return startDemoStack({ ...options, provider: { ...FAST_PROVIDER, ...options.provider } });
}

/** POSTs a chat and reads the whole answer. */
export async function chat(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<ChatAnswer> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  const raw = await response.text();
  return {
    ...readAnswer(response.status, response.headers, raw),
    elapsedMs: performance.now() - started,
  };
}

/** Parses an answer body as the UI message stream (or keeps it raw when it is not one). */
export function readAnswer(
  status: number,
  headers: Headers,
  raw: string,
): Omit<ChatAnswer, 'elapsedMs'> {
  const events: SseEvent[] = [];
  if ((headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const parser = createParser({
      onEvent: (event) => events.push({ event: event.event, data: event.data }),
    });
    parser.feed(raw);
  }

  const parts = events
    .filter((event) => event.event === undefined && event.data !== '[DONE]')
    .map((event) => JSON.parse(event.data) as Record<string, unknown>);
  const fallbackEvent = events.find((event) => event.event === 'fallback');
  return {
    status,
    headers,
    events,
    parts,
    text: parts
      .filter((part) => part.type === 'text-delta')
      .map((part) => part.delta)
      .join(''),
    fallback: fallbackEvent === undefined ? undefined : JSON.parse(fallbackEvent.data),
    done: events.at(-1)?.data === '[DONE]',
    body: raw,
  };
}

/** A client bound to one loopback source address, so the demo sees a distinct visitor. */
export function clientFrom(baseUrl: string, localAddress: string): Client {
  return new Client(baseUrl, { localAddress });
}

/** POSTs a chat through a bound client; returns status, headers and body text. */
export async function chatFrom(
  client: Client,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const response = await client.request({
    path: '/api/chat',
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: response.statusCode, headers: flat, body: text };
}

/** Creates a session and returns its token and id. */
export async function createSession(
  baseUrl: string,
): Promise<{ token: string; sessionId: string; expiresAt: string; cookie: string }> {
  const response = await fetch(`${baseUrl}/api/session`, { method: 'POST' });
  if (response.status !== 201) throw new Error(`POST /api/session answered ${response.status}`);
  const body = (await response.json()) as { token: string; sessionId: string; expiresAt: string };
  return { ...body, cookie: response.headers.get('set-cookie') ?? '' };
}

/** Polls `check` every 20 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

/** A short user message. */
export const HELLO = { message: 'What does a website audit cost?' };
