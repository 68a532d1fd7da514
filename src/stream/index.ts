/** Chat stream reading and timing: the public face of `src/stream/`. */
export type { ChatStreamReader, ChatStreamReaderOptions } from './chat-stream-reader.ts';
export { createChatStreamReader, DEFAULT_MAX_BUFFER_CHARS } from './chat-stream-reader.ts';
export type { StreamFailure, StreamFailureKind } from './stream-failure.ts';
export { formatStreamFailure, redactSecrets } from './stream-failure.ts';
export type {
  CustomStreamFormat,
  SseEvent,
  StreamFormat,
  StreamPart,
  StreamUsage,
} from './stream-format.ts';
export { STREAM_FORMATS, streamFormatSchema } from './stream-format.ts';
export type { ChatStreamResult } from './stream-tally.ts';
export { outputTokensPerSec } from './token-rate.ts';
