import { asCount, asRecord, asString, errorMessageOf, NOT_JSON, parseJson } from './json-fields.ts';
import type { StreamSink } from './stream-sink.ts';

// Top-level fields a hand-built chatbot API commonly answers in, tried after the provider
// shapes: `{"reply": "…"}`, `{"answer": "…"}` and their kin.
const PLAIN_ANSWER_FIELDS = ['reply', 'answer', 'message', 'text', 'content', 'output'] as const;

/**
 * Reads a whole non-streaming JSON answer into a sink, in this order:
 * 1. an error body (`{"error": …}` as OpenAI sends it, `{"type": "error", …}` as Anthropic
 *    does) is an error event;
 * 2. OpenAI: `choices[0].message.content`, usage from `prompt_tokens`/`completion_tokens`;
 * 3. Anthropic: the `text` of every `content[]` block of type `text`, usage from
 *    `input_tokens`/`output_tokens`;
 * 4. a plain chatbot answer: the first string among `PLAIN_ANSWER_FIELDS`.
 * A body that parses is complete by definition, so it also reports `done`.
 */
export function readJsonBody(text: string, sink: StreamSink): void {
  const value = parseJson(text);
  if (value === NOT_JSON) {
    sink.invalidJson(text);
    return;
  }

  const body = asRecord(value);
  if (body === undefined) {
    sink.done();
    return;
  }

  if ((body.error !== undefined && body.error !== null) || body.type === 'error') {
    sink.error(errorMessageOf(body.error ?? body, 'error body'));
    sink.done();
    return;
  }

  const answer = openAiAnswer(body) ?? anthropicAnswer(body) ?? plainAnswer(body);
  if (answer !== undefined) sink.content(answer);

  const usage = asRecord(body.usage);
  if (usage !== undefined) {
    sink.usage(
      asCount(usage.prompt_tokens) ?? asCount(usage.input_tokens) ?? asCount(usage.inputTokens),
      asCount(usage.completion_tokens) ??
        asCount(usage.output_tokens) ??
        asCount(usage.outputTokens),
    );
  }
  sink.done();
}

function openAiAnswer(body: Record<string, unknown>): string | undefined {
  if (!Array.isArray(body.choices)) return undefined;
  const choice = asRecord(body.choices[0]);
  return asString(asRecord(choice?.message)?.content) ?? asString(choice?.text);
}

function anthropicAnswer(body: Record<string, unknown>): string | undefined {
  if (!Array.isArray(body.content)) return undefined;

  let text = '';
  for (const block of body.content) {
    const record = asRecord(block);
    if (record?.type === 'text') text += asString(record.text) ?? '';
  }
  return text;
}

function plainAnswer(body: Record<string, unknown>): string | undefined {
  for (const field of PLAIN_ANSWER_FIELDS) {
    const text = asString(body[field]);
    if (text !== undefined) return text;
  }
  return undefined;
}
