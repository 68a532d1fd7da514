import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ChatStreamReader, ChatStreamResult } from '../stream/index.ts';
import type { Clock } from './clock.ts';
import type { DeadlineQueue } from './deadline-queue.ts';
import { type FastHandler, parseHeaderLines } from './fast-http/index.ts';
import { classifyError, type RequestFailure } from './request-failure.ts';

/** A request ready for undici: built once, sent as is. */
export interface PreparedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  /** The `name` tag (k6's): the path unless the request names itself. */
  name: string;
  tags: Readonly<Record<string, string>>;
  idempotent: boolean;
}

/**
 * What every exchange of a flow shares: built once per flow, not once per request (a
 * request's own parts, such as its stream reader, are constructor arguments).
 */
export interface ExchangeOptions {
  clock: Clock;
  maxBodyBytes: number;
  /** Whether to keep the body for checks and hooks; otherwise it is counted and dropped. */
  keepBody: boolean;
  /** The flow's whole-request timeouts (`timeouts.request`), one timer for all. */
  deadlines: DeadlineQueue<HttpExchange>;
  /** A chat stream's idle timeout, reported in a stall record. */
  idleTimeoutMs: number;
  /** Abort this long after the response headers, as a client that leaves (undefined: stay). */
  abandonAfterMs: number | undefined;
  onDone(exchange: HttpExchange): void;
}

const TIMED_OUT = Object.assign(new Error('request timed out'), { code: 'LP_REQUEST_TIMEOUT' });
const STOPPED = Object.assign(new Error('run stopped'), { code: 'LP_ABORTED' });
const ABANDONED = Object.assign(new Error('client left'), { code: 'LP_ABANDONED' });

/**
 * One request in flight, as an undici dispatch handler. It timestamps each phase with the
 * injected clock and ends exactly once, with a response or a failure record:
 * - `intendedUs`: when the schedule meant to send it (latency is measured from here);
 * - `dispatchUs`: when the engine handed it to undici (send lag = dispatch − intended);
 * - `startUs`: when undici wrote it to a connected socket (http_req_duration starts here);
 * - `headersUs`, `endUs`: response headers and the end of the body (or the failure).
 */
export class HttpExchange implements FastHandler {
  readonly request: PreparedRequest;
  readonly intendedUs: number;
  readonly dispatchUs: number;
  readonly iteration: number;
  startUs = 0;
  headersUs = 0;
  endUs = 0;
  status = 0;
  failure: RequestFailure | undefined;
  streamResult: ChatStreamResult | undefined;
  bodyBytes = 0;
  /** Extra data the flow attaches (identity, vu), read back when the exchange ends. */
  slot: number;
  #headers: IncomingHttpHeaders | undefined;
  /** The fast client's response head, parsed into #headers only when read. */
  #head = '';
  #linesFrom = -1;
  #chunks: Buffer[] | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #leaveTimer: NodeJS.Timeout | undefined;
  #done = false;
  readonly #options: ExchangeOptions;
  readonly #stream: ChatStreamReader | undefined;

  constructor(
    request: PreparedRequest,
    intendedUs: number,
    iteration: number,
    slot: number,
    options: ExchangeOptions,
    stream?: ChatStreamReader,
  ) {
    this.request = request;
    this.intendedUs = intendedUs;
    this.iteration = iteration;
    this.slot = slot;
    this.#options = options;
    this.#stream = stream;
    this.dispatchUs = options.clock.nowUs();
    this.#chunks = options.keepBody ? [] : undefined;
    options.deadlines.add(this);
  }

  get done(): boolean {
    return this.#done;
  }

  /** The response headers as undici gives them (empty before, or without, a response). */
  get headers(): IncomingHttpHeaders {
    if (this.#headers === undefined) {
      this.#headers = this.#linesFrom === -1 ? {} : parseHeaderLines(this.#head, this.#linesFrom);
    }
    return this.#headers;
  }

  /** The kept body as text ('' when bodies are not kept). */
  bodyText(): string {
    if (this.#chunks === undefined || this.#chunks.length === 0) return '';
    return Buffer.concat(this.#chunks).toString('utf8');
  }

  /** The flow's request timeout passed (DeadlineQueue). */
  expire(): void {
    this.abort(TIMED_OUT);
  }

  /** Stops the exchange: it ends now as timed out (or aborted when the run stops). */
  abort(reason: Error = STOPPED): void {
    if (this.#done) return;
    // Finish first: undici may report the abort back through onResponseError at once.
    this.#finish(classifyError(reason));
    this.#controller?.abort(reason);
  }

  /** The client refused the request before sending it (undici's invalid-argument case). */
  refuse(error: Error): void {
    this.#finish(classifyError(error));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) {
      controller.abort(STOPPED);
      return;
    }
    this.startUs = this.#options.clock.nowUs();
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (this.#done || statusCode < 200) return;
    this.#headers = headers;
    this.#started(statusCode);
  }

  /** The fast client's response head (see FastHandler): headers are parsed when read. */
  onResponseHead(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    head: string,
    linesFrom: number,
  ): void {
    if (this.#done) return;
    this.#head = head;
    this.#linesFrom = linesFrom;
    this.#started(statusCode);
  }

  #started(statusCode: number): void {
    this.status = statusCode;
    this.headersUs = this.#options.clock.nowUs();
    const leaveMs = this.#options.abandonAfterMs;
    if (leaveMs !== undefined) {
      this.#leaveTimer = setTimeout(() => this.#leave(), leaveMs);
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#body(chunk, false);
  }

  /** The fast client's body chunk (see FastHandler): only a kept chunk is copied. */
  onResponseView(_controller: Dispatcher.DispatchController, view: Buffer): void {
    this.#body(view, true);
  }

  #body(chunk: Buffer, borrowed: boolean): void {
    if (this.#done) return;
    this.bodyBytes += chunk.length;
    // Stream readers decode what they are given at once and keep no reference to it.
    if (this.#stream !== undefined) this.#stream.push(chunk, this.#options.clock.nowUs());
    const chunks = this.#chunks;
    if (chunks !== undefined && this.bodyBytes - chunk.length < this.#options.maxBodyBytes) {
      chunks.push(borrowed ? Buffer.from(chunk) : chunk);
    }
  }

  onResponseEnd(): void {
    if (this.#done) return;
    const stream = this.#stream;
    const now = this.#options.clock.nowUs();
    if (stream !== undefined) this.streamResult = stream.end(now);
    this.#finish(undefined, now);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#done) return;
    let failure = classifyError(error);
    const stream = this.#stream;
    const now = this.#options.clock.nowUs();
    if (stream !== undefined && this.status !== 0) {
      // A body timeout on a stream is a stall: no event within the flow's idle timeout.
      if (failure.kind === 'timeout' && failure.phase === 'body') {
        failure = { kind: 'stream', reason: 'stalled' };
        this.streamResult = stream.fail(
          { kind: 'stalled', idleMs: this.#options.idleTimeoutMs },
          now,
        );
      } else {
        this.streamResult = stream.fail({ kind: 'truncated' }, now);
      }
    }
    this.#finish(failure, now);
  }

  /** The client leaves mid-answer: the stream is cut, what arrived so far is kept. */
  #leave(): void {
    if (this.#done) return;
    const now = this.#options.clock.nowUs();
    if (this.#stream !== undefined) this.streamResult = this.#stream.end(now);
    this.#finish({ kind: 'abandoned' }, now);
    this.#controller?.abort(ABANDONED);
  }

  #finish(failure: RequestFailure | undefined, now = this.#options.clock.nowUs()): void {
    if (this.#done) return;
    this.#done = true;
    this.#options.deadlines.finished();
    clearTimeout(this.#leaveTimer);
    this.failure = failure;
    this.endUs = now;
    if (this.startUs === 0) this.startUs = this.dispatchUs;
    this.#options.onDone(this);
  }
}
