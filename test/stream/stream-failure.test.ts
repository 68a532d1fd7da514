import { describe, expect, it } from 'vitest';
import { LaunchproofError } from '../../src/errors.ts';
import { createChatStreamReader } from '../../src/stream/chat-stream-reader.ts';
import { formatStreamFailure, redactSecrets } from '../../src/stream/stream-failure.ts';
import type { ChatStreamResult } from '../../src/stream/stream-tally.ts';
import { outputTokensPerSec } from '../../src/stream/token-rate.ts';
import { replay, stamp } from './replay.ts';

describe('stream failures', () => {
  it('turn each kind into one sentence', () => {
    expect(formatStreamFailure({ kind: 'error-event', message: 'Overloaded' })).toBe(
      'error event in the stream: Overloaded',
    );
    expect(formatStreamFailure({ kind: 'truncated' })).toBe(
      'stream ended before its terminator (truncated)',
    );
    expect(formatStreamFailure({ kind: 'stalled', idleMs: 15_000 })).toBe(
      'stream stalled: no event for 15000 ms',
    );
    expect(formatStreamFailure({ kind: 'invalid-json', sample: '{"t":' })).toBe(
      'invalid JSON in a stream event: "{\\"t\\":"',
    );
    expect(formatStreamFailure({ kind: 'oversized', limitChars: 1024 })).toBe(
      'stream event or body exceeded 1024 characters',
    );
  });

  it('keep the first failure: an error event outlives the truncation it caused', () => {
    const body = 'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\nevent: error\ndata: boom\n\n';
    const { result } = replay('openai', stamp([Buffer.from(body)]), 5000);

    expect(result.terminated).toBe(false);
    expect(result.failure).toEqual({ kind: 'error-event', message: 'boom' });
  });

  it('never carry a credential the provider echoed back', () => {
    const key = `sk-proj-${'a1B2c3D4'.repeat(4)}`;
    const message = `Incorrect API key provided: ${key}. Bearer abc.def`;
    const body = `data: {"error":{"message":"${message}"}}\n\n`;
    const { result } = replay('openai', stamp([Buffer.from(body)]), 5000);
    const failure = result.failure;

    expect(failure?.kind === 'error-event' ? failure.message : '').toBe(
      'Incorrect API key provided: [redacted]. Bearer [redacted]',
    );
    expect(redactSecrets('token=abc123&x=1 api_key: "zzz"')).toBe(
      'token=[redacted]&x=1 api_key: "[redacted]"',
    );
    expect(redactSecrets('input_tokens: 12, tokens: 9')).toBe('input_tokens: 12, tokens: 9');
  });

  it('keep a bounded sample of invalid JSON and a bounded message', () => {
    const longData = `{"x":"${'y'.repeat(500)}`;
    const longError = `event: error\ndata: ${'z'.repeat(1000)}\n\n`;
    const invalid = replay('openai', stamp([Buffer.from(`data: ${longData}\n\n`)]), 2000);
    const error = replay('openai', stamp([Buffer.from(longError)]), 2000);

    expect(invalid.result.failure).toEqual({
      kind: 'invalid-json',
      sample: `${longData.slice(0, 120)}…`,
    });
    expect(error.result.failure).toEqual({ kind: 'error-event', message: `${'z'.repeat(300)}…` });
  });

  it('fail an SSE event past the buffer limit as oversized, and read no further', () => {
    const reader = createChatStreamReader('openai', { maxBufferChars: 256 });
    reader.push(Buffer.from(`data: ${'x'.repeat(300)}`), 1000);
    reader.push(Buffer.from('\n\ndata: {"choices":[{"delta":{"content":"late"}}]}\n\n'), 2000);
    const result = reader.end(3000);

    expect(result.failure).toEqual({ kind: 'oversized', limitChars: 256 });
    expect(result.contentDeltas).toBe(0);
  });
});

describe('creating a reader', () => {
  it('refuses an unknown format name with the names it knows', () => {
    const make = () => createChatStreamReader('openai-v2' as 'openai');

    expect(make).toThrow(LaunchproofError);
    expect(make).toThrow(
      'unknown stream format: expected one of "openai", "anthropic", "vercel-ai", "text", "json"' +
        ' or a function, received "openai-v2"',
    );
  });
});

describe('output tokens per second', () => {
  const base: ChatStreamResult = {
    firstContentUs: 200_000,
    lastContentUs: 1_180_000,
    endUs: 1_200_000,
    contentDeltas: 50,
    outputTokens: 50,
    tokensEstimated: false,
    inputTokens: 20,
    terminated: true,
    failure: undefined,
    eventNames: new Set(),
    text: undefined,
  };

  it('is the tokens after the first over the time from first to last content', () => {
    // 49 tokens in 0.98 s: exactly 50 tokens/s, the pace of a provider emitting one per 20 ms.
    expect(outputTokensPerSec(base)).toBe(50);
  });

  it('is unknown with one token, or with every token in one delta', () => {
    expect(outputTokensPerSec({ ...base, outputTokens: 1 })).toBeUndefined();
    expect(outputTokensPerSec({ ...base, lastContentUs: 200_000 })).toBeUndefined();
    expect(outputTokensPerSec({ ...base, firstContentUs: undefined })).toBeUndefined();
  });
});
