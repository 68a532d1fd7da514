import type { EventSourceMessage, EventSourceParser, ParseError } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';
import { readJsonBody } from './json-body.ts';
import { asRecord, errorMessageOf, NOT_JSON, parseJson } from './json-fields.ts';
import type { SseEventReader } from './sse-formats.ts';
import { customEventReader, sseEventReader } from './sse-formats.ts';
import type { StreamFailure } from './stream-failure.ts';
import type { CustomStreamFormat, StreamFormat } from './stream-format.ts';
import type { ChatStreamResult } from './stream-tally.ts';
import { StreamTally } from './stream-tally.ts';

export interface ChatStreamReaderOptions {
  /** Keep up to this many UTF-8 bytes of the answer's text in the result. Default 0: none. */
  captureTextBytes?: number;
  /** Called with each gap between consecutive content deltas, in microseconds. */
  onGap?: (gapUs: number) => void;
  /**
   * The most characters one SSE event, or a whole `json` body, may buffer before the stream
   * is failed as `oversized`. Default 1 MiB of characters; `Infinity` for no limit.
   */
  maxBufferChars?: number;
}

/**
 * Reads one chat response body, chunk by chunk, and times it. The engine owns the clock: it
 * passes each chunk's arrival time, so the reader itself never looks at a clock.
 */
export interface ChatStreamReader {
  /** Feeds one body chunk, which arrived at `nowUs`. Never throws: bad input is a failure. */
  push(chunk: Uint8Array, nowUs: number): void;
  /** The body ended normally at `nowUs`. A stream without its terminator is `truncated`. */
  end(nowUs: number): ChatStreamResult;
  /** The engine gave up on the stream (stalled, reset, aborted) at `nowUs`. */
  fail(failure: StreamFailure, nowUs: number): ChatStreamResult;
  /**
   * When the last event arrived (for the engine's idle timer): the last SSE event, or the
   * last non-empty chunk of a `text` or `json` body; absent before the first. SSE comments
   * do not count: a keep-alive shows the socket is open, not that the answer moves.
   */
  readonly lastEventUs: number | undefined;
}

/** The default of `maxBufferChars`. */
export const DEFAULT_MAX_BUFFER_CHARS = 1_048_576;

// Text seen before the first SSE event, kept to tell a JSON error body sent in place of a
// stream from a plain truncation. Bounded: a body that large is no error message.
const PRELUDE_MAX_CHARS = 65_536;
const STREAM_DECODE = { stream: true } as const;

/**
 * Creates a reader for one response body in `format` (a built-in name, or a custom function
 * from SSE event to meaning).
 *
 * SSE formats are parsed with eventsource-parser, so events split across chunks, merged into
 * one chunk, `:` comments, unknown fields and CRLF line ends are all handled by the spec's
 * rules. UTF-8 is decoded with a streaming TextDecoder, so a character split across two
 * chunks is read whole. Every event parsed out of a chunk is stamped with that chunk's
 * time. An SSE event named `error` is an error event in every SSE format. As the SSE spec
 * says, an event the body ends in the middle of is discarded, never dispatched.
 */
export function createChatStreamReader(
  format: StreamFormat | CustomStreamFormat,
  options: ChatStreamReaderOptions = {},
): ChatStreamReader {
  const tally = new StreamTally({
    captureTextBytes: nonNegative(options.captureTextBytes ?? 0),
    onGap: options.onGap,
  });
  const maxBufferChars = nonNegative(options.maxBufferChars ?? DEFAULT_MAX_BUFFER_CHARS);

  if (typeof format === 'function') {
    return new SseStreamReader(tally, customEventReader(format), maxBufferChars);
  }
  switch (format) {
    case 'text':
      return new TextStreamReader(tally);
    case 'json':
      return new JsonBodyReader(tally, maxBufferChars);
    default:
      return new SseStreamReader(tally, sseEventReader(format), maxBufferChars);
  }
}

/** The end-of-stream bookkeeping every reader shares: one result, computed once. */
abstract class BaseReader implements ChatStreamReader {
  protected readonly tally: StreamTally;
  protected readonly decoder = new TextDecoder('utf-8');
  protected lastEventAtUs: number | undefined;
  #result: ChatStreamResult | undefined;

  constructor(tally: StreamTally) {
    this.tally = tally;
  }

  get lastEventUs(): number | undefined {
    return this.lastEventAtUs;
  }

  protected get closed(): boolean {
    return this.#result !== undefined;
  }

  abstract push(chunk: Uint8Array, nowUs: number): void;

  /** Flushes what the format holds back until the body ends. */
  protected abstract finish(): void;

  end(nowUs: number): ChatStreamResult {
    if (this.#result !== undefined) return this.#result;

    this.tally.nowUs = nowUs;
    this.finish();
    if (!this.tally.terminated) this.tally.fail({ kind: 'truncated' });

    this.#result = this.tally.result(nowUs);
    return this.#result;
  }

  fail(failure: StreamFailure, nowUs: number): ChatStreamResult {
    if (this.#result !== undefined) return this.#result;

    this.tally.fail(failure);
    this.#result = this.tally.result(nowUs);
    return this.#result;
  }
}

class SseStreamReader extends BaseReader {
  readonly #parser: EventSourceParser;
  readonly #readEvent: SseEventReader;
  readonly #maxBufferChars: number;
  #sawEvent = false;
  #prelude = '';
  #parserStopped = false;

  constructor(tally: StreamTally, readEvent: SseEventReader, maxBufferChars: number) {
    super(tally);
    this.#readEvent = readEvent;
    this.#maxBufferChars = maxBufferChars;
    this.#parser = createParser({
      onEvent: (event) => this.#onEvent(event),
      onError: (error) => this.#onParseError(error),
      maxBufferSize: Number.isFinite(maxBufferChars) ? maxBufferChars : undefined,
    });
  }

  push(chunk: Uint8Array, nowUs: number): void {
    if (this.closed) return;
    this.#feed(this.decoder.decode(chunk, STREAM_DECODE), nowUs);
  }

  protected finish(): void {
    this.#feed(this.decoder.decode(), this.tally.nowUs);
    if (!this.#sawEvent) this.#readPrelude();
  }

  #feed(text: string, nowUs: number): void {
    if (text.length === 0 || this.#parserStopped) return;

    this.tally.nowUs = nowUs;
    if (!this.#sawEvent && this.#prelude.length < PRELUDE_MAX_CHARS) this.#prelude += text;
    this.#parser.feed(text);
  }

  #onEvent(event: EventSourceMessage): void {
    this.#sawEvent = true;
    this.#prelude = '';
    this.lastEventAtUs = this.tally.nowUs;

    const name = event.event;
    if (name !== undefined) {
      this.tally.eventName(name);
      if (name === 'error') {
        this.tally.error(errorMessageOf(parseErrorData(event.data), 'error event'));
        return;
      }
    }
    this.#readEvent(event, this.tally);
  }

  #onParseError(error: ParseError): void {
    // Unknown fields and bad `retry` values are ignored, as the SSE spec says a client must.
    if (error.type !== 'max-buffer-size-exceeded') return;
    this.#parserStopped = true;
    this.tally.fail({ kind: 'oversized', limitChars: this.#maxBufferChars });
  }

  /** A body with no SSE event at all may be a JSON error sent in place of the stream. */
  #readPrelude(): void {
    const body = asRecord(parseJson(this.#prelude.trim()));
    this.#prelude = '';
    if (body === undefined) return;
    if ((body.error !== undefined && body.error !== null) || body.type === 'error') {
      this.tally.error(errorMessageOf(body.error ?? body, 'error body'));
    }
  }
}

class TextStreamReader extends BaseReader {
  push(chunk: Uint8Array, nowUs: number): void {
    if (this.closed) return;
    this.#take(this.decoder.decode(chunk, STREAM_DECODE), nowUs);
  }

  protected finish(): void {
    this.#take(this.decoder.decode(), this.tally.nowUs);
    this.tally.done();
  }

  #take(text: string, nowUs: number): void {
    if (text.length === 0) return;
    this.lastEventAtUs = nowUs;
    this.tally.nowUs = nowUs;
    this.tally.content(text);
  }
}

class JsonBodyReader extends BaseReader {
  readonly #parts: string[] = [];
  readonly #maxBufferChars: number;
  #chars = 0;
  #oversized = false;

  constructor(tally: StreamTally, maxBufferChars: number) {
    super(tally);
    this.#maxBufferChars = maxBufferChars;
  }

  push(chunk: Uint8Array, nowUs: number): void {
    if (this.closed) return;
    this.#take(this.decoder.decode(chunk, STREAM_DECODE), nowUs);
  }

  protected finish(): void {
    this.#take(this.decoder.decode(), this.tally.nowUs);
    if (this.#oversized) return;
    readJsonBody(this.#parts.join(''), this.tally);
    this.#parts.length = 0;
  }

  #take(text: string, nowUs: number): void {
    if (text.length === 0 || this.#oversized) return;
    this.lastEventAtUs = nowUs;

    this.#chars += text.length;
    if (this.#chars > this.#maxBufferChars) {
      this.#oversized = true;
      this.#parts.length = 0;
      this.tally.fail({ kind: 'oversized', limitChars: this.#maxBufferChars });
      return;
    }
    this.#parts.push(text);
  }
}

/** The data of an `event: error`, as JSON when it is JSON, else as the plain text it is. */
function parseErrorData(data: string): unknown {
  const value = parseJson(data);
  return value === NOT_JSON ? data : value;
}

function nonNegative(value: number): number {
  return Number.isNaN(value) || value < 0 ? 0 : value;
}
