import { randomBytes } from 'node:crypto';
import { FALLBACK_EVENT, type FallbackPart } from './fallback.ts';

/** Response headers of a Vercel AI SDK v5 UI message stream over SSE. */
export const UI_MESSAGE_STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-vercel-ai-ui-message-stream': 'v1',
  // Proxies such as nginx buffer SSE unless told not to.
  'x-accel-buffering': 'no',
} as const;

/** Token counts from the provider's usage block. */
export interface AnswerUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Where frames go; writes after the client has left are dropped by the sink. */
export interface FrameSink {
  write(frame: string): void;
  end(): void;
}

/**
 * Writes one assistant message as a Vercel AI SDK v5 UI message stream: `start`,
 * `start-step`, one text part (`text-start`, `text-delta`…, `text-end`), `finish-step`,
 * `finish` (with usage as message metadata when known), then `data: [DONE]`. It keeps the
 * order valid whatever happens, so a fallback mid-answer still closes the open text part.
 */
export class UiMessageStreamWriter {
  readonly messageId = `msg_${randomBytes(8).toString('hex')}`;
  readonly #textId = `txt_${randomBytes(4).toString('hex')}`;
  readonly #sink: FrameSink;
  #started = false;
  #textOpen = false;
  #finished = false;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Opens the message; later calls open it themselves when needed. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#part({ type: 'start', messageId: this.messageId });
    this.#part({ type: 'start-step' });
  }

  /** Appends text to the message's text part. */
  delta(text: string): void {
    if (text === '' || this.#finished) return;
    this.#openText();
    this.#part({ type: 'text-delta', id: this.#textId, delta: text });
  }

  /** Sends the fallback marker as the named SSE event `fallback`. */
  fallback(part: FallbackPart): void {
    if (this.#finished) return;
    this.start();
    this.#sink.write(`event: ${FALLBACK_EVENT}\ndata: ${JSON.stringify(part)}\n\n`);
  }

  /** Closes the text part and the message, then the stream. */
  finish(usage: AnswerUsage | undefined): void {
    if (this.#finished) return;
    this.start();
    this.#finished = true;
    if (this.#textOpen) this.#part({ type: 'text-end', id: this.#textId });
    this.#part({ type: 'finish-step' });
    this.#part(
      usage === undefined ? { type: 'finish' } : { type: 'finish', messageMetadata: { usage } },
    );
    this.#sink.write('data: [DONE]\n\n');
    this.#sink.end();
  }

  #openText(): void {
    this.start();
    if (this.#textOpen) return;
    this.#textOpen = true;
    this.#part({ type: 'text-start', id: this.#textId });
  }

  #part(part: Record<string, unknown>): void {
    this.#sink.write(`data: ${JSON.stringify(part)}\n\n`);
  }
}
