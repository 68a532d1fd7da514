/**
 * The fixed parts of an exported k6 script: the types and helpers every script shares, and the
 * stream readers of launchproof's built-in formats, written for k6's runtime (ES2020, no
 * Node.js). Each reader follows its twin in src/stream/sse-formats.ts rule for rule; the
 * export tests feed both the same recorded streams.
 */

import { quote } from './ts-literal.ts';

/** The SSE formats a k6 script reads through xk6-sse (`text` and `json` go through k6/http). */
export type K6SseFormat = 'openai' | 'anthropic' | 'vercel-ai' | 'custom';

/** Types and helpers of every script. */
export const RUNTIME_CORE = `/** One pre-generated request, as launchproof's engine prepares it. */
interface LpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  bodyBase64?: string;
  /** Headers whose values are read from the environment, never written into this file. */
  secret?: string[];
  name: string;
  tags: Record<string, string>;
}

/** What launchproof's checks see of a response (its ResponseView), as far as k6 can give it. */
interface LpResponse {
  readonly status: number;
  /** Header names in lower case, as launchproof gives them. */
  readonly headers: Record<string, string>;
  readonly body: string;
  json(): any;
  readonly durationMs: number;
}

type LpCheck = (response: LpResponse) => boolean;

function lpResponse(
  status: number,
  headers: Record<string, string> | undefined,
  body: string,
  durationMs: number,
): LpResponse {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers || {})) lower[name.toLowerCase()] = value;
  let parsed: { value: unknown } | undefined;
  return {
    status,
    headers: lower,
    body,
    durationMs,
    json() {
      if (parsed === undefined) parsed = { value: JSON.parse(body) };
      return parsed.value;
    },
  };
}

/** Checks pass only on \`true\`, and one that throws fails, as in launchproof (k6 would abort). */
function lpChecks(checks: Record<string, LpCheck>): Record<string, LpCheck> {
  const wrapped: Record<string, LpCheck> = {};
  for (const [name, predicate] of Object.entries(checks)) {
    wrapped[name] = (response) => {
      try {
        return predicate(response) === true;
      } catch (error) {
        return false;
      }
    };
  }
  return wrapped;
}

/** Identity headers under the request's own, as the engine merges them; secrets from the env. */
function lpHeaders(request: LpRequest, identity: Record<string, string> | undefined) {
  const headers: Record<string, string> = { ...(identity || {}), ...request.headers };
  for (const name of request.secret || []) headers[name] = SECRETS[name] as string;
  return headers;
}

/** Reads each credential header from the environment once, at start, or stops with a reason. */
function lpSecrets(names: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const variable = 'LP_HEADER_' + name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const value = __ENV[variable];
    if (value === undefined || value === '') {
      throw new Error(
        'set ' + variable + ' (k6 run -e ' + variable + '=...): the scenario sends a ' + name +
          ' header, whose value launchproof does not write into the script',
      );
    }
    values[name] = value;
  }
  return values;
}

/** How a flow tells a fallback answer from a real one (its fallbackMarker). */
interface LpFallbackMarker {
  header?: string;
  jsonField?: string;
  event?: string;
  textPattern?: RegExp;
}

/**
 * Whether an answer carries the fallback marker, by the engine's rules (any way it names):
 * a response header, an SSE event name, a pattern in the answer text (else the body), or a
 * truthy JSON field (a dotted path) of the body.
 */
function lpIsFallback(
  marker: LpFallbackMarker,
  response: LpResponse,
  text: string | undefined,
  events: string[],
): boolean {
  if (marker.header !== undefined && response.headers[marker.header.toLowerCase()] !== undefined) {
    return true;
  }
  if (marker.event !== undefined && events.indexOf(marker.event) !== -1) return true;
  if (marker.textPattern !== undefined) {
    if (marker.textPattern.test(text !== undefined ? text : response.body)) return true;
  }
  if (marker.jsonField !== undefined) {
    try {
      let value: any = JSON.parse(response.body);
      for (const key of marker.jsonField.split('.')) {
        value = value && typeof value === 'object' ? value[key] : undefined;
      }
      if (value !== undefined && value !== null && value !== false) return true;
    } catch (error) {
      return false;
    }
  }
  return false;
}

/** The tags of a sample of the script's own metrics: the engine's, status included. */
function lpSampleTags(tags: Record<string, string>, status: number): Record<string, string> {
  const statusClass = status <= 0 ? 'error' : Math.floor(status / 100) + 'xx';
  return { ...tags, status: String(status), status_class: statusClass };
}
`;

/** The target lookup: `--target` or the scenario's, overridable with `-e TARGET=…`. */
export function runtimeTarget(baked: string | undefined): string {
  const fallback = baked === undefined ? 'undefined' : quote(baked);
  return `/** The system under test: -e TARGET=https://... overrides the exported one. */
const TARGET: string = lpTarget(__ENV.TARGET, ${fallback});

function lpTarget(fromEnv: string | undefined, exported: string | undefined): string {
  const target = fromEnv !== undefined && fromEnv !== '' ? fromEnv : exported;
  if (target === undefined) {
    throw new Error(
      'no target: run with -e TARGET=https://your-chatbot.example (the scenario names none)',
    );
  }
  return target.replace(/\\/+$/, '');
}
`;
}

/** The stream tally: TTFT, gaps, duration and failure of one chat answer, as the engine counts. */
export const RUNTIME_STREAM = `/** One SSE event as launchproof's formats see it. */
interface LpEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

interface LpPart {
  text?: string;
  done?: boolean;
  error?: string;
  usage?: unknown;
}

type LpReader = (event: LpEvent) => LpPart | string | undefined;

const CHAT_TTFT = new Trend('chat_ttft', true);
const CHAT_TTFT_SEND = new Trend('chat_ttft_send', true);
const CHAT_ITL = new Trend('chat_itl', true);
const CHAT_DURATION = new Trend('chat_duration', true);
const CHAT_STREAM_FAILED = new Rate('chat_stream_failed');

/**
 * One chat answer as it streams. Times are from the call that sends it (k6 has no intended
 * send time), in milliseconds (Date.now). As in the engine: TTFT is the first non-empty
 * content delta; an event named \`error\` is an error in every format; a stream that ends
 * without its terminator is truncated, which counts as failed.
 */
class LpStream {
  readonly startMs: number;
  readonly tags: Record<string, string>;
  readonly read: LpReader;
  firstMs: number | undefined;
  lastMs: number | undefined;
  done = false;
  failure: string | undefined;
  /** Names of the events seen, and the answer text (both for the fallback marker). */
  readonly names: string[] = [];
  text = '';

  constructor(read: LpReader, tags: Record<string, string>) {
    this.read = read;
    this.tags = tags;
    this.startMs = Date.now();
  }

  event(raw: { name: string; data: string; id: string }): void {
    // As the SSE spec says, a block with no data (a comment, a keep-alive) is no event.
    if (raw.data === '') return;
    if (raw.name !== '' && this.names.indexOf(raw.name) === -1) this.names.push(raw.name);
    if (raw.name === 'error') {
      this.fail('error event: ' + raw.data);
      return;
    }
    let part: LpPart | string | undefined;
    try {
      part = this.read({
        event: raw.name === '' ? undefined : raw.name,
        data: raw.data,
        id: raw.id === '' ? undefined : raw.id,
      });
    } catch (error) {
      this.fail(error instanceof SyntaxError ? 'invalid JSON' : 'stream format threw: ' + error);
      return;
    }
    if (part === undefined || part === null) return;
    if (typeof part === 'string') {
      this.content(part);
      return;
    }
    if (typeof part.text === 'string') this.content(part.text);
    if (typeof part.error === 'string') this.fail(part.error || 'error');
    if (part.done === true) this.done = true;
  }

  content(text: string): void {
    if (text.length === 0) return;
    const nowMs = Date.now();
    if (this.text.length < 65536) this.text += text.slice(0, 65536 - this.text.length);
    if (this.lastMs === undefined) this.firstMs = nowMs;
    else CHAT_ITL.add(nowMs - this.lastMs, this.tags);
    this.lastMs = nowMs;
  }

  fail(reason: string): void {
    if (this.failure === undefined) this.failure = reason;
  }

  /** Records the answer's metrics once it has ended with \`status\` (0: no response). */
  finish(status: number, error: string | undefined): void {
    if (status <= 0) return;
    const endMs = Date.now();
    const tags = lpSampleTags(this.tags, status);
    const failed = this.failure !== undefined || !this.done || (error !== undefined && error !== '');
    CHAT_STREAM_FAILED.add(failed, tags);
    if (this.firstMs === undefined) return;
    CHAT_TTFT.add(this.firstMs - this.startMs, tags);
    CHAT_TTFT_SEND.add(this.firstMs - this.startMs, tags);
    CHAT_DURATION.add(endMs - this.startMs, tags);
  }
}

function lpIsDone(data: string): boolean {
  return data === '[DONE]' || (data.length < 16 && data.trim() === '[DONE]');
}

function lpRecord(value: unknown): Record<string, any> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, any>)
    : undefined;
}

function lpString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function lpErrorText(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value === '' ? fallback : value;
  const record = lpRecord(value);
  if (record === undefined) return fallback;
  const message = lpString(record.message) || lpString(record.errorText);
  if (message) return message;
  if (record.error !== undefined && record.error !== value) {
    return lpErrorText(record.error, fallback);
  }
  const type = lpString(record.type);
  return type !== undefined && type !== 'error' ? type : fallback;
}
`;

/** The readers of the built-in SSE formats, by name. */
export const RUNTIME_READERS: Record<Exclude<K6SseFormat, 'custom'>, string> = {
  openai: `/** OpenAI chat completions chunks (src/stream/sse-formats.ts readOpenAiEvent). */
const READ_OPENAI: LpReader = (event) => {
  if (lpIsDone(event.data)) return { done: true };
  const chunk = lpRecord(JSON.parse(event.data));
  if (chunk === undefined) return undefined;
  if (chunk.error !== undefined && chunk.error !== null) {
    return { error: lpErrorText(chunk.error, 'provider error') };
  }
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const choice = lpRecord(choices[0]);
  const delta = lpRecord(choice && choice.delta);
  const text = lpString(delta && delta.content);
  return { text: text !== undefined ? text : lpString(choice && choice.text) };
};
`,
  anthropic: `/** Anthropic Messages API events (src/stream/sse-formats.ts readAnthropicEvent). */
const READ_ANTHROPIC: LpReader = (event) => {
  const body = lpRecord(JSON.parse(event.data));
  if (body === undefined) return undefined;
  const type = lpString(body.type) !== undefined ? body.type : event.event;
  switch (type) {
    case 'content_block_start':
      return { text: lpString(lpRecord(body.content_block) && body.content_block.text) };
    case 'content_block_delta': {
      const delta = lpRecord(body.delta);
      if (delta !== undefined && delta.type === 'text_delta') {
        return { text: lpString(delta.text) || '' };
      }
      return undefined;
    }
    case 'message_stop':
      return { done: true };
    case 'error':
      return { error: lpErrorText(body.error, 'provider error') };
  }
  return undefined;
};
`,
  'vercel-ai': `/** The AI SDK v5 UI message stream (src/stream/sse-formats.ts readVercelAiEvent). */
const READ_VERCEL_AI: LpReader = (event) => {
  if (lpIsDone(event.data)) return { done: true };
  const part = lpRecord(JSON.parse(event.data));
  if (part === undefined) return undefined;
  switch (part.type) {
    case 'text-delta':
      return { text: lpString(part.delta) || '' };
    case 'error':
      return { error: lpString(part.errorText) || 'error part without errorText' };
    case 'abort': {
      const reason = lpString(part.reason);
      return { error: reason ? 'stream aborted: ' + reason : 'stream aborted' };
    }
  }
  return undefined;
};
`,
};

/** The constant a flow's reader is named by. */
export function readerConstant(format: Exclude<K6SseFormat, 'custom'>): string {
  return `READ_${format.toUpperCase().replace(/-/g, '_')}`;
}

/** The reader of a whole non-streaming JSON answer (src/stream/json-body.ts readJsonBody). */
export const RUNTIME_JSON_BODY = `/** The answer text of a JSON body, or its error (src/stream/json-body.ts). */
function lpJsonAnswer(text: string): { text?: string; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: 'invalid JSON' };
  }
  const body = lpRecord(value);
  if (body === undefined) return {};
  if ((body.error !== undefined && body.error !== null) || body.type === 'error') {
    return { error: lpErrorText(body.error !== undefined ? body.error : body, 'error body') };
  }
  if (Array.isArray(body.choices)) {
    const choice = lpRecord(body.choices[0]);
    const message = lpRecord(choice && choice.message);
    const content = lpString(message && message.content);
    const answer = content !== undefined ? content : lpString(choice && choice.text);
    if (answer !== undefined) return { text: answer };
  }
  if (Array.isArray(body.content)) {
    let answer = '';
    for (const block of body.content) {
      const record = lpRecord(block);
      if (record !== undefined && record.type === 'text') answer += lpString(record.text) || '';
    }
    return { text: answer };
  }
  for (const field of ['reply', 'answer', 'message', 'text', 'content', 'output']) {
    const answer = lpString(body[field]);
    if (answer !== undefined) return { text: answer };
  }
  return {};
}
`;
