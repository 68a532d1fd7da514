import { z } from 'zod';

/**
 * The built-in wire formats a chat flow can read:
 * - `openai`: chat completions chunks, `data: {…}` events ending with `data: [DONE]`;
 * - `anthropic`: Messages API events, ending with `message_stop`;
 * - `vercel-ai`: the AI SDK v5 UI message stream (SSE data parts), ending with `data: [DONE]`;
 * - `text`: plain chunked text, ending with the body;
 * - `json`: one non-streaming JSON body (OpenAI or Anthropic shaped), read at the end.
 */
export const streamFormatSchema = z.enum(['openai', 'anthropic', 'vercel-ai', 'text', 'json']);

export type StreamFormat = z.infer<typeof streamFormatSchema>;

/** Every built-in format, in a stable order (for help text and conformance suites). */
export const STREAM_FORMATS: readonly StreamFormat[] = streamFormatSchema.options;

/** One Server-Sent Event as a custom format sees it. `event` is absent when none was named. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
  id?: string | undefined;
}

/** Token counts a stream reports about itself. */
export interface StreamUsage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
}

/**
 * What a custom format makes of one event: a text delta, the end of the answer (`done`), the
 * usage block, or an error the target reported. Every field is optional.
 */
export interface StreamPart {
  text?: string | undefined;
  done?: boolean | undefined;
  usage?: StreamUsage | undefined;
  error?: string | undefined;
}

/**
 * A format of one's own, for a target that speaks SSE in its own dialect: a function from one
 * event to what it means. A string is a text delta; `undefined` means the event carries
 * nothing of interest (a heartbeat, metadata). An exception thrown by the function is counted
 * as a stream failure, never rethrown: a `SyntaxError` (from `JSON.parse`) as invalid JSON,
 * anything else as an error event.
 */
export type CustomStreamFormat = (event: SseEvent) => StreamPart | string | undefined;
