import type { IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ResponseSink } from '../../src/engine/fast-http/response-parser.ts';
import {
  MAX_HEAD_BYTES,
  ProtocolError,
  parseHeaderLines,
  ResponseParser,
} from '../../src/engine/fast-http/response-parser.ts';
import { classifyError } from '../../src/engine/request-failure.ts';
import {
  closedAfterEach,
  comparable,
  fastClient,
  type RawExchange,
  type RawServer,
  sleep,
  throughBoth,
  undiciClient,
} from './wire.ts';

/**
 * The fast client's response parser, case by case: each protocol case is sent as crafted
 * bytes from a raw TCP server through the fast pool and through undici's Pool, and the two
 * must report the same status, headers, body and error (where undici's answer is the
 * question). Splitting cases run the parser directly, at every byte boundary.
 */

const made = closedAfterEach();
const raw = made.raw;

/** A server that answers every request with `bytes` and then closes the connection. */
function answersOnce(bytes: string | Buffer): Promise<RawServer> {
  return raw(({ socket }) => socket.end(typeof bytes === 'string' ? Buffer.from(bytes) : bytes));
}

/** Answers the requests on each connection with `answers[i]` in turn, keeping it open. */
function answersInTurn(answers: string[]): Promise<RawServer> {
  const next = new Map<net.Socket, number>();
  return raw(({ socket, answer }) => {
    const index = next.get(socket) ?? 0;
    next.set(socket, index + 1);
    answer(answers[index % answers.length] as string);
  });
}

async function writeInPieces(socket: net.Socket, bytes: Buffer, pieceBytes: number) {
  for (let at = 0; at < bytes.length && !socket.destroyed; at += pieceBytes) {
    socket.write(bytes.subarray(at, at + pieceBytes));
    await sleep(1);
  }
}

/** What the parser told its sink, response by response. */
class SinkLog implements ResponseSink {
  readonly heads: Array<{ status: number; headers: IncomingHttpHeaders; keepAlive: boolean }> = [];
  readonly bodies: string[] = [];
  readonly ends: boolean[] = [];
  /** Whether the request being answered was a HEAD. */
  head = false;

  onHead(status: number, head: string, linesFrom: number, keepAlive: boolean): boolean {
    this.heads.push({ status, headers: parseHeaderLines(head, linesFrom), keepAlive });
    this.bodies.push('');
    return this.head;
  }

  onBody(chunk: Buffer): void {
    const last = this.bodies.length - 1;
    this.bodies[last] = `${this.bodies[last]}${chunk.toString('latin1')}`;
  }

  onEnd(keepAlive: boolean): void {
    this.ends.push(keepAlive);
  }
}

/** Runs `bytes` through a fresh parser in the pieces given by `cuts` (offsets). */
function parseInPieces(bytes: Buffer, cuts: number[], sink = new SinkLog()): SinkLog {
  const parser = new ResponseParser(sink);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) parser.execute(bytes.subarray(from, cut));
    from = cut;
  }
  return sink;
}

function parseError(run: () => void): ProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('the parser accepted it');
}

const SIMPLE =
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Trace: abc\r\nContent-Length: 5\r\n\r\nhello';

const CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;name=value\r\nhello\r\n' +
  '6;a=b;c="d;e"\r\n world\r\n' +
  '0;last\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n';

describe('response heads', () => {
  it('reads a head that arrives one byte at a time and reports it only when complete', () => {
    const bytes = Buffer.from(SIMPLE);
    const sink = new SinkLog();
    const parser = new ResponseParser(sink);
    const headEnd = SIMPLE.indexOf('\r\n\r\n') + 4;
    for (let at = 0; at < bytes.length; at++) {
      parser.execute(bytes.subarray(at, at + 1));
      expect(sink.heads.length, `after byte ${at}`).toBe(at + 1 >= headEnd ? 1 : 0);
    }
    expect(sink.heads[0]).toEqual({
      status: 200,
      headers: { 'content-type': 'text/plain', 'x-trace': 'abc', 'content-length': '5' },
      keepAlive: true,
    });
    expect(sink.bodies).toEqual(['hello']);
    expect(sink.ends).toEqual([true]);
  });

  it('gives what undici gives for a head written to the socket one byte at a time', async () => {
    const server = await raw(({ socket }) => void writeInPieces(socket, Buffer.from(SIMPLE), 1));
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.status).toBe(200);
    expect(fast.body).toBe('hello');
    expect(comparable(fast)).toEqual(comparable(undici));
  });

  it('turns repeated headers into arrays as undici does (set-cookie and others)', async () => {
    const server = await answersOnce(
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Dup: x\r\nSet-Cookie: b=2; Path=/\r\n' +
        'X-Dup: y\r\nX-Dup: z\r\nContent-Length: 2\r\n\r\nok',
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.headers['set-cookie']).toEqual(['a=1', 'b=2; Path=/']);
    expect(fast.headers['x-dup']).toEqual(['x', 'y', 'z']);
    expect(comparable(fast)).toEqual(comparable(undici));
  });

  it('accepts a status line with no reason phrase and any three-digit status', async () => {
    for (const line of ['HTTP/1.1 200', 'HTTP/1.1 599 Odd Reason Here', 'HTTP/1.0 418 Teapot']) {
      const server = await answersOnce(`${line}\r\nContent-Length: 2\r\n\r\nok`);
      const { fast, undici } = await throughBoth(server.url);
      expect(fast.status, line).toBe(Number(line.slice(9, 12)));
      expect(comparable(fast), line).toEqual(comparable(undici));
    }
  });

  it('refuses a garbage status line with HPE_INVALID_CONSTANT, as undici refuses it', async () => {
    for (const bytes of ['garbage\r\n\r\n', 'HTPP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']) {
      const server = await answersOnce(bytes);
      const { fast, undici } = await throughBoth(server.url);
      expect(fast.errorCode, bytes).toBe('HPE_INVALID_CONSTANT');
      expect(classifyError(fast.error)).toEqual({ kind: 'protocol', code: 'HPE_INVALID_CONSTANT' });
      expect(fast.status).toBe(0);
      // undici 7.30 refuses it too, but its HTTPParserError carries no code (see report).
      expect(undici.error?.name).toBe('HTTPParserError');
      expect(undici.status).toBe(0);
    }
  });

  it('refuses a status code that is not three digits with HPE_INVALID_STATUS', async () => {
    for (const line of ['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 2x0 OK']) {
      const server = await answersOnce(`${line}\r\nContent-Length: 0\r\n\r\n`);
      const { fast, undici } = await throughBoth(server.url);
      expect(fast.errorCode, line).toBe('HPE_INVALID_STATUS');
      expect(undici.error?.name, line).toBe('HTTPParserError');
    }
  });

  it('refuses a head larger than 16 KiB with HPE_HEADER_OVERFLOW, whether one header or many', async () => {
    const oneHuge = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(17_000)}\r\nContent-Length: 0\r\n\r\n`;
    const many = `HTTP/1.1 200 OK\r\n${Array.from(
      { length: 400 },
      (_, i) => `X-H${i}: ${'b'.repeat(40)}\r\n`,
    ).join('')}Content-Length: 0\r\n\r\n`;
    for (const bytes of [oneHuge, many]) {
      const server = await answersOnce(bytes);
      const { fast, undici } = await throughBoth(server.url);
      expect(fast.errorCode).toBe('HPE_HEADER_OVERFLOW');
      expect(classifyError(fast.error).kind).toBe('protocol');
      // undici refuses it too, with its own code.
      expect(undici.errorCode).toBe('UND_ERR_HEADERS_OVERFLOW');
    }
  });

  it('stops reading an endless head soon after 16 KiB, not at its end', () => {
    const sink = new SinkLog();
    const parser = new ResponseParser(sink);
    const piece = Buffer.from(`X-Filler: ${'c'.repeat(1_012)}\r\n`);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n'));
    let fed = 0;
    const error = parseError(() => {
      for (; fed < 64; fed++) parser.execute(piece);
    });
    expect(error.code).toBe('HPE_HEADER_OVERFLOW');
    expect(fed * piece.length).toBeLessThanOrEqual(MAX_HEAD_BYTES + piece.length);
    expect(sink.heads).toEqual([]);
  });

  it('accepts a 15 KiB head, as undici does', async () => {
    const server = await answersOnce(
      `HTTP/1.1 200 OK\r\nX-Big: ${'d'.repeat(15_000)}\r\nContent-Length: 2\r\n\r\nok`,
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.status).toBe(200);
    expect(fast.headers['x-big']).toHaveLength(15_000);
    expect(comparable(fast)).toEqual(comparable(undici));
  });
});

describe('interim responses', () => {
  it('skips 100 Continue and reports the 200 that follows', async () => {
    const server = await answersOnce(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.statuses).toEqual([200]);
    expect(fast.body).toBe('ok');
    expect(fast.errorCode).toBe('');
    // undici 7.30 refuses a 100 it did not ask for ('bad response'); the fast client is
    // lenient on purpose (see the parser's doc comment).
    expect(undici.errorCode).toBe('UND_ERR_SOCKET');
  });

  it('skips 103 Early Hints and ends with the same final answer as undici', async () => {
    const server = await answersOnce(
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.status).toBe(200);
    expect(comparable(fast)).toEqual(comparable(undici));
  });

  it('refuses a 101 Switching Protocols it did not ask for, as undici does', async () => {
    const server = await answersOnce(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.errorCode).toBe('HPE_UPGRADE');
    expect(fast.status).toBe(0);
    expect(fast.calls).toEqual(['start', 'error']);
    // undici refuses it as well, as a socket error ('bad upgrade').
    expect(undici.errorCode).toBe('UND_ERR_SOCKET');
    expect(undici.status).toBe(0);
  });
});

describe('bodies', () => {
  it('reads a Content-Length body and leaves the connection for the next answer', async () => {
    const server = await answersInTurn([
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst',
      'HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nsecond',
    ]);
    for (const make of [fastClient, undiciClient]) {
      const client = make(server.url);
      made.client(client);
      const first = await client.send({}).done;
      const second = await client.send({}).done;
      expect([first.status, first.body, second.status, second.body], client.name).toEqual([
        200,
        'first',
        201,
        'second',
      ]);
    }
    expect(server.connections).toBe(2); // one each: the body's end was found, not guessed
  });

  it('delivers a 1 MiB Content-Length body byte for byte', async () => {
    const body = Buffer.alloc(1 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 10)) & 0xff;
    const server = await raw(({ socket }) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
    });
    const client = fastClient(server.url);
    made.client(client);
    const recorder = client.send({});
    await recorder.done;
    expect(Buffer.concat(recorder.chunks).equals(body)).toBe(true);
    expect(recorder.calls.at(-1)).toBe('end');
  });

  it('reads a body until the connection closes when no length is given (HTTP/1.1 and 1.0)', async () => {
    for (const version of ['HTTP/1.1', 'HTTP/1.0']) {
      const server = await raw(({ socket }) => {
        socket.write(`${version} 200 OK\r\nX-Version: ${version}\r\n\r\npart one, `);
        setTimeout(() => socket.end('part two'), 20);
      });
      const { fast, undici } = await throughBoth(server.url);
      expect(fast.body, version).toBe('part one, part two');
      expect(fast.errorCode).toBe('');
      expect(fast.calls.at(-1)).toBe('end');
      expect(comparable(fast), version).toEqual(comparable(undici));
    }
  });

  it('reads a chunked body with extensions and trailers as undici does', async () => {
    const server = await answersOnce(CHUNKED);
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.body).toBe('hello world');
    expect(fast.errorCode).toBe('');
    expect(comparable(fast)).toEqual(comparable(undici));
  });

  it('reads a chunked body with extensions and trailers split at every byte boundary', () => {
    // Two responses back to back: the second shows the first's trailers were consumed exactly.
    const bytes = Buffer.from(`${CHUNKED}HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext`);
    for (let cut = 1; cut < bytes.length; cut++) {
      const sink = parseInPieces(bytes, [cut]);
      expect(sink.bodies, `cut at ${cut}`).toEqual(['hello world', 'next']);
      expect(sink.ends, `cut at ${cut}`).toEqual([true, true]);
    }
    for (let first = 1; first < CHUNKED.length; first += 3) {
      for (let second = first + 1; second < CHUNKED.length; second += 2) {
        const sink = parseInPieces(bytes, [first, second]);
        expect(sink.bodies, `cuts at ${first}, ${second}`).toEqual(['hello world', 'next']);
      }
    }
    const oneByOne = parseInPieces(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
    );
    expect(oneByOne.bodies).toEqual(['hello world', 'next']);
  });

  it('refuses a chunk size that is not hexadecimal with HPE_INVALID_CHUNK_SIZE', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    );
    expect(parseError(() => parseInPieces(bytes, [])).code).toBe('HPE_INVALID_CHUNK_SIZE');
  });

  it('reads several pipelined responses that arrive in one chunk', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfour',
    );
    const sink = parseInPieces(bytes, []);
    expect(sink.heads.map((head) => head.status)).toEqual([200, 200, 204, 404]);
    expect(sink.bodies).toEqual(['one', 'two', '', 'four']);
    expect(sink.ends).toEqual([true, true, true, false]);
  });

  it('gives each pipelined request its own answer when the server writes them all at once', async () => {
    const answers = ['alpha', 'beta', 'gamma'].map(
      (body) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const held = new Map<net.Socket, RawExchange[]>();
    const server = await raw((exchange) => {
      const list = held.get(exchange.socket) ?? [];
      list.push(exchange);
      held.set(exchange.socket, list);
      if (list.length < 3) return;
      for (const each of list) each.answer(''); // counted as answered; bytes go in one write
      exchange.socket.write(answers.join(''));
      held.delete(exchange.socket);
    });
    for (const make of [fastClient, undiciClient]) {
      const client = make(server.url, { pipelining: 3 });
      made.client(client);
      const outcomes = await Promise.all(
        ['/a', '/b', '/c'].map((path) => client.send({ path }).done),
      );
      expect(
        outcomes.map((outcome) => outcome.body),
        client.name,
      ).toEqual(['alpha', 'beta', 'gamma']);
    }
    // Both clients really pipelined: the third request came while two were unanswered.
    expect(server.requests.map((request) => request.pendingBefore)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('reads no body for HEAD even with a Content-Length, and the connection goes on', async () => {
    const server = await raw(({ request, answer }) =>
      answer(
        request.method === 'HEAD'
          ? 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'
          : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      ),
    );
    for (const make of [fastClient, undiciClient]) {
      const client = make(server.url);
      made.client(client);
      const head = await client.send({ method: 'HEAD' }).done;
      const get = await client.send({}).done;
      expect(head.headers['content-length'], client.name).toBe('100');
      expect([head.status, head.body, head.errorCode], client.name).toEqual([200, '', '']);
      expect([get.status, get.body, get.errorCode], client.name).toEqual([200, 'ok', '']);
    }
    // The fast client kept its connection for the GET (undici opens another after a HEAD).
    const fastRequests = server.requests.slice(0, 2);
    expect(fastRequests.map((request) => [request.method, request.connection])).toEqual([
      ['HEAD', 0],
      ['GET', 0],
    ]);
  });

  it('reads no body for 204 and 304, and the next answer on the connection is intact', async () => {
    const server = await answersInTurn([
      'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody',
    ]);
    for (const make of [fastClient, undiciClient]) {
      const client = make(server.url);
      made.client(client);
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push(await client.send({}).done);
      expect(
        outcomes.map((outcome) => [outcome.status, outcome.body, outcome.errorCode]),
        client.name,
      ).toEqual([
        [204, '', ''],
        [304, '', ''],
        [200, 'body', ''],
      ]);
    }
    expect(server.connections).toBe(2);
  });

  it('reads no body for a 304 that carries the Content-Length of the representation', () => {
    // RFC 9110 §8.6 allows it; undici 7.30 fails such an answer (a length mismatch).
    const bytes = Buffer.from(
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext',
    );
    const sink = parseInPieces(bytes, []);
    expect(sink.heads.map((head) => head.status)).toEqual([304, 200]);
    expect(sink.bodies).toEqual(['', 'next']);
  });

  it('refuses conflicting Content-Length headers as a protocol error, as undici does', async () => {
    const server = await answersOnce(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(fast.errorCode).toBe('HPE_INVALID_CONTENT_LENGTH');
    expect(fast.status).toBe(0);
    expect(classifyError(fast.error).kind).toBe('protocol');
    expect(classifyError(undici.error).kind).toBe('protocol');
    expect(undici.status).toBe(0);
  });

  it('refuses a response with both chunked coding and a Content-Length', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
    );
    expect(parseError(() => parseInPieces(bytes, [])).code).toBe('HPE_UNEXPECTED_CONTENT_LENGTH');
  });
});
