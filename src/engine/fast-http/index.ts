export { type FastHandler, FastPool, type FastPoolOptions } from './fast-pool.ts';
export { asksToClose, InvalidRequestError, requestBytes } from './request-bytes.ts';
export {
  MAX_HEAD_BYTES,
  ProtocolError,
  parseHeaderLines,
  ResponseParser,
} from './response-parser.ts';
