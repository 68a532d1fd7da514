import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import {
  ProtocolError,
  parseHeaderLines,
  ResponseParser,
  type ResponseSink,
} from './response-parser.ts';

/**
 * The fast HTTP/1.1 client: a small pool of `net` sockets that writes each request's
 * prebuilt bytes as they are and reads answers with a minimal parser. It calls the same
 * handler methods as undici's `dispatch` (onRequestStart, onResponseStart, onResponseData,
 * onResponseEnd, onResponseError) with undici's error codes, so an HttpExchange cannot tell
 * which client carried it; the engine's tests run against both.
 *
 * What it keeps from undici: the connection limit, pipelining of idempotent requests only
 * (a POST waits for an idle connection), headers and body timeouts on the request at the
 * head of a connection, the server's `Keep-Alive: timeout` hint (a connection idle past it
 * less one second is closed rather than reused), and on a connection's loss the head
 * request fails while the idempotent ones written behind it are sent again elsewhere.
 * What it adds: `connect(n)` opens connections before any request, so a run's first second
 * does not pay for them.
 */

export interface FastPoolOptions {
  /** `http://host:port`: plain HTTP only (TLS goes through undici). */
  origin: string;
  connections: number;
  pipelining: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Longest a connection is kept idle when the server gives no Keep-Alive hint. */
  keepAliveMaxMs: number;
  localAddress?: string;
}

/**
 * undici's handler, plus two optional methods of the fast client's own. A handler that has
 * `onResponseHead` gets the head's text in place of onResponseStart's parsed headers, and
 * parses them (parseHeaderLines) only if it reads them. Most load runs never do.
 */
export interface FastHandler extends Dispatcher.DispatchHandler {
  onResponseHead?(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    head: string,
    linesFrom: number,
  ): void;
  /**
   * In place of `onResponseData`: the chunk is a view of the pool's read buffer, valid only
   * during the call (a handler that keeps it must copy it). Spares a copy of every chunk.
   */
  onResponseView?(controller: Dispatcher.DispatchController, view: Buffer): void;
}

type Handler = FastHandler;

/**
 * How long before the server's keep-alive timeout an idle connection is given up (undici 7's
 * `keepAliveTimeoutThreshold` default).
 */
const KEEP_ALIVE_MARGIN_MS = 2_000;

function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;
const CLOSED = socketError('UND_ERR_CLOSED', 'the pool was closed');

/** One request through the pool; it is also the controller its handler is given. */
class Entry implements Dispatcher.DispatchController {
  readonly bytes: Buffer;
  readonly handler: Handler;
  readonly idempotent: boolean;
  readonly isHead: boolean;
  readonly closesAfter: boolean;
  connection: Connection | undefined;
  #aborted = false;
  #reason: Error | null = null;
  readonly #pool: FastPool;

  constructor(
    pool: FastPool,
    bytes: Buffer,
    handler: Handler,
    idempotent: boolean,
    isHead: boolean,
    closesAfter: boolean,
  ) {
    this.#pool = pool;
    this.bytes = bytes;
    this.handler = handler;
    this.idempotent = idempotent;
    this.isHead = isHead;
    this.closesAfter = closesAfter;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return false;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /**
   * Ends the request: a queued one is dropped; a written one costs its connection (HTTP/1.1
   * has no other way to take a request back), as in undici. The handler is not called again.
   */
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.connection?.abandon(this);
  }

  /** Reading is never paused: the engine consumes every chunk as it arrives. */
  pause(): void {}

  resume(): void {}

  /** Fails the request with `error` (unless it was aborted). */
  fail(error: Error): void {
    this.connection = undefined;
    if (this.#aborted) return;
    this.#aborted = true;
    this.handler.onResponseError?.(this, error);
  }

  get pool(): FastPool {
    return this.#pool;
  }
}

enum Phase {
  Connecting,
  Open,
  Closed,
}

/**
 * Where every connection's reads land (`onread`): each read is parsed before the next one is
 * made, so one buffer serves them all, and no Buffer or stream bookkeeping is allocated per
 * read. Whatever outlives a read is copied out of it: a head split across reads (the parser),
 * a body chunk (`onBody`).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

class Connection implements ResponseSink {
  readonly socket: net.Socket;
  /** Requests written and not yet answered, oldest first. */
  readonly inFlight: Entry[] = [];
  phase = Phase.Connecting;
  /** No more requests go on it (the server or a request asked to close). */
  closing = false;
  /** Whether it sits in the pool's ready list. */
  listed = false;
  /** When the current deadline passes (performance.now ms; 0: none) and what it means. */
  deadlineMs: number;
  deadlineCode = 'UND_ERR_CONNECT_TIMEOUT';
  idleSinceMs = 0;
  keepAliveMs: number;
  /**
   * Whether the socket's 'close' was emitted (its handle closed). `socket.closed` is no
   * guide: it turns true as soon as destroy() is called.
   */
  socketClosed = false;
  readonly #parser = new ResponseParser(this);
  readonly #pool: FastPool;
  #current: Entry | undefined;
  /** The last Keep-Alive hint read (servers repeat theirs on every answer). */
  #lastHint: string | undefined;
  /** Who waits for the connect (FastPool.connect calls may overlap). */
  #connected: Array<(error?: Error) => void> = [];

  constructor(pool: FastPool, host: string, port: number, options: FastPoolOptions) {
    this.#pool = pool;
    this.keepAliveMs = options.keepAliveMaxMs;
    this.deadlineMs = performance.now() + options.connectTimeoutMs;
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number, buffer: Uint8Array) => {
          this.#onData((buffer as Buffer).subarray(0, bytes));
          return true;
        },
      },
    });
    this.socket.on('connect', () => this.#onConnect());
    this.socket.on('end', () => this.#lost(socketError('UND_ERR_SOCKET', 'other side closed')));
    this.socket.on('error', (error: Error) => this.#lost(error));
    this.socket.on('close', () => {
      this.socketClosed = true;
      this.#lost(socketError('UND_ERR_SOCKET', 'socket closed'));
    });
  }

  /** Resolves (or rejects) once connected; for `FastPool.connect`. */
  whenConnected(): Promise<void> {
    if (this.phase === Phase.Open) return Promise.resolve();
    if (this.phase === Phase.Closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.#connected.push((error) => (error === undefined ? resolve() : reject(error)));
    });
  }

  /** Room for one more request of this kind. */
  canTake(entry: Entry, pipelining: number): boolean {
    if (this.phase !== Phase.Open || this.closing) return false;
    const queued = this.inFlight.length;
    if (queued === 0) return true;
    if (queued >= pipelining || !entry.idempotent) return false;
    return (this.inFlight[queued - 1] as Entry).idempotent;
  }

  /** Idle for longer than the server keeps a connection (less the margin). */
  idlePast(nowMs: number): boolean {
    return this.inFlight.length === 0 && nowMs - this.idleSinceMs > this.keepAliveMs;
  }

  /** No more requests go on it; it closes once the server has seen our end. */
  retire(): void {
    this.closing = true;
    this.socket.end();
  }

  /** Room for one more idempotent request (the ready list keeps such connections). */
  canTakeAny(pipelining: number): boolean {
    if (this.phase !== Phase.Open || this.closing) return false;
    const queued = this.inFlight.length;
    return queued === 0 || (queued < pipelining && (this.inFlight[queued - 1] as Entry).idempotent);
  }

  /** Writes `entry` (its handler may still abort it in onRequestStart: then nothing is sent). */
  write(entry: Entry, nowMs: number): void {
    entry.handler.onRequestStart?.(entry, {});
    if (entry.aborted) return;
    entry.connection = this;
    if (this.inFlight.length === 0) {
      this.deadlineMs = nowMs + this.#pool.options.headersTimeoutMs;
      this.deadlineCode = 'UND_ERR_HEADERS_TIMEOUT';
    }
    this.inFlight.push(entry);
    if (entry.closesAfter) this.closing = true;
    this.socket.write(entry.bytes);
  }

  /**
   * A written request was aborted: the connection is given up (its answer would still come)
   * and the idempotent requests behind it are sent again elsewhere; none of them fails.
   */
  abandon(entry: Entry): void {
    if (this.inFlight.indexOf(entry) === -1) return;
    this.#lost(socketError('UND_ERR_ABORTED', 'request aborted'), true);
  }

  /** A deadline passed: the request at the head fails with its timeout code. */
  timeOut(): void {
    const code = this.deadlineCode;
    const what =
      code === 'UND_ERR_CONNECT_TIMEOUT'
        ? 'connect timeout'
        : code === 'UND_ERR_HEADERS_TIMEOUT'
          ? 'headers timeout'
          : 'body timeout';
    this.#lost(socketError(code, what));
  }

  onHead(
    status: number,
    head: string,
    linesFrom: number,
    keepAlive: boolean,
    keepAliveHint: string | undefined,
  ): boolean {
    const entry = this.inFlight[0];
    if (entry === undefined) {
      throw new ProtocolError('HPE_INVALID_CONSTANT', 'a response with no request');
    }
    this.#current = entry;
    if (!keepAlive) this.closing = true;
    if (keepAliveHint !== undefined && keepAliveHint !== this.#lastHint) {
      this.#lastHint = keepAliveHint;
      const match = /timeout=(\d+)/i.exec(keepAliveHint);
      if (match !== null) {
        const serverMs = Number(match[1]) * 1_000 - KEEP_ALIVE_MARGIN_MS;
        this.keepAliveMs = Math.min(this.#pool.options.keepAliveMaxMs, serverMs);
      }
    }
    this.deadlineMs = performance.now() + this.#pool.options.bodyTimeoutMs;
    this.deadlineCode = 'UND_ERR_BODY_TIMEOUT';
    if (!entry.aborted) {
      const handler = entry.handler;
      if (handler.onResponseHead !== undefined) {
        handler.onResponseHead(entry, status, head, linesFrom);
      } else {
        handler.onResponseStart?.(entry, status, parseHeaderLines(head, linesFrom));
      }
    }
    return entry.isHead;
  }

  onBody(chunk: Buffer): void {
    const entry = this.#current;
    if (entry === undefined) return;
    this.deadlineMs = performance.now() + this.#pool.options.bodyTimeoutMs;
    if (entry.aborted) return;
    const handler = entry.handler;
    if (handler.onResponseView !== undefined) handler.onResponseView(entry, chunk);
    // A copy: the chunk lies in the shared read buffer, and a handler may keep what it gets.
    else handler.onResponseData?.(entry, Buffer.from(chunk));
  }

  onEnd(keepAlive: boolean): void {
    const entry = this.inFlight.shift();
    this.#current = undefined;
    if (!keepAlive) this.closing = true;
    const nowMs = performance.now();
    if (this.inFlight.length > 0) {
      this.deadlineMs = nowMs + this.#pool.options.headersTimeoutMs;
      this.deadlineCode = 'UND_ERR_HEADERS_TIMEOUT';
    } else {
      this.deadlineMs = 0;
      this.idleSinceMs = nowMs;
    }
    if (this.closing) {
      // The server (or the request) closes after this answer: what was written behind it
      // goes elsewhere, and nothing fails.
      this.#lost(socketError('UND_ERR_SOCKET', 'closed after the response'), true);
    } else {
      // Free before the handler hears, so a request it sends at once can use this connection.
      this.#pool.released(this);
    }
    if (entry !== undefined) {
      entry.connection = undefined;
      if (!entry.aborted) entry.handler.onResponseEnd?.(entry, NO_TRAILERS);
    }
  }

  #onConnect(): void {
    this.phase = Phase.Open;
    this.deadlineMs = 0;
    this.idleSinceMs = performance.now();
    for (const settle of this.#connected.splice(0)) settle();
    this.#pool.released(this);
  }

  #onData(chunk: Buffer): void {
    // Pipelined answers arrive together and their successors are sent from their handlers:
    // corked, those requests leave in one write.
    const cork = this.#pool.options.pipelining > 1;
    if (cork) this.socket.cork();
    try {
      this.#parser.execute(chunk);
    } catch (error) {
      this.#lost(
        error instanceof ProtocolError
          ? error
          : socketError('HPE_USER', error instanceof Error ? error.message : String(error)),
      );
    } finally {
      if (cork) this.socket.uncork();
    }
  }

  /**
   * The connection is gone (or is being given up). The request at the head fails with
   * `error` unless `quiet`; idempotent requests behind it go back to the pool.
   */
  #lost(error: Error, quiet = false): void {
    if (this.phase === Phase.Closed) return;
    const wasConnecting = this.phase === Phase.Connecting;
    this.phase = Phase.Closed;
    // A body that runs until close ends well when the server closes (not on a reset or a
    // timeout: a stalled stream is a failure).
    const closedByServer = (error as { code?: string }).code === 'UND_ERR_SOCKET';
    if (closedByServer && this.#parser.readsUntilClose && this.#parser.finish()) quiet = true;
    this.socket.destroy();
    for (const settle of this.#connected.splice(0)) settle(error);
    const entries = this.inFlight.splice(0);
    const retry: Entry[] = [];
    entries.forEach((entry, index) => {
      if (entry.aborted) return;
      if (index === 0 && !quiet) entry.fail(error);
      else if (entry.idempotent) retry.push(entry);
      else entry.fail(error);
    });
    this.#pool.closed(this, retry, wasConnecting ? error : undefined);
  }
}

/**
 * A pool of fast connections to one origin. `dispatch(bytes, handler, …)` sends prebuilt
 * request bytes; `connect(n)` opens connections ahead; `destroy()` closes everything and
 * fails what is still queued.
 */
export class FastPool {
  readonly options: FastPoolOptions;
  readonly #host: string;
  readonly #port: number;
  readonly #all = new Set<Connection>();
  /** Sockets given up and not yet closed (destroy() waits for them too). */
  readonly #closing = new Set<Connection>();
  /** Open connections that may have room, most recently freed last. */
  readonly #ready: Connection[] = [];
  /** Requests waiting for a connection, oldest first (`#head` is the next). */
  #pending: Entry[] = [];
  #head = 0;
  #connecting = 0;
  #sweep: NodeJS.Timeout | undefined;
  #destroyed = false;

  constructor(options: FastPoolOptions) {
    const url = new URL(options.origin);
    if (url.protocol !== 'http:') throw new TypeError('the fast client speaks plain HTTP only');
    this.options = options;
    this.#host = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(url.port || 80);
    this.hostHeader = url.host;
  }

  /** The Host header's value for this origin (`127.0.0.1:8080`). */
  readonly hostHeader: string;

  get openConnections(): number {
    return this.#all.size;
  }

  /**
   * Sends `bytes` (one whole request) and reports to `handler` as undici would. Returns
   * false when the pool is destroyed (the handler is told, as with undici).
   */
  dispatch(
    bytes: Buffer,
    handler: Handler,
    idempotent: boolean,
    isHead: boolean,
    closesAfter: boolean,
  ): boolean {
    const entry = new Entry(this, bytes, handler, idempotent, isHead, closesAfter);
    if (this.#destroyed) {
      entry.fail(CLOSED);
      return false;
    }
    this.#place(entry);
    return true;
  }

  /**
   * Opens connections until `count` are open or opening (at most the pool's limit) and
   * resolves when each has connected or failed, with how many are open and the first error.
   */
  async connect(count: number): Promise<{ open: number; error: Error | undefined }> {
    const waits: Promise<void>[] = [];
    for (const connection of this.#all) waits.push(connection.whenConnected());
    while (this.#all.size < Math.min(count, this.options.connections)) {
      waits.push(this.#open().whenConnected());
    }
    const outcomes = await Promise.allSettled(waits);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    return {
      open: outcomes.filter((outcome) => outcome.status === 'fulfilled').length,
      error: failed === undefined ? undefined : (failed.reason as Error),
    };
  }

  /** Closes every connection; queued and unanswered requests fail as closed. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    clearInterval(this.#sweep);
    const pending = this.#pending.slice(this.#head);
    this.#pending = [];
    this.#head = 0;
    for (const entry of pending) entry.fail(CLOSED);
    // Wait for every socket's close, those given up earlier included, so that when the run
    // ends the target has been told of each one (a stalled stream's, say).
    const connections = [...this.#closing, ...this.#all];
    await Promise.all(
      connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            if (connection.socketClosed) resolve();
            else connection.socket.once('close', () => resolve());
            connection.socket.destroy();
          }),
      ),
    );
    this.#closing.clear();
    // One more turn of the loop, so that a target in this process (a test's, the embedded
    // demo) reads those closes before the run reports: they land in its next poll phase.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** A connection has room again (connected, or an answer ended). */
  released(connection: Connection): void {
    const pipelining = this.options.pipelining;
    const nowMs = performance.now();
    while (this.#head < this.#pending.length) {
      const entry = this.#pending[this.#head] as Entry;
      if (entry.aborted) {
        this.#shiftPending();
        continue;
      }
      if (!connection.canTake(entry, pipelining)) break;
      this.#shiftPending();
      connection.write(entry, nowMs);
    }
    if (!connection.listed && connection.canTakeAny(pipelining)) {
      connection.listed = true;
      this.#ready.push(connection);
    }
  }

  /** A connection is gone: `retry` go back to the front of the queue, in order. */
  closed(connection: Connection, retry: Entry[], connectError: Error | undefined): void {
    this.#all.delete(connection);
    if (!connection.socketClosed) {
      this.#closing.add(connection);
      connection.socket.once('close', () => this.#closing.delete(connection));
    }
    if (connection.listed) {
      connection.listed = false;
      const at = this.#ready.indexOf(connection);
      if (at !== -1) this.#ready.splice(at, 1);
    }
    if (connectError !== undefined) {
      this.#connecting--;
      // As undici: a failed connect fails the requests that were waiting for it.
      for (let n = 0; n < this.options.pipelining && this.#head < this.#pending.length; n++) {
        const entry = this.#shiftPending() as Entry;
        if (entry.aborted) n--;
        else entry.fail(connectError);
      }
    }
    if (retry.length > 0) {
      this.#pending = [...retry, ...this.#pending.slice(this.#head)];
      this.#head = 0;
    }
    if (this.#destroyed) return;
    this.#openForPending();
  }

  /** Checks deadlines (a sweep, rather than a timer per request) and idle connections. */
  #check = (): void => {
    const nowMs = performance.now();
    for (const connection of this.#all) {
      if (connection.deadlineMs !== 0 && nowMs >= connection.deadlineMs) {
        connection.timeOut();
      } else if (connection.phase === Phase.Open && connection.idlePast(nowMs)) {
        connection.retire();
      }
    }
  };

  #place(entry: Entry): void {
    const pipelining = this.options.pipelining;
    const ready = this.#ready;
    const nowMs = performance.now();
    while (ready.length > 0) {
      const connection = ready[ready.length - 1] as Connection;
      if (connection.phase === Phase.Open && !connection.closing) {
        if (connection.idlePast(nowMs)) {
          // Idle past the server's keep-alive: it may be closing it right now.
          ready.pop();
          connection.listed = false;
          connection.retire();
          continue;
        }
        if (connection.canTake(entry, pipelining)) {
          connection.write(entry, nowMs);
          if (!connection.canTakeAny(pipelining)) {
            ready.pop();
            connection.listed = false;
          }
          return;
        }
        if (!entry.idempotent && connection.canTakeAny(pipelining)) break;
      }
      ready.pop();
      connection.listed = false;
    }
    this.#pending.push(entry);
    this.#openForPending();
  }

  /** Opens connections for the queue, as far as the limit allows. */
  #openForPending(): void {
    const waiting = this.#pending.length - this.#head;
    let want = Math.ceil(waiting / this.options.pipelining) - this.#connecting;
    while (want > 0 && this.#all.size < this.options.connections) {
      this.#open();
      want--;
    }
    if (waiting === 0 && this.#head > 0) {
      this.#pending = [];
      this.#head = 0;
    }
  }

  #open(): Connection {
    const connection = new Connection(this, this.#host, this.#port, this.options);
    this.#all.add(connection);
    this.#connecting++;
    connection.socket.once('connect', () => this.#connecting--);
    if (this.#sweep === undefined) {
      const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs } = this.options;
      const shortest = Math.min(connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs);
      this.#sweep = setInterval(this.#check, Math.min(250, Math.max(2, shortest / 20)));
      this.#sweep.unref();
    }
    return connection;
  }

  #shiftPending(): Entry | undefined {
    const entry = this.#pending[this.#head];
    this.#pending[this.#head] = undefined as unknown as Entry;
    this.#head++;
    if (this.#head > 1_024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    return entry;
  }
}
