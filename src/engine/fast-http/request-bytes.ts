/**
 * A request as the bytes that go on the wire. For a flow's fixed request these are built once
 * and written as they are for every send; a built request is built once per request.
 *
 * The rules follow undici's, so that one scenario is refused or accepted the same way by
 * either client: header names are tokens, values carry no CR, LF or NUL, and the headers
 * undici refuses to take from a caller (`transfer-encoding`, `expect`, `upgrade`, a
 * `connection` other than keep-alive or close) are refused here too. `content-length` is
 * always the body's true length, and `host` the origin's unless the request sets its own.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
const EMPTY_BODY = Buffer.alloc(0);

/** A request the fast client refuses, with undici's code for it (counted as `other`). */
export class InvalidRequestError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}

export interface RequestParts {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: string | Uint8Array | null;
}

/**
 * Serialises a request for `host` (`127.0.0.1:8080`, as the Host header carries it). Throws
 * InvalidRequestError for what undici would refuse.
 */
export function requestBytes(host: string, request: RequestParts): Buffer {
  const { method, path } = request;
  if (!TOKEN.test(method)) throw new InvalidRequestError(`invalid request method ${method}`);
  if (path.length === 0 || path.charCodeAt(0) !== 47 || /[\s\0]/.test(path)) {
    throw new InvalidRequestError(`invalid request path ${JSON.stringify(path)}`);
  }
  const body =
    request.body === null
      ? EMPTY_BODY
      : typeof request.body === 'string'
        ? Buffer.from(request.body, 'utf8')
        : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);

  let lines = '';
  let hasHost = false;
  let hasConnection = false;
  for (const name in request.headers) {
    const value = request.headers[name] as string;
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) throw new InvalidRequestError(`invalid header name ${name}`);
    if (BAD_VALUE.test(value)) throw new InvalidRequestError(`invalid ${lower} header value`);
    switch (lower) {
      case 'content-length':
        continue; // the body's own length is sent below
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
      case 'keep-alive':
        throw new InvalidRequestError(`the ${lower} header is not supported`);
      case 'connection': {
        const token = value.trim().toLowerCase();
        if (token !== 'keep-alive' && token !== 'close') {
          throw new InvalidRequestError('invalid connection header');
        }
        hasConnection = true;
        break;
      }
      case 'host':
        hasHost = true;
        break;
      default:
        break;
    }
    lines += `${name}: ${value}\r\n`;
  }
  let head = `${method} ${path} HTTP/1.1\r\n${hasHost ? '' : `host: ${host}\r\n`}${lines}`;
  if (!hasConnection) head += 'connection: keep-alive\r\n';
  // Like undici: a length for any body, and for the methods that expect one even when empty.
  if (body.length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    head += `content-length: ${body.length}\r\n`;
  }
  head += '\r\n';
  const headBytes = Buffer.byteLength(head, 'latin1');
  const bytes = Buffer.allocUnsafe(headBytes + body.length);
  bytes.write(head, 0, 'latin1');
  body.copy(bytes, headBytes);
  return bytes;
}

/** Whether the request's own `connection` header asks the server to close after it. */
export function asksToClose(headers: Readonly<Record<string, string>>): boolean {
  for (const name in headers) {
    if (name.toLowerCase() === 'connection') {
      return (headers[name] as string).trim().toLowerCase() === 'close';
    }
  }
  return false;
}
