/**
 * Cuts an SSE byte stream into whole events, keeping each event's exact text (separator
 * included) so the proxy can forward it unchanged. Only what the proxy needs: it does not
 * interpret fields beyond `data:`.
 */
export class SseEventSplitter {
  #decoder = new TextDecoder();
  #buffer = '';

  /** Feeds bytes; returns the events completed by them, in order. */
  push(chunk: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    const events: string[] = [];
    for (;;) {
      const match = EVENT_END.exec(this.#buffer);
      if (match === null) break;
      const end = match.index + match[0].length;
      events.push(this.#buffer.slice(0, end));
      this.#buffer = this.#buffer.slice(end);
    }
    return events;
  }

  /** What is left when the stream ends: an event without its blank line, or nothing. */
  rest(): string {
    const rest = this.#buffer + this.#decoder.decode();
    this.#buffer = '';
    return rest;
  }
}

const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

/** What one OpenAI chat stream event is, for counting and for placing faults. */
export type EventKind = 'content' | 'finish' | 'usage' | 'done' | 'other';

export interface EventFacts {
  kind: EventKind;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/** Classifies one event by its `data:` lines (joined, as the SSE spec joins them). */
export function classifyEvent(event: string): EventFacts {
  const data = event
    .split(/\r\n|\n|\r/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
  if (data === '[DONE]') return { kind: 'done' };

  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return { kind: 'other' };
  }
  if (typeof chunk !== 'object' || chunk === null) return { kind: 'other' };
  const { choices, usage } = chunk as { choices?: unknown; usage?: unknown };
  const facts: EventFacts = { kind: 'other' };
  if (isUsage(usage)) facts.usage = usage;

  const choice = Array.isArray(choices)
    ? (choices[0] as Record<string, unknown> | undefined)
    : undefined;
  const delta = choice?.delta as { content?: unknown } | undefined;
  if (typeof delta?.content === 'string' && delta.content !== '') facts.kind = 'content';
  else if (choice?.finish_reason !== undefined && choice.finish_reason !== null)
    facts.kind = 'finish';
  else if (facts.usage) facts.kind = 'usage';
  return facts;
}

/** True when `value` looks like an OpenAI usage block. */
export function isUsage(
  value: unknown,
): value is { prompt_tokens: number; completion_tokens: number } {
  if (typeof value !== 'object' || value === null) return false;
  const { prompt_tokens, completion_tokens } = value as Record<string, unknown>;
  return typeof prompt_tokens === 'number' && typeof completion_tokens === 'number';
}
