import type { StreamFailureKind } from '../stream/index.ts';

/**
 * Why a request produced no usable response. Failures during a run are data: each is a typed
 * record, counted by kind, and one formatter turns it into words.
 */
export type RequestFailure =
  | { kind: 'timeout'; phase: 'connect' | 'headers' | 'body' | 'request' }
  | { kind: 'refused' }
  | { kind: 'reset' }
  | { kind: 'dns' }
  | { kind: 'tls' }
  | { kind: 'protocol'; code: string }
  | { kind: 'aborted' }
  | { kind: 'abandoned' }
  | { kind: 'stream'; reason: StreamFailureKind }
  | { kind: 'other'; code: string };

/** The key a failure is counted under: `timeout-headers`, `reset`, `stream-stalled`, … */
export function failureKey(failure: RequestFailure): string {
  switch (failure.kind) {
    case 'timeout':
      return `timeout-${failure.phase}`;
    case 'stream':
      return `stream-${failure.reason}`;
    case 'protocol':
    case 'other':
      return failure.kind;
    default:
      return failure.kind;
  }
}

const WORDS: Record<RequestFailure['kind'], string> = {
  timeout: 'timed out',
  refused: 'connection refused',
  reset: 'connection reset or closed by the server',
  dns: 'host name did not resolve',
  tls: 'TLS handshake failed',
  protocol: 'HTTP protocol error',
  aborted: 'aborted when the run stopped',
  abandoned: 'left mid-answer on purpose (stream.abandonAfter)',
  stream: 'chat stream failed',
  other: 'failed',
};

export function formatFailure(failure: RequestFailure): string {
  switch (failure.kind) {
    case 'timeout':
      return `${WORDS.timeout} waiting for ${failure.phase === 'request' ? 'the whole request' : failure.phase}`;
    case 'stream':
      return `${WORDS.stream}: ${failure.reason}`;
    case 'protocol':
    case 'other':
      return `${WORDS[failure.kind]} (${failure.code})`;
    default:
      return WORDS[failure.kind];
  }
}

/** Maps an undici or socket error to a failure record. */
export function classifyError(error: unknown): RequestFailure {
  // undici 7's HTTPParserError carries no code (it looks llhttp's number up by name).
  if (error instanceof Error && error.name === 'HTTPParserError') {
    const code = (error as { code?: unknown }).code;
    return { kind: 'protocol', code: typeof code === 'string' ? code : 'HPE_INVALID' };
  }
  const code = errorCode(error);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { kind: 'timeout', phase: 'connect' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { kind: 'timeout', phase: 'headers' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { kind: 'timeout', phase: 'body' };
    case 'LP_REQUEST_TIMEOUT':
      return { kind: 'timeout', phase: 'request' };
    case 'LP_ABANDONED':
      return { kind: 'abandoned' };
    case 'LP_ABORTED':
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_DESTROYED':
      return { kind: 'aborted' };
    case 'UND_ERR_HEADERS_OVERFLOW':
      return { kind: 'protocol', code };
    case 'ECONNREFUSED':
      return { kind: 'refused' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return { kind: 'reset' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'dns' };
    default:
      break;
  }
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT')) {
    return { kind: 'tls' };
  }
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { kind: 'protocol', code };
  }
  return { kind: 'other', code: code || 'unknown' };
}

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_ABORTED') return code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}
