import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  type FastHandler,
  InvalidRequestError,
  parseHeaderLines,
  requestBytes,
} from '../../src/engine/fast-http/index.ts';
import { classifyError } from '../../src/engine/request-failure.ts';
import {
  bothClients,
  type Client,
  type ClientSettings,
  closedAfterEach,
  comparable,
  fastClient,
  type Outcome,
  type RawServer,
  Recorder,
  sleep,
  startRawServer,
  type TestRequest,
  undiciClient,
} from './wire.ts';

/**
 * The fast pool against undici's Pool: the same requests through each, with the server
 * counting connections and requests in flight, so that the engine sees the same behaviour
 * whichever client carries a run.
 */

const made = closedAfterEach();
const raw = made.raw;

function ok(body: string, extraHeaders = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`;
}

/** Answers each request with its own path as the body, after `delayMs`. */
function echoesPath(delayMs = 0, extraHeaders = ''): Promise<RawServer> {
  return raw(({ request, answer }) => {
    const send = () => answer(ok(request.path, extraHeaders));
    if (delayMs === 0) send();
    else setTimeout(send, delayMs);
  });
}

function fast(origin: string, settings?: ClientSettings) {
  return made.client(fastClient(origin, settings));
}

function both(origin: string, settings?: ClientSettings): Client[] {
  return bothClients(origin, settings).map(made.client);
}

function sendAll(client: Client, requests: TestRequest[]) {
  return Promise.all(requests.map((request) => client.send(request).done));
}

const paths = (count: number, prefix = '/r') =>
  Array.from({ length: count }, (_, i) => ({ path: `${prefix}${i}` }));

const STOP = Object.assign(new Error('run stopped'), { code: 'LP_ABORTED' });

/** A port nothing listens on (a server was there a moment ago). */
async function deadOrigin(): Promise<string> {
  const server = await startRawServer(() => {});
  const url = server.url;
  await server.close();
  return url;
}

describe('connections and pipelining', () => {
  it('keeps to the connection limit: six slow requests share two connections', async () => {
    const server = await echoesPath(40);
    for (const client of both(server.url, { connections: 2 })) {
      const before = server.connections;
      const outcomes = await sendAll(client, paths(6));
      expect(
        outcomes.map((outcome) => outcome.body),
        client.name,
      ).toEqual(paths(6).map((request) => request.path));
      expect(server.connections - before, client.name).toBe(2);
    }
    // pipelining 1: no request came while another was unanswered on its connection
    expect(server.requests.map((request) => request.pendingBefore)).toEqual(Array(12).fill(0));
  });

  it('pipelines up to the limit of idempotent requests on one connection', async () => {
    const server = await echoesPath(30);
    for (const client of both(server.url, { pipelining: 3 })) {
      const from = server.requests.length;
      const outcomes = await sendAll(client, paths(7));
      expect(outcomes.map((outcome) => outcome.body)).toEqual(paths(7).map((r) => r.path));
      const seen = server.requests.slice(from);
      expect(new Set(seen.map((request) => request.connection)).size, client.name).toBe(1);
      expect(Math.max(...seen.map((request) => request.pendingBefore)), client.name).toBe(2);
    }
  });

  it('sends a POST only on an idle connection and pipelines nothing behind it', async () => {
    const server = await echoesPath(30);
    const order: TestRequest[] = [
      { path: '/get1' },
      { path: '/get2' },
      { method: 'POST', path: '/post', body: 'x' },
      { path: '/get3' },
      { path: '/get4' },
    ];
    for (const client of both(server.url, { pipelining: 3 })) {
      const from = server.requests.length;
      const outcomes = await sendAll(client, order);
      expect(outcomes.map((outcome) => outcome.body)).toEqual(order.map((r) => r.path));
      const seen = server.requests.slice(from).map((r) => [r.method, r.pendingBefore]);
      expect(seen.slice(0, 3), client.name).toEqual([
        ['GET', 0],
        ['GET', 1],
        ['POST', 0],
      ]);
      // undici (blocking: false, as the engine sends) pipelines GETs behind the POST; the
      // fast pool is stricter and keeps them until the POST is answered.
      if (client.name === 'fast') {
        expect(seen.slice(3)).toEqual([
          ['GET', 0],
          ['GET', 1],
        ]);
      }
    }
  });

  it('opens n connections with connect(n) before any request, and uses them', async () => {
    const server = await echoesPath(30);
    const client = fast(server.url, { connections: 4 });
    const opened = await client.pool.connect(3);
    expect(opened).toEqual({ open: 3, error: undefined });
    await server.waitForConnections(3);
    await sleep(30);
    expect([server.connections, server.requests.length]).toEqual([3, 0]);
    expect(client.pool.openConnections).toBe(3);

    const outcomes = await sendAll(client, paths(3));
    expect(outcomes.map((outcome) => outcome.status)).toEqual([200, 200, 200]);
    expect(server.connections).toBe(3); // the three requests went on the open connections
  });

  it('opens no more than the pool limit with connect(n)', async () => {
    const server = await echoesPath();
    const client = fast(server.url, { connections: 2 });
    expect(await client.pool.connect(10)).toEqual({ open: 2, error: undefined });
    await server.waitForConnections(2);
    await sleep(20);
    expect(server.connections).toBe(2);
  });
});

describe('connections the server closes', () => {
  it('sends the requests behind a Connection: close answer again on a new connection', async () => {
    const server = await raw(({ request, socket }) => {
      // Answer the first request on each connection, then close; ignore the rest.
      if (request.pendingBefore > 0 || socket.writableEnded) return;
      socket.end(ok(request.path, 'Connection: close\r\n'));
    });
    for (const client of both(server.url, { pipelining: 3 })) {
      const before = server.connections;
      const outcomes = await sendAll(client, paths(4));
      expect(
        outcomes.map((outcome) => [outcome.status, outcome.body, outcome.errorCode]),
        client.name,
      ).toEqual(paths(4).map((request) => [200, request.path, '']));
      expect(server.connections - before, client.name).toBe(4);
    }
  });

  it('gives up the connection after a request that asks to close it, and the next one works', async () => {
    const seen: Array<{ port: number | undefined; connection: string | undefined }> = [];
    const server = await nodeServer((req, res) => {
      seen.push({ port: req.socket.remotePort, connection: req.headers.connection });
      res.end('done');
    });
    const client = fast(server.url, { pipelining: 2 });
    const outcomes = await sendAll(client, [
      { path: '/a', headers: { connection: 'close' } },
      { path: '/b' },
    ]);
    expect(outcomes.map((outcome) => [outcome.body, outcome.errorCode])).toEqual([
      ['done', ''],
      ['done', ''],
    ]);
    expect(seen.map((each) => each.connection)).toEqual(['close', 'keep-alive']);
    expect(seen[0]?.port).not.toBe(seen[1]?.port);
  });

  it('uses a new connection after the server closes an idle keep-alive one', async () => {
    const server = await raw(({ request, socket, answer }) => {
      answer(ok(request.path));
      setTimeout(() => socket.end(), 20);
    });
    for (const client of both(server.url)) {
      const before = server.connections;
      const first = await client.send({ path: '/one' }).done;
      await sleep(120);
      const second = await client.send({ path: '/two' }).done;
      expect([first.body, second.body, second.errorCode], client.name).toEqual([
        '/one',
        '/two',
        '',
      ]);
      expect(server.connections - before, client.name).toBe(2);
    }
  });

  it('fails a request whose connection is reset mid-answer as a reset, as undici does', async () => {
    const server = await raw(({ socket }) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.');
      setTimeout(() => socket.resetAndDestroy(), 30);
    });
    for (const client of both(server.url)) {
      const outcome = await client.send({}).done;
      expect(outcome.status, client.name).toBe(200);
      expect(outcome.body, client.name).toBe('ten bytes.');
      expect(['UND_ERR_SOCKET', 'ECONNRESET'], client.name).toContain(outcome.errorCode);
      expect(classifyError(outcome.error), client.name).toEqual({ kind: 'reset' });
    }
  });

  it('fails a request whose connection ends cleanly mid-body with UND_ERR_SOCKET', async () => {
    const server = await raw(({ socket }) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
    });
    const [fastOne, undiciOne] = both(server.url) as [Client, Client];
    const fromFast = await fastOne.send({}).done;
    const fromUndici = await undiciOne.send({}).done;
    expect(fromFast.errorCode).toBe('UND_ERR_SOCKET');
    expect(comparable(fromFast)).toEqual(comparable(fromUndici));
  });

  it('fails a request to a port nothing listens on with ECONNREFUSED, as undici does', async () => {
    const origin = await deadOrigin();
    for (const client of both(origin)) {
      const outcome = await client.send({}).done;
      expect(outcome.errorCode, client.name).toBe('ECONNREFUSED');
      expect(classifyError(outcome.error)).toEqual({ kind: 'refused' });
    }
    const client = fast(origin, { connections: 2 });
    const opened = await client.pool.connect(2);
    expect(opened.open).toBe(0);
    expect((opened.error as { code?: string } | undefined)?.code).toBe('ECONNREFUSED');
  });
});

/**
 * A port whose listener never accepts: a child process listens with a backlog of one and
 * blocks its event loop, and filler connections take the backlog, so the kernel drops
 * further SYNs and a connect attempt hangs (on loopback, unlike a black-hole address).
 */
async function unacceptingOrigin(): Promise<string> {
  const code = `
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n', () => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000);
        process.exit(0);
      });
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('error', reject);
  });
  const fillers = Array.from({ length: 4 }, () =>
    net.connect(port, '127.0.0.1').on('error', () => {}),
  );
  made.server({
    close: async () => {
      for (const filler of fillers) filler.destroy();
      child.kill();
    },
  });
  await sleep(50);
  return `http://127.0.0.1:${port}`;
}

describe('timeouts', () => {
  it('fails with UND_ERR_CONNECT_TIMEOUT when the server never accepts, as undici does', async () => {
    const origin = await unacceptingOrigin();
    const started = performance.now();
    const [fromFast, fromUndici] = await Promise.all(
      both(origin, { connectTimeoutMs: 300 }).map((client) => client.send({}).done),
    );
    expect(fromFast?.errorCode).toBe('UND_ERR_CONNECT_TIMEOUT');
    expect(fromUndici?.errorCode).toBe('UND_ERR_CONNECT_TIMEOUT');
    const fastMs = (fromFast?.endMs ?? 0) - started;
    expect(fastMs).toBeGreaterThanOrEqual(280);
    expect(fastMs).toBeLessThan(1_500);
    expect(classifyError(fromFast?.error)).toEqual({ kind: 'timeout', phase: 'connect' });
  });

  it('fails with UND_ERR_HEADERS_TIMEOUT when no head comes in time', async () => {
    const server = await raw(() => {}); // never answers
    const settings = { headersTimeoutMs: 300 };
    const started = performance.now();
    const [fromFast, fromUndici] = await Promise.all(
      both(server.url, settings).map((client) => client.send({}).done),
    );
    for (const outcome of [fromFast, fromUndici]) {
      expect(outcome?.errorCode).toBe('UND_ERR_HEADERS_TIMEOUT');
      expect(outcome?.status).toBe(0);
    }
    const fastMs = (fromFast?.endMs ?? 0) - started;
    expect(fastMs).toBeGreaterThanOrEqual(280);
    expect(fastMs).toBeLessThan(1_500);
    expect(classifyError(fromFast?.error)).toEqual({ kind: 'timeout', phase: 'headers' });
  });

  it('fails with UND_ERR_BODY_TIMEOUT when the body stops for longer than the limit', async () => {
    let lastWriteMs = 0;
    const server = await raw(({ socket }) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npar');
      lastWriteMs = performance.now();
    });
    const settings = { bodyTimeoutMs: 300 };
    const [fromFast, fromUndici] = await Promise.all(
      both(server.url, settings).map((client) => client.send({}).done),
    );
    for (const outcome of [fromFast, fromUndici]) {
      expect(outcome?.errorCode).toBe('UND_ERR_BODY_TIMEOUT');
      expect([outcome?.status, outcome?.body]).toEqual([200, 'par']);
    }
    const stalledMs = (fromFast?.endMs ?? 0) - lastWriteMs;
    expect(stalledMs).toBeGreaterThanOrEqual(250);
    expect(stalledMs).toBeLessThan(1_500);
    expect(classifyError(fromFast?.error)).toEqual({ kind: 'timeout', phase: 'body' });
  });

  it('does not time out a body that keeps coming, however long it takes in all', async () => {
    const server = await raw(({ socket }) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n');
      let sent = 0;
      const timer = setInterval(() => {
        socket.write('x');
        if (++sent === 6) clearInterval(timer);
      }, 100);
      socket.on('close', () => clearInterval(timer));
    });
    const started = performance.now();
    const outcome = await fast(server.url, { bodyTimeoutMs: 300 }).send({}).done;
    expect([outcome.status, outcome.body, outcome.errorCode]).toEqual([200, 'xxxxxx', '']);
    expect(outcome.endMs - started).toBeGreaterThan(500); // longer than the limit, in steps
  });
});

describe('aborts and destroy', () => {
  it('drops a queued request aborted when it starts: it is never sent, the rest go on', async () => {
    const server = await echoesPath(40);
    const client = fast(server.url);
    const first = client.send({ path: '/first' });
    const dropped = new Recorder();
    dropped.onStart = (controller) => controller.abort(STOP);
    client.send({ path: '/dropped' }, dropped);
    const last = client.send({ path: '/last' });
    const outcomes = await Promise.all([first.done, last.done]);
    expect(outcomes.map((outcome) => outcome.body)).toEqual(['/first', '/last']);
    expect(server.requests.map((request) => request.path)).toEqual(['/first', '/last']);
    expect(server.connections).toBe(1); // dropping it before it was written costs nothing
    expect(dropped.calls).toEqual(['start']); // told nothing more after its own abort
  });

  it('replaces the connection of an aborted in-flight request; the one behind it succeeds', async () => {
    const server = await raw(({ request, answer }) => {
      setTimeout(() => answer(ok(request.path)), request.path === '/slow' ? 200 : 10);
    });
    for (const client of both(server.url, { pipelining: 2 })) {
      const before = server.connections;
      const slow = client.send({ path: '/slow' });
      const behind = client.send({ path: '/behind' });
      await server.waitForRequests(server.requests.length + 1);
      slow.controller?.abort(STOP);
      const outcome = await behind.done;
      expect([outcome.status, outcome.body, outcome.errorCode], client.name).toEqual([
        200,
        '/behind',
        '',
      ]);
      expect(server.connections - before, client.name).toBe(2);
      expect(slow.calls, client.name).not.toContain('end');
      expect(slow.calls, client.name).not.toContain('data');
    }
  });

  it('fails what is in flight and queued on destroy(), and refuses new requests after', async () => {
    const server = await raw(() => {}); // holds every request
    const client = fast(server.url);
    const recorders = [client.send({ path: '/a' }), client.send({ path: '/b' })];
    recorders.push(client.send({ path: '/c' }));
    await server.waitForRequests(1);
    await client.pool.destroy();
    const outcomes = await Promise.all(recorders.map((recorder) => recorder.done));
    expect(outcomes.map((outcome) => outcome.errorCode)).toEqual([
      'UND_ERR_SOCKET',
      'UND_ERR_CLOSED',
      'UND_ERR_CLOSED',
    ]);
    for (const outcome of outcomes) expect(classifyError(outcome.error).kind).toBe('reset');

    const late = new Recorder();
    expect(
      client.pool.dispatch(Buffer.from('GET / HTTP/1.1\r\n\r\n'), late, true, false, false),
    ).toBe(false);
    expect(late.outcome().errorCode).toBe('UND_ERR_CLOSED');
    await sleep(20);
    expect([server.open, server.requests.length]).toEqual([0, 1]);
  });
});

describe('the Keep-Alive timeout hint', () => {
  /** Two requests `gapMs` apart; returns how many connections the server saw for them. */
  async function connectionsForTwo(client: Client, server: RawServer, gapMs: number) {
    const before = server.connections;
    const first = await client.send({ path: '/first' }).done;
    await sleep(gapMs);
    const second = await client.send({ path: '/second' }).done;
    expect([first.errorCode, second.errorCode, second.body]).toEqual(['', '', '/second']);
    return server.connections - before;
  }

  it('reuses an idle connection when the server gives no hint', async () => {
    const server = await echoesPath();
    expect(await connectionsForTwo(fast(server.url), server, 150)).toBe(1);
  });

  // Both clients give a connection up 2 s before the server's hint (undici 7's threshold).
  it('with timeout=3, reuses a connection idle 0.15 s but not one idle 1.2 s', async () => {
    const [soon, late] = await Promise.all([
      echoesPath(0, 'Keep-Alive: timeout=3\r\n'),
      echoesPath(0, 'Keep-Alive: timeout=3\r\n'),
    ]);
    const counts = await Promise.all([
      connectionsForTwo(fast(soon.url), soon, 150),
      connectionsForTwo(fast(late.url), late, 1_200),
    ]);
    expect(counts).toEqual([1, 2]);
  });

  it('with timeout=2, does not reuse a connection at all, as undici does', async () => {
    const server = await echoesPath(0, 'Keep-Alive: timeout=2\r\n');
    for (const client of both(server.url)) {
      expect(await connectionsForTwo(client, server, 150), client.name).toBe(2);
    }
  });
});

describe('handlers', () => {
  it('sends a request dispatched from onResponseEnd on the connection that just freed', async () => {
    const server = await echoesPath(5);
    for (const pipelining of [1, 3]) {
      for (const client of both(server.url, { pipelining })) {
        const before = server.connections;
        const followUps: Array<Promise<Outcome>> = [];
        const chain = (path: string) => {
          const recorder = new Recorder();
          const end = recorder.onResponseEnd.bind(recorder);
          recorder.onResponseEnd = (controller, trailers) => {
            end(controller, trailers);
            if (!path.includes('next')) followUps.push(client.send({ path: `${path}-next` }).done);
          };
          return client.send({ path }, recorder).done;
        };
        const first = await Promise.all(['/a', '/b', '/c'].map(chain));
        const next = await Promise.all(followUps);
        const label = `${client.name}, pipelining ${pipelining}`;
        expect([...first, ...next].map((outcome) => outcome.body).sort(), label).toEqual([
          '/a',
          '/a-next',
          '/b',
          '/b-next',
          '/c',
          '/c-next',
        ]);
        expect(server.connections - before, label).toBe(1);
      }
    }
  });

  it('gives a handler with onResponseHead the head text that parses to undici’s headers', async () => {
    const server = await raw(({ answer }) =>
      answer(ok('hi', 'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Mixed-Case: Value\r\n')),
    );
    const client = fast(server.url);
    const heads: Array<{ status: number; head: string; linesFrom: number }> = [];
    const recorder = new Recorder() as Recorder & FastHandler;
    recorder.onResponseHead = (
      _controller: Dispatcher.DispatchController,
      status: number,
      head: string,
      linesFrom: number,
    ) => heads.push({ status, head, linesFrom });
    client.send({}, recorder);
    const fromFast = await recorder.done;
    const fromUndici = await undici(server.url).send({}).done;
    expect(heads).toHaveLength(1);
    expect(fromFast.calls).toEqual(['start', 'data', 'end']); // no onResponseStart as well
    const head = heads[0] as (typeof heads)[number];
    expect(head.status).toBe(200);
    expect(parseHeaderLines(head.head, head.linesFrom)).toEqual(fromUndici.headers);
    expect(fromFast.body).toBe('hi');
  });
});

describe('the shared read buffer', () => {
  /** Answers each request's path as its body, head and body in separate writes. */
  const splitAnswers = () =>
    raw(({ request, answer, socket }) => {
      const body = request.path.repeat(40);
      answer(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      setTimeout(() => !socket.destroyed && socket.write(body), 2);
    });

  it('gives onResponseData chunks of its own: kept uncopied, they still read right', async () => {
    const server = await splitAnswers();
    const client = fast(server.url, { connections: 2 });
    const kept = paths(12).map((request) => {
      const recorder = new Recorder();
      const chunks: Buffer[] = [];
      recorder.onResponseData = (_controller, chunk) => void chunks.push(chunk); // no copy
      client.send(request, recorder);
      return { path: request.path, chunks, done: recorder.done };
    });
    await Promise.all(kept.map((entry) => entry.done));
    for (const { path, chunks } of kept) {
      expect(Buffer.concat(chunks).toString('latin1')).toBe(path.repeat(40));
    }
  });

  it('lends onResponseView a view of the one read buffer, right during the call', async () => {
    const server = await splitAnswers();
    const client = fast(server.url, { connections: 2 });
    const buffers = new Set<ArrayBufferLike>();
    const bodies = paths(6).map((request) => {
      const recorder = new Recorder() as Recorder & FastHandler;
      let text = '';
      recorder.onResponseView = (_controller, view) => {
        buffers.add(view.buffer);
        text += view.toString('latin1');
      };
      client.send(request, recorder);
      return recorder.done.then(() => ({ path: request.path, text }));
    });
    for (const { path, text } of await Promise.all(bodies)) expect(text).toBe(path.repeat(40));
    expect(buffers.size).toBe(1);
  });
});

function undici(origin: string, settings?: ClientSettings) {
  return made.client(undiciClient(origin, settings));
}

async function nodeServer(
  handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
) {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  made.server({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `http://127.0.0.1:${port}`, port };
}

describe('requestBytes', () => {
  const host = '127.0.0.1:8080';

  it('refuses CR, LF or NUL in a header value with UND_ERR_INVALID_ARG, as undici does', async () => {
    const origin = (await echoesPath()).url;
    for (const value of ['a\r\nInjected: 1', 'a\nb', 'a\rb', 'a\0b']) {
      const headers = { 'x-note': value };
      let refused: unknown;
      try {
        requestBytes(host, { method: 'GET', path: '/', headers, body: null });
      } catch (error) {
        refused = error;
      }
      expect(refused, JSON.stringify(value)).toBeInstanceOf(InvalidRequestError);
      expect((refused as InvalidRequestError).code).toBe('UND_ERR_INVALID_ARG');
      const fromUndici = await undici(origin).send({ headers }).done;
      expect(fromUndici.errorCode, JSON.stringify(value)).toBe('UND_ERR_INVALID_ARG');
    }
  });

  it('refuses a transfer-encoding header, as undici does', async () => {
    const headers = { 'Transfer-Encoding': 'chunked' };
    expect(() => requestBytes(host, { method: 'POST', path: '/', headers, body: 'x' })).toThrow(
      InvalidRequestError,
    );
    const origin = (await echoesPath()).url;
    const fromUndici = await undici(origin).send({ method: 'POST', headers, body: 'x' }).done;
    expect(fromUndici.errorCode).toBe('UND_ERR_INVALID_ARG');
  });

  it('sets host, connection and the body’s byte length as undici does', async () => {
    const server = await echoesPath();
    const request = { method: 'POST', path: '/chat', headers: { 'x-k': 'v' }, body: 'héllo ✓' };
    for (const client of both(server.url)) await client.send(request).done;
    const [fromFast, fromUndici] = server.requests;
    expect(fromFast?.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(fromFast?.headers['content-length']).toBe(String(Buffer.byteLength('héllo ✓')));
    expect(fromFast?.body.toString('utf8')).toBe('héllo ✓');
    for (const name of ['host', 'connection', 'content-length', 'x-k']) {
      expect(fromFast?.headers[name], name).toBe(fromUndici?.headers[name]);
    }
  });

  it('sends content-length 0 for an empty POST and none for a GET, as undici does', async () => {
    const server = await echoesPath();
    for (const client of both(server.url)) {
      await client.send({ method: 'POST', path: '/empty' }).done;
      await client.send({ path: '/get' }).done;
    }
    const lengths = server.requests.map((request) => request.headers['content-length']);
    expect(lengths).toEqual(['0', undefined, '0', undefined]);
  });

  it('keeps a caller’s own host header and sends no second one', async () => {
    const server = await echoesPath();
    const headers = { Host: 'api.example.test' };
    for (const client of both(server.url)) await client.send({ headers }).done;
    for (const seen of server.requests) {
      expect(seen.headers.host).toBe('api.example.test');
      expect(seen.head.match(/^host:/gim)).toHaveLength(1);
    }
    const bytes = requestBytes(host, { method: 'GET', path: '/', headers, body: null });
    expect(bytes.toString('latin1')).not.toContain(host);
  });

  it('replaces a caller’s wrong content-length with the body’s true length', () => {
    const bytes = requestBytes(host, {
      method: 'POST',
      path: '/',
      headers: { 'Content-Length': '999' },
      body: 'four',
    });
    const text = bytes.toString('latin1');
    expect(text.match(/content-length: (\d+)/gi)).toEqual(['content-length: 4']);
    expect(text.endsWith('\r\n\r\nfour')).toBe(true);
  });
});
