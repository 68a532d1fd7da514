export { FastPool, type FastPoolOptions } from './fast-pool.ts';
export { asksToClose, InvalidRequestError, requestBytes } from './request-bytes.ts';
export { MAX_HEAD_BYTES, ProtocolError, ResponseParser } from './response-parser.ts';
