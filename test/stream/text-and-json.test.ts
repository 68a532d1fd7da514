import { describe, expect, it } from 'vitest';
import { createChatStreamReader } from '../../src/stream/chat-stream-reader.ts';
import { fixture, replay, stamp, wordFrames } from './replay.ts';

const ANSWER = 'Our onboarding package starts at €1,200 per month.';

describe('the text format', () => {
  it('counts each non-empty chunk as a delta, at its arrival time', () => {
    const frames = wordFrames(fixture('text-answer.txt'));
    expect(frames).toHaveLength(8);
    const times = [120_000, 140_000, 165_000, 170_000, 230_000, 231_000, 260_000, 262_000];
    const { result, gapsUs } = replay('text', stamp(frames, times), 300_000, {
      captureTextBytes: 1024,
    });

    expect(result.firstContentUs).toBe(120_000);
    expect(result.lastContentUs).toBe(262_000);
    expect(gapsUs).toEqual([20_000, 25_000, 5000, 60_000, 1000, 29_000, 2000]);
    expect(result.text).toBe(ANSWER);
  });

  it('takes the normal end of the body as the terminator', () => {
    const { result } = replay('text', stamp(wordFrames(fixture('text-answer.txt'))), 9000);

    expect(result.terminated).toBe(true);
    expect(result.failure).toBeUndefined();
    expect(result.tokensEstimated).toBe(true);
    expect(result.outputTokens).toBe(13);
  });

  it('holds back half a character, so a chunk of only that is no delta', () => {
    const euro = Buffer.from('€');
    const reader = createChatStreamReader('text', { captureTextBytes: 64 });

    reader.push(euro.subarray(0, 2), 1000);
    expect(reader.lastEventUs).toBeUndefined();
    reader.push(Buffer.concat([euro.subarray(2), Buffer.from('1,200')]), 2000);
    const result = reader.end(3000);

    expect(result.contentDeltas).toBe(1);
    expect(result.firstContentUs).toBe(2000);
    expect(result.text).toBe('€1,200');
  });

  it('is not terminated when the engine fails the stream as stalled', () => {
    const reader = createChatStreamReader('text');
    reader.push(Buffer.from('Our onboarding '), 1000);
    const result = reader.fail({ kind: 'stalled', idleMs: 30_000 }, 30_001_000);

    expect(result.terminated).toBe(false);
    expect(result.failure).toEqual({ kind: 'stalled', idleMs: 30_000 });
    expect(result.endUs).toBe(30_001_000);
    expect(result.contentDeltas).toBe(1);
  });
});

describe('the json format', () => {
  it('reads an OpenAI chat completion, with first content at the end of the body', () => {
    const body = fixture('json-openai.txt');
    const pushes = stamp([body.subarray(0, 100), body.subarray(100)], [40_000, 41_000]);
    const { result, gapsUs, lastEventUs } = replay('json', pushes, 41_500, {
      captureTextBytes: 1024,
    });

    expect(result.text).toBe(ANSWER);
    expect(result.firstContentUs).toBe(41_500);
    expect(result.endUs).toBe(41_500);
    expect(result.contentDeltas).toBe(1);
    expect(result.outputTokens).toBe(9);
    expect(result.inputTokens).toBe(412);
    expect(result.tokensEstimated).toBe(false);
    expect(result.terminated).toBe(true);
    expect(gapsUs).toEqual([]);
    expect(lastEventUs).toBe(41_000);
  });

  it('reads an Anthropic message, joining its text blocks', () => {
    const { result } = replay('json', stamp([fixture('json-anthropic.txt')]), 8000, {
      captureTextBytes: 1024,
    });

    expect(result.text).toBe(ANSWER);
    expect(result.outputTokens).toBe(9);
    expect(result.inputTokens).toBe(412);
  });

  it('reads a hand-built chatbot answer from its reply field', () => {
    const body = Buffer.from('{"reply":"We can start on Monday.","sessionId":"s_19"}');
    const { result } = replay('json', stamp([body]), 8000, { captureTextBytes: 1024 });

    expect(result.text).toBe('We can start on Monday.');
    expect(result.tokensEstimated).toBe(true);
  });

  it('reports an error body as an error event', () => {
    const { result } = replay('json', stamp([fixture('json-openai-error.txt')]), 8000);

    expect(result.failure?.kind).toBe('error-event');
    expect(result.firstContentUs).toBeUndefined();
  });

  it('records a body that does not parse as invalid JSON', () => {
    const body = fixture('json-openai.txt');
    const { result } = replay('json', stamp([body.subarray(0, 200)]), 8000);

    expect(result.failure).toMatchObject({ kind: 'invalid-json' });
    expect(result.terminated).toBe(false);
    expect(result.firstContentUs).toBeUndefined();
  });

  it('fails a body past the buffer limit as oversized, without keeping it', () => {
    const reader = createChatStreamReader('json', { maxBufferChars: 1000 });
    reader.push(Buffer.alloc(600, 0x20), 1000);
    reader.push(Buffer.alloc(600, 0x20), 2000);

    expect(reader.end(3000).failure).toEqual({ kind: 'oversized', limitChars: 1000 });
  });
});
