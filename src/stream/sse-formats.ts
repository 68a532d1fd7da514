import { LaunchproofError } from '../errors.ts';
import { asCount, asRecord, asString, errorMessageOf, NOT_JSON, parseJson } from './json-fields.ts';
import type { CustomStreamFormat, SseEvent, StreamFormat } from './stream-format.ts';
import { STREAM_FORMATS } from './stream-format.ts';
import type { StreamSink } from './stream-sink.ts';

/** Reads the meaning of one SSE event into a sink. Never throws. */
export type SseEventReader = (event: SseEvent, sink: StreamSink) => void;

type SseFormat = Exclude<StreamFormat, 'text' | 'json'>;

const DONE = '[DONE]';

/**
 * OpenAI chat completions chunks. Content is `choices[0].delta.content` (or `choices[0].text`
 * from the legacy completions API); the first chunk usually carries only `role`, which is not
 * content. The usage chunk (`choices: []`, sent when `stream_options.include_usage` is set)
 * carries the counts; every other chunk then has `"usage": null`. An `{"error": …}` object
 * in a data event is the provider reporting a failure mid-stream.
 */
export const readOpenAiEvent: SseEventReader = (event, sink) => {
  const data = event.data;
  if (isDone(data)) {
    sink.done();
    return;
  }

  const chunk = asRecord(parseOrReport(data, sink));
  if (chunk === undefined) return;

  if (chunk.error !== undefined && chunk.error !== null) {
    sink.error(errorMessageOf(chunk.error, 'provider error'));
    return;
  }

  const choices = chunk.choices;
  if (Array.isArray(choices) && choices.length > 0) {
    const choice = asRecord(choices[0]);
    const text = asString(asRecord(choice?.delta)?.content) ?? asString(choice?.text);
    if (text !== undefined) sink.content(text);
  }

  const usage = asRecord(chunk.usage);
  if (usage !== undefined)
    sink.usage(asCount(usage.prompt_tokens), asCount(usage.completion_tokens));
};

/**
 * Anthropic Messages API events, named by their `type` (the SSE event name repeats it).
 * `message_start` carries the input tokens, `content_block_delta` with a `text_delta` the
 * text, `message_delta` the cumulative output tokens, and `message_stop` ends the message.
 * The output count in `message_start` is a placeholder, so only `message_delta`'s is used.
 */
export const readAnthropicEvent: SseEventReader = (event, sink) => {
  const body = asRecord(parseOrReport(event.data, sink));
  if (body === undefined) return;

  switch (asString(body.type) ?? event.event) {
    case 'message_start': {
      const usage = asRecord(asRecord(body.message)?.usage);
      if (usage !== undefined) sink.usage(asCount(usage.input_tokens), undefined);
      return;
    }
    case 'content_block_start': {
      const text = asString(asRecord(body.content_block)?.text);
      if (text !== undefined) sink.content(text);
      return;
    }
    case 'content_block_delta': {
      const delta = asRecord(body.delta);
      if (delta?.type === 'text_delta') sink.content(asString(delta.text) ?? '');
      return;
    }
    case 'message_delta': {
      const usage = asRecord(body.usage);
      if (usage !== undefined)
        sink.usage(asCount(usage.input_tokens), asCount(usage.output_tokens));
      return;
    }
    case 'message_stop':
      sink.done();
      return;
    case 'error':
      sink.error(errorMessageOf(body.error, 'provider error'));
      return;
  }
};

/**
 * The AI SDK v5 UI message stream: JSON parts in SSE data events, ending with `[DONE]`.
 * Text arrives in `text-delta` parts; `error` parts carry `errorText`; an `abort` part means
 * the answer was cut off on purpose. Usage is read from `messageMetadata.usage` of a
 * `finish`, `start` or `message-metadata` part, where our demo (and many apps) put it.
 */
export const readVercelAiEvent: SseEventReader = (event, sink) => {
  const data = event.data;
  if (isDone(data)) {
    sink.done();
    return;
  }

  const part = asRecord(parseOrReport(data, sink));
  if (part === undefined) return;

  switch (part.type) {
    case 'text-delta':
      sink.content(asString(part.delta) ?? '');
      return;
    case 'error':
      sink.error(asString(part.errorText) || 'error part without errorText');
      return;
    case 'abort': {
      const reason = asString(part.reason);
      sink.error(reason ? `stream aborted: ${reason}` : 'stream aborted');
      return;
    }
    case 'start':
    case 'finish':
    case 'message-metadata': {
      const usage = asRecord(asRecord(part.messageMetadata)?.usage);
      if (usage !== undefined) sink.usage(asCount(usage.inputTokens), asCount(usage.outputTokens));
      return;
    }
  }
};

const BUILT_IN: Record<SseFormat, SseEventReader> = {
  openai: readOpenAiEvent,
  anthropic: readAnthropicEvent,
  'vercel-ai': readVercelAiEvent,
};

/**
 * The event reader of a built-in SSE format. Throws LP_ERR_SCENARIO_INVALID for a name that
 * is none (a scenario written in plain JavaScript escapes the type check).
 */
export function sseEventReader(format: SseFormat): SseEventReader {
  const reader = Object.hasOwn(BUILT_IN, format) ? BUILT_IN[format] : undefined;
  if (reader !== undefined) return reader;
  throw new LaunchproofError(
    'LP_ERR_SCENARIO_INVALID',
    `unknown stream format: expected one of ${STREAM_FORMATS.map((f) => `"${f}"`).join(', ')}` +
      ` or a function, received ${JSON.stringify(format)}`,
  );
}

/**
 * Adapts a custom format function to an event reader. What the function throws is counted,
 * never rethrown: a `SyntaxError` (its `JSON.parse`) as invalid JSON, anything else as an
 * error event naming the custom format, since the stream cannot be read past it.
 */
export function customEventReader(format: CustomStreamFormat): SseEventReader {
  return (event, sink) => {
    let part: ReturnType<CustomStreamFormat>;
    try {
      part = format(event);
    } catch (error) {
      if (error instanceof SyntaxError) sink.invalidJson(event.data);
      else sink.error(`custom stream format threw: ${errorMessageOf(error, String(error))}`);
      return;
    }

    if (part === undefined || part === null) return;
    if (typeof part === 'string') {
      sink.content(part);
      return;
    }
    if (typeof part.text === 'string') sink.content(part.text);
    if (part.usage !== undefined) {
      sink.usage(asCount(part.usage.inputTokens), asCount(part.usage.outputTokens));
    }
    if (typeof part.error === 'string') sink.error(part.error || 'custom format reported an error');
    if (part.done === true) sink.done();
  };
}

function isDone(data: string): boolean {
  return data === DONE || (data.length < 16 && data.trim() === DONE);
}

function parseOrReport(data: string, sink: StreamSink): unknown {
  const value = parseJson(data);
  if (value !== NOT_JSON) return value;
  sink.invalidJson(data);
  return undefined;
}
