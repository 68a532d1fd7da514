import { request } from 'undici';

/** What a raw HTTP client saw of one call: status, headers, events and their times. */
export interface RawResult {
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** The `data:` payload of every complete SSE event, in order. */
  events: string[];
  /** Milliseconds from the send to the headers, and to each event. */
  headersMs: number | undefined;
  eventMs: number[];
  /** Milliseconds from the send to the first event with non-empty content. */
  firstContentMs: number | undefined;
  /** The text of the content deltas, joined. */
  content: string;
  /** The error code when the call failed (ECONNRESET, UND_ERR_SOCKET, …). */
  error: string | undefined;
  /** True when the client gave up at `timeoutMs` (a hang or a stall). */
  timedOut: boolean;
  endMs: number;
}

export interface RawOptions {
  headers?: Record<string, string>;
  /** Give up after this long; the result is marked timedOut. */
  timeoutMs?: number;
  /** Close the connection after this many events have arrived. */
  leaveAfterEvents?: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Posts a chat completion and records everything, never throwing. */
export async function rawChat(
  baseUrl: string,
  body: unknown,
  options: RawOptions = {},
): Promise<RawResult> {
  const result: RawResult = {
    status: undefined,
    headers: {},
    body: '',
    events: [],
    headersMs: undefined,
    eventMs: [],
    firstContentMs: undefined,
    content: '',
    error: undefined,
    timedOut: false,
    endMs: 0,
  };
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      result.timedOut = true;
      abort.abort();
    }, options.timeoutMs);
  }

  const startMs = nowMs();
  let pending = '';
  try {
    const response = await request(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: abort.signal,
    });
    result.status = response.statusCode;
    result.headersMs = nowMs() - startMs;
    for (const [name, value] of Object.entries(response.headers)) {
      result.headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    for await (const chunk of response.body) {
      const text = (chunk as Buffer).toString('utf8');
      result.body += text;
      pending += text;
      let end = pending.indexOf('\n\n');
      while (end >= 0) {
        addEvent(result, pending.slice(0, end), nowMs() - startMs);
        pending = pending.slice(end + 2);
        end = pending.indexOf('\n\n');
      }
      if (
        options.leaveAfterEvents !== undefined &&
        result.events.length >= options.leaveAfterEvents
      ) {
        response.body.destroy();
        break;
      }
    }
  } catch (error) {
    if (!result.timedOut) result.error = errorCode(error);
  } finally {
    if (timer) clearTimeout(timer);
  }
  result.endMs = nowMs() - startMs;
  return result;
}

function addEvent(result: RawResult, event: string, atMs: number): void {
  const data = event
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6))
    .join('\n');
  result.events.push(data);
  result.eventMs.push(atMs);
  if (data === '[DONE]') return;
  try {
    const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
    const content = chunk.choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content !== '') {
      result.content += content;
      result.firstContentMs ??= atMs;
    }
  } catch {
    // Not JSON: kept as it is in `events` for the test to judge.
  }
}

function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  if (cause) return errorCode(cause);
  return (error as Error).name ?? 'error';
}

/** The parsed JSON chunks of a stream (events other than [DONE]). */
export function chunksOf(result: RawResult): Record<string, unknown>[] {
  return result.events
    .filter((e) => e !== '[DONE]')
    .map((e) => JSON.parse(e) as Record<string, unknown>);
}

/** A short valid chat body. */
export function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'How much does onboarding cost?' }],
    ...extra,
  };
}

/** Waits until `check` holds, polling; for counters updated when a socket closes. */
export async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
