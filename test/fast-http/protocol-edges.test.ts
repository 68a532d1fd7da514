import { describe, expect, it } from 'vitest';
import { classifyError } from '../../src/engine/request-failure.ts';
import { closedAfterEach, comparable, fastClient, sleep, throughBoth } from './wire.ts';

/**
 * Protocol edges where the fast client first did not do what undici does (found by this
 * conformance suite, then fixed): each test states undici's behaviour as the expected one.
 */

const raw = closedAfterEach().raw;

describe('protocol edges, read as undici reads them', () => {
  it('fails a body that runs until close with UND_ERR_BODY_TIMEOUT when it stalls', async () => {
    // No length, not chunked: the body runs until the server closes. It stalls instead.
    const server = await raw(({ socket }) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: partial\n\n'),
    );
    const { fast, undici } = await throughBoth(server.url, {}, { bodyTimeoutMs: 300 });
    expect(undici.errorCode).toBe('UND_ERR_BODY_TIMEOUT');
    expect(comparable(fast)).toEqual(comparable(undici)); // fast: errorCode '' (a success)
  });

  it('refuses a header name with a space before the colon instead of ignoring its framing', async () => {
    // `Content-Length : 5` is not a Content-Length header to the fast parser (the name is
    // 15 characters), so it reads the body until close and swallows the next response.
    const server = await raw(({ socket }) =>
      socket.write(
        'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello' +
          'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      ),
    );
    const { fast, undici } = await throughBoth(server.url, {}, { bodyTimeoutMs: 300 });
    expect(undici.error?.name).toBe('HTTPParserError'); // "Invalid header field char"
    expect(undici.status).toBe(0);
    expect(fast.status).toBe(0);
    expect(classifyError(fast.error)).toEqual({
      kind: 'protocol',
      code: 'HPE_INVALID_HEADER_TOKEN',
    });
  });

  it('decodes header values as latin1 bytes, as undici does', async () => {
    const server = await raw(({ socket }) =>
      socket.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\nX-Utf8: '),
          Buffer.from('café', 'utf8'),
          Buffer.from('\r\nX-Latin1: caf'),
          Buffer.from([0xe9]),
          Buffer.from('\r\nContent-Length: 0\r\n\r\n'),
        ]),
      ),
    );
    const { fast, undici } = await throughBoth(server.url);
    expect(undici.headers['x-utf8']).toBe('cafÃ©');
    expect(undici.headers['x-latin1']).toBe('café');
    expect(fast.headers).toEqual(undici.headers); // fast: 'café' and 'caf\uFFFD'
  });

  it('refuses a head whose lines end in a bare LF at once, not at the headers timeout', async () => {
    const server = await raw(({ socket }) =>
      socket.write('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'),
    );
    const started = performance.now();
    const { fast, undici } = await throughBoth(server.url, {}, { headersTimeoutMs: 600 });
    expect(undici.error?.name).toBe('HTTPParserError'); // "Missing expected CR"
    expect(classifyError(fast.error).kind).toBe('protocol'); // fast: timeout (headers)
    expect(fast.endMs - started).toBeLessThan(300);
  });

  it('settles both of two overlapping connect() calls', async () => {
    const server = await raw(() => {});
    const client = fastClient(server.url, { connections: 2 });
    try {
      const first = client.pool.connect(2);
      const second = client.pool.connect(2);
      const settled = await Promise.race([
        Promise.all([first, second]).then(() => 'both'),
        sleep(500).then(() => 'the first connect() never settled'),
      ]);
      expect(settled).toBe('both');
    } finally {
      await client.close();
    }
  });
});
