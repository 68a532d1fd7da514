import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import { afterEach } from 'vitest';
import { FastPool, type FastPoolOptions, requestBytes } from '../../src/engine/fast-http/index.ts';

/**
 * Test helpers for the fast client's conformance suite: a raw TCP server that writes crafted
 * bytes and counts what it sees, a handler that records what a client reports, and one
 * exchange run through the fast pool or through undici's Pool with the same settings.
 */

/** One request as the raw server read it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  head: string;
  body: Buffer;
  /** Which connection (0 = the first accepted) it came on. */
  connection: number;
  /** How many earlier requests on the same connection were still unanswered when it came. */
  pendingBefore: number;
  atMs: number;
}

/** What a raw server's request handler is given. */
export interface RawExchange {
  request: SeenRequest;
  socket: net.Socket;
  /**
   * Writes `bytes` once every earlier request on the connection has been answered, and
   * counts this one as answered (for `pendingBefore`).
   */
  answer(bytes: string | Buffer): void;
}

export interface RawServer {
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  readonly requests: SeenRequest[];
  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number): Promise<void>;
  /** Resolves once `count` connections have been accepted. */
  waitForConnections(count: number): Promise<void>;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One request's answer, held until the answers before it on the connection are out. */
interface Slot {
  bytes: Array<string | Buffer> | undefined;
  sent: boolean;
}

/**
 * A node:net server on 127.0.0.1, port 0, that splits what arrives into requests (head, then
 * a Content-Length body) and calls `onRequest` for each, in order. The handler writes
 * whatever bytes the case needs.
 */
export async function startRawServer(
  onRequest: (exchange: RawExchange) => void,
): Promise<RawServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const waiters: Array<() => void> = [];
  let connections = 0;
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };

  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let pending = 0;
    // Answers go out in request order, as HTTP/1.1 requires, whenever each is given.
    const slots: Slot[] = [];
    const flush = () => {
      while (slots[0]?.bytes !== undefined) {
        const slot = slots.shift() as Slot;
        slot.sent = true;
        for (const bytes of slot.bytes ?? []) if (!socket.destroyed) socket.write(bytes);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf(HEAD_END);
        if (end === -1) return;
        const head = buffered.toString('latin1', 0, end);
        const [requestLine = '', ...lines] = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length);
        buffered = buffered.subarray(end + 4 + length);
        const [method = '', path = ''] = requestLine.split(' ');
        const request: SeenRequest = {
          method,
          path,
          headers,
          head,
          body: Buffer.from(body),
          connection,
          pendingBefore: pending,
          atMs: performance.now(),
        };
        pending++;
        requests.push(request);
        const slot: Slot = { bytes: undefined, sent: false };
        slots.push(slot);
        onRequest({
          request,
          socket,
          answer(bytes) {
            if (slot.bytes === undefined) pending--;
            if (slot.sent) {
              if (!socket.destroyed) socket.write(bytes);
              return;
            }
            slot.bytes = [...(slot.bytes ?? []), bytes];
            flush();
          },
        });
        wake();
      }
    });
    wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  const waitFor = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (done() ? resolve() : waiters.push(check));
      check();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    requests,
    waitForRequests: (count) => waitFor(() => requests.length >= count),
    waitForConnections: (count) => waitFor(() => connections >= count),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What a client reported for one request, in a form both clients can be compared on. */
export interface Outcome {
  /** Every status given to onResponseStart, in order (1xx included, if reported). */
  statuses: number[];
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The error's code, or '' when the request ended with a response. */
  errorCode: string;
  error: Error | undefined;
  /** The handler methods called, in order (onResponseData once per chunk). */
  calls: string[];
  /** performance.now() when the request ended or failed. */
  endMs: number;
}

/** A dispatch handler that records everything and resolves `done` when the request ends. */
export class Recorder implements Dispatcher.DispatchHandler {
  readonly calls: string[] = [];
  readonly statuses: number[] = [];
  status = 0;
  headers: IncomingHttpHeaders = {};
  readonly chunks: Buffer[] = [];
  error: Error | undefined;
  trailers: IncomingHttpHeaders | undefined;
  controller: Dispatcher.DispatchController | undefined;
  endMs = 0;
  readonly done: Promise<Outcome>;
  /** Called in onRequestStart (a test aborts the request there, as HttpExchange does). */
  onStart: ((controller: Dispatcher.DispatchController) => void) | undefined;
  #resolve!: (outcome: Outcome) => void;

  constructor() {
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get ended(): boolean {
    return this.endMs !== 0;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.calls.push('start');
    this.controller = controller;
    this.onStart?.(controller);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.calls.push(`head ${statusCode}`);
    this.statuses.push(statusCode);
    if (statusCode >= 200) {
      this.status = statusCode;
      this.headers = headers;
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.calls.push('data');
    this.chunks.push(Buffer.from(chunk));
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.calls.push('end');
    this.trailers = trailers;
    this.#settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.calls.push('error');
    this.error = error;
    this.#settle();
  }

  outcome(): Outcome {
    return {
      statuses: this.statuses,
      status: this.status,
      headers: this.headers,
      body: Buffer.concat(this.chunks).toString('utf8'),
      errorCode: this.error === undefined ? '' : String((this.error as { code?: unknown }).code),
      error: this.error,
      calls: this.calls,
      endMs: this.endMs,
    };
  }

  #settle(): void {
    if (this.endMs === 0) this.endMs = performance.now();
    this.#resolve(this.outcome());
  }
}

/** A request as a test writes it. */
export interface TestRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | null;
}

/** The settings both clients are given (undici's names mapped to the fast pool's). */
export interface ClientSettings {
  connections?: number;
  pipelining?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

const DEFAULTS = {
  connections: 1,
  pipelining: 1,
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 5_000,
  bodyTimeoutMs: 5_000,
};

/** One client under test, fast or undici, with one `send` for both. */
export interface Client {
  name: 'fast' | 'undici';
  send(request: TestRequest, recorder?: Recorder): Recorder;
  close(): Promise<void>;
}

function isIdempotent(method: string): boolean {
  return ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'].includes(method);
}

export function fastClient(
  origin: string,
  settings: ClientSettings = {},
): Client & {
  pool: FastPool;
} {
  const options: FastPoolOptions = { origin, ...DEFAULTS, ...settings, keepAliveMaxMs: 30_000 };
  const pool = new FastPool(options);
  return {
    name: 'fast',
    pool,
    send(request, recorder = new Recorder()) {
      const method = request.method ?? 'GET';
      const headers = request.headers ?? {};
      const bytes = requestBytes(pool.hostHeader, {
        method,
        path: request.path ?? '/',
        headers,
        body: request.body ?? null,
      });
      const closes = Object.entries(headers).some(
        ([name, value]) => name.toLowerCase() === 'connection' && value === 'close',
      );
      pool.dispatch(bytes, recorder, isIdempotent(method), method === 'HEAD', closes);
      return recorder;
    },
    close: () => pool.destroy(),
  };
}

export function undiciClient(
  origin: string,
  settings: ClientSettings = {},
): Client & {
  pool: Pool;
} {
  const merged = { ...DEFAULTS, ...settings };
  const pool = new Pool(origin, {
    connections: merged.connections,
    pipelining: merged.pipelining,
    headersTimeout: merged.headersTimeoutMs,
    bodyTimeout: merged.bodyTimeoutMs,
    keepAliveTimeout: 30_000,
    connect: { timeout: merged.connectTimeoutMs },
  });
  return {
    name: 'undici',
    pool,
    send(request, recorder = new Recorder()) {
      pool.dispatch(
        {
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          headers: request.headers ?? {},
          body: request.body ?? null,
          // undici otherwise holds a pipeline until each answer's headers arrive; the fast
          // client writes pipelined requests at once, so compare like with like.
          blocking: false,
        },
        recorder,
      );
      return recorder;
    },
    close: () => pool.destroy(),
  };
}

/** Both clients, fast first, for a test that runs one exchange through each. */
export function bothClients(origin: string, settings: ClientSettings = {}): Client[] {
  return [fastClient(origin, settings), undiciClient(origin, settings)];
}

/** Sends one request through `client` and waits for its outcome; the client is closed. */
export async function exchange(client: Client, request: TestRequest = {}): Promise<Outcome> {
  try {
    return await client.send(request).done;
  } finally {
    await client.close();
  }
}

/** The same request through a fresh fast pool and a fresh undici pool, one after the other. */
export async function throughBoth(
  origin: string,
  request: TestRequest = {},
  settings: ClientSettings = {},
): Promise<{ fast: Outcome; undici: Outcome }> {
  const fast = await exchange(fastClient(origin, settings), request);
  const undici = await exchange(undiciClient(origin, settings), request);
  return { fast, undici };
}

/** The parts of an outcome that must match between the two clients. */
export function comparable(outcome: Outcome) {
  return {
    status: outcome.status,
    headers: outcome.headers,
    body: outcome.body,
    errorCode: outcome.errorCode,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Closable {
  close(): Promise<void>;
}

/**
 * What a test file makes and must close: called once at the top of the file, it closes after
 * each test the clients (first) and the servers it was handed.
 */
export function closedAfterEach(): {
  raw(onRequest: (exchange: RawExchange) => void): Promise<RawServer>;
  client<T extends Closable>(client: T): T;
  server<T extends Closable>(server: T): T;
} {
  let clients: Closable[] = [];
  let servers: Closable[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(servers.map((server) => server.close()));
    clients = [];
    servers = [];
  });
  const server = <T extends Closable>(made: T): T => {
    servers.push(made);
    return made;
  };
  return {
    raw: async (onRequest) => server(await startRawServer(onRequest)),
    client: (made) => {
      clients.push(made);
      return made;
    },
    server,
  };
}
