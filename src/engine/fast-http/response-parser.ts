import type { IncomingHttpHeaders } from 'node:http';

/** Largest response head accepted, as undici's default `maxHeaderSize` (16 KiB). */
export const MAX_HEAD_BYTES = 16_384;

/** What the parser tells the connection, response by response, in order. */
export interface ResponseSink {
  /**
   * A final (non-1xx) response head: `head` is its text without the blank line, and its
   * header lines start at `linesFrom` (see parseHeaderLines). Returns true when the request
   * was a HEAD, whose answer carries no body whatever its headers say.
   */
  onHead(
    status: number,
    head: string,
    linesFrom: number,
    keepAlive: boolean,
    keepAliveHint: string | undefined,
  ): boolean;
  onBody(chunk: Buffer): void;
  onEnd(keepAlive: boolean): void;
}

/** A malformed response: the code is llhttp's, so it is counted as a protocol error. */
export class ProtocolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CR = 13;
const LF = 10;

/**
 * An incremental HTTP/1.1 response reader for one connection: status line and headers,
 * then a body framed by Content-Length, by chunked transfer coding, or by the end of the
 * connection. Several pipelined responses may arrive in one chunk and a response may span
 * many; `execute` hands each part to the sink as soon as it is complete. 1xx answers are
 * skipped (101 is refused), and 204 and 304 have no body.
 */
export class ResponseParser {
  #state = State.Head;
  /** Head bytes carried over from an earlier chunk (a head split across reads). */
  #partial: Buffer | undefined;
  #remaining = 0;
  #keepAlive = true;
  /** A chunk-size or trailer line split across reads. */
  #line = '';
  readonly #sink: ResponseSink;

  constructor(sink: ResponseSink) {
    this.#sink = sink;
  }

  /** Whether the body runs until the connection closes (no length, not chunked). */
  get readsUntilClose(): boolean {
    return this.#state === State.UntilClose;
  }

  /** Parses one chunk; throws ProtocolError on a malformed response. */
  execute(chunk: Buffer): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      switch (this.#state) {
        case State.Head:
          at = this.#readHead(chunk, at);
          break;
        case State.Length: {
          const take = Math.min(this.#remaining, end - at);
          this.#remaining -= take;
          this.#sink.onBody(take === end && at === 0 ? chunk : chunk.subarray(at, at + take));
          at += take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case State.ChunkSize:
        case State.Trailers:
        case State.ChunkDataEnd:
          at = this.#readLine(chunk, at);
          break;
        case State.ChunkData: {
          const take = Math.min(this.#remaining, end - at);
          this.#remaining -= take;
          this.#sink.onBody(chunk.subarray(at, at + take));
          at += take;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          break;
        }
        case State.UntilClose:
          this.#sink.onBody(at === 0 ? chunk : chunk.subarray(at));
          at = end;
          break;
      }
    }
  }

  /** The connection ended: completes a body that runs until close. */
  finish(): boolean {
    if (this.#state !== State.UntilClose) return false;
    this.#state = State.Head;
    this.#sink.onEnd(false);
    return true;
  }

  #readHead(chunk: Buffer, at: number): number {
    let source = chunk;
    let start = at;
    const partial = this.#partial;
    if (partial !== undefined) {
      source = Buffer.concat([partial, chunk.subarray(at)]);
      start = 0;
    }
    const endOfHead = source.indexOf(CRLFCRLF, start);
    if (endOfHead === -1) {
      if (source.length - start > MAX_HEAD_BYTES) {
        throw new ProtocolError('HPE_HEADER_OVERFLOW', 'response head larger than 16 KiB');
      }
      // A head with bare LF line ends would never show CRLFCRLF: refuse it now, as llhttp
      // does, rather than wait for the headers timeout.
      const lf = source.indexOf(LF, start);
      if (lf !== -1 && (lf === start || source[lf - 1] !== CR)) {
        throw new ProtocolError('HPE_CR_EXPECTED', 'line ends without CR');
      }
      this.#partial = partial === undefined ? Buffer.from(chunk.subarray(at)) : source;
      return chunk.length;
    }
    if (endOfHead - start > MAX_HEAD_BYTES) {
      throw new ProtocolError('HPE_HEADER_OVERFLOW', 'response head larger than 16 KiB');
    }
    this.#partial = undefined;
    const consumedInSource = endOfHead + 4;
    // Where parsing resumes in `chunk`: past the head, whichever buffer held it.
    const next = partial === undefined ? consumedInSource : consumedInSource - partial.length + at;
    // latin1, as undici decodes header values: every byte stays one character.
    this.#parseHead(source.toString('latin1', start, endOfHead));
    return next;
  }

  #parseHead(head: string): void {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    if (
      head.length < 12 ||
      !head.startsWith('HTTP/1.') ||
      (head.charCodeAt(7) !== 49 && head.charCodeAt(7) !== 48) ||
      head.charCodeAt(8) !== 32
    ) {
      throw new ProtocolError('HPE_INVALID_CONSTANT', 'not an HTTP/1.x response');
    }
    const hundreds = head.charCodeAt(9) - 48;
    const tens = head.charCodeAt(10) - 48;
    const units = head.charCodeAt(11) - 48;
    const after = head.length > 12 ? head.charCodeAt(12) : 32;
    if (
      !(hundreds >= 1 && hundreds <= 9 && tens >= 0 && tens <= 9 && units >= 0 && units <= 9) ||
      (after !== 32 && after !== CR)
    ) {
      throw new ProtocolError('HPE_INVALID_STATUS', 'invalid status code');
    }
    const status = hundreds * 100 + tens * 10 + units;
    const http10 = head.charCodeAt(7) === 48;

    // Only the headers that frame the body are read here; the rest stay in `head` for
    // parseHeaderLines, which runs only when someone reads them.
    let contentLength = -1;
    let chunked = false;
    let connection = '';
    let keepAliveHint: string | undefined;
    const linesFrom = head.indexOf('\r\n');
    if (head.indexOf('\n') < linesFrom) {
      throw new ProtocolError('HPE_CR_EXPECTED', 'line ends without CR');
    }
    let lineStart = linesFrom;
    while (lineStart !== -1) {
      lineStart += 2;
      let lineEnd = head.indexOf('\r\n', lineStart);
      if (lineEnd === -1) lineEnd = head.length;
      const colon = head.indexOf(':', lineStart);
      if (colon === -1 || colon > lineEnd || colon === lineStart) {
        throw new ProtocolError('HPE_INVALID_HEADER_TOKEN', 'invalid header line');
      }
      const first = head.charCodeAt(lineStart);
      const beforeColon = head.charCodeAt(colon - 1);
      if (first === 32 || first === 9 || beforeColon === 32 || beforeColon === 9) {
        // Folding, or `Name : value`, which a reader that ignored it would frame wrongly.
        throw new ProtocolError('HPE_INVALID_HEADER_TOKEN', 'whitespace in a header name');
      }
      const lf = head.indexOf('\n', lineStart);
      if (lf !== -1 && lf < lineEnd) {
        throw new ProtocolError('HPE_CR_EXPECTED', 'line ends without CR');
      }
      const nameLength = colon - lineStart;
      // Names and values are compared in place: a slice and a lower-case copy per header
      // and answer were the largest share of the engine's allocation (and GC pauses delay
      // due sends).
      if (nameLength === 14 && nameIs(head, lineStart, 'content-length')) {
        const length = digitsAt(head, colon + 1, lineEnd);
        if (length < 0 || (contentLength !== -1 && contentLength !== length)) {
          throw new ProtocolError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
        }
        contentLength = length;
      } else if (nameLength === 10 && nameIs(head, lineStart, 'connection')) {
        if (!valueIs(head, colon + 1, lineEnd, 'keep-alive')) {
          const value = head
            .slice(colon + 1, lineEnd)
            .trim()
            .toLowerCase();
          connection = connection === '' ? value : `${connection},${value}`;
        } else if (connection === '') {
          connection = 'keep-alive';
        }
      } else if (nameLength === 10 && nameIs(head, lineStart, 'keep-alive')) {
        keepAliveHint = head.slice(colon + 1, lineEnd).trim();
      } else if (nameLength === 17 && nameIs(head, lineStart, 'transfer-encoding')) {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(head.slice(colon + 1, lineEnd).trim());
      }
      lineStart = lineEnd === head.length ? -1 : lineEnd;
    }

    if (status < 200) {
      if (status === 101) throw new ProtocolError('HPE_UPGRADE', 'unexpected protocol upgrade');
      return; // 100 Continue, 103 Early Hints: the final answer follows
    }
    const closes =
      connection !== '' &&
      connection !== 'keep-alive' &&
      /(?:^|,)\s*close\s*(?:,|$)/.test(connection);
    const keepAlive = http10
      ? !closes && /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection)
      : !closes;
    if (chunked && contentLength !== -1) {
      throw new ProtocolError('HPE_UNEXPECTED_CONTENT_LENGTH', 'both chunked and a length');
    }
    this.#keepAlive = keepAlive;
    const isHead = this.#sink.onHead(status, head, linesFrom, keepAlive, keepAliveHint);
    if (isHead || status === 204 || status === 304 || contentLength === 0) {
      this.#complete();
    } else if (chunked) {
      this.#state = State.ChunkSize;
    } else if (contentLength > 0) {
      this.#remaining = contentLength;
      this.#state = State.Length;
    } else {
      this.#keepAlive = false;
      this.#state = State.UntilClose;
    }
  }

  /** Reads up to the next LF for a chunk-size, a chunk's closing CRLF or a trailer line. */
  #readLine(chunk: Buffer, at: number): number {
    const lf = chunk.indexOf(LF, at);
    const stop = lf === -1 ? chunk.length : lf;
    this.#line += chunk.toString('latin1', at, stop);
    if (this.#line.length > MAX_HEAD_BYTES) {
      throw new ProtocolError('HPE_INVALID_CHUNK_SIZE', 'chunk line too long');
    }
    if (lf === -1) return chunk.length;
    let line = this.#line;
    this.#line = '';
    if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    switch (this.#state) {
      case State.ChunkSize: {
        const semicolon = line.indexOf(';');
        const size = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(size)) {
          throw new ProtocolError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
        }
        const length = Number.parseInt(size, 16);
        if (length === 0) {
          this.#state = State.Trailers;
        } else {
          this.#remaining = length;
          this.#state = State.ChunkData;
        }
        break;
      }
      case State.ChunkDataEnd:
        if (line !== '') throw new ProtocolError('HPE_STRICT', 'chunk data not followed by CRLF');
        this.#state = State.ChunkSize;
        break;
      case State.Trailers:
        if (line === '') this.#complete();
        break;
      default:
        break;
    }
    return lf + 1;
  }

  #complete(): void {
    this.#state = State.Head;
    this.#sink.onEnd(this.#keepAlive);
  }
}

/** Whether `text` at `at` holds `lower` in any case (letters and `-` only). */
function nameIs(text: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const want = lower.charCodeAt(i);
    const got = text.charCodeAt(at + i);
    // Setting bit 5 folds A-Z onto a-z; `-` must match itself (CR | 0x20 is also `-`).
    if (want === 45 ? got !== 45 : (got | 0x20) !== want) return false;
  }
  return true;
}

/** Spaces and tabs around a header value. */
function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}

/** Where a header value in [from, to) starts once its leading spaces are left out. */
function valueStart(text: string, from: number, to: number): number {
  let start = from;
  while (start < to && isSpace(text.charCodeAt(start))) start++;
  return start;
}

/** Where it ends once its trailing spaces are left out (numbers, not a pair: no garbage). */
function valueEnd(text: string, start: number, to: number): number {
  let end = to;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** Whether the header value in [from, to), spaces aside, is `lower` in any case. */
function valueIs(text: string, from: number, to: number, lower: string): boolean {
  const start = valueStart(text, from, to);
  const end = valueEnd(text, start, to);
  return end - start === lower.length && nameIs(text, start, lower);
}

/** The decimal number in [from, to), spaces aside; -1 when it is not one (or too long). */
function digitsAt(text: string, from: number, to: number): number {
  const start = valueStart(text, from, to);
  const end = valueEnd(text, start, to);
  if (end === start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The header lines of a response head (from `linesFrom`, the CRLF after the status line) as
 * undici gives them: names in lower case, values trimmed, a repeated header as an array.
 */
export function parseHeaderLines(head: string, linesFrom: number): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  let lineStart = linesFrom;
  while (lineStart !== -1) {
    lineStart += 2;
    let lineEnd = head.indexOf('\r\n', lineStart);
    if (lineEnd === -1) lineEnd = head.length;
    const colon = head.indexOf(':', lineStart);
    if (colon !== -1 && colon < lineEnd) {
      const name = head.slice(lineStart, colon).toLowerCase();
      const value = head.slice(colon + 1, lineEnd).trim();
      const seen = headers[name];
      if (seen === undefined) headers[name] = value;
      else if (Array.isArray(seen)) seen.push(value);
      else headers[name] = [seen, value];
    }
    lineStart = lineEnd === head.length ? -1 : lineEnd;
  }
  return headers;
}
