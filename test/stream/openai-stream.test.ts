import { describe, expect, it } from 'vitest';
import { createChatStreamReader } from '../../src/stream/chat-stream-reader.ts';
import { outputTokensPerSec } from '../../src/stream/token-rate.ts';
import { bytewise, fixture, merged, replay, sseFrames, stamp } from './replay.ts';

const ANSWER = 'Our onboarding package starts at €1,200 per month.';

// Frames of openai-usage.sse: role-only chunk, 8 content chunks, finish chunk, usage chunk,
// [DONE]. The times are irregular on purpose, so each figure below can only come out of the
// right frame.
const TIMES_US = [
  10_000, 250_000, 262_500, 281_000, 300_000, 318_250, 337_000, 355_500, 374_000, 380_000, 381_000,
  381_200,
];

describe('the openai format', () => {
  it('times the first content delta, not the role-only first chunk', () => {
    const frames = sseFrames(fixture('openai-usage.sse'));
    expect(frames).toHaveLength(12);

    const { result } = replay('openai', stamp(frames, TIMES_US), 390_000);

    expect(result.firstContentUs).toBe(250_000);
    expect(result.lastContentUs).toBe(374_000);
    expect(result.endUs).toBe(390_000);
    expect(result.contentDeltas).toBe(8);
    expect(result.terminated).toBe(true);
    expect(result.failure).toBeUndefined();
  });

  it('reports every gap between content deltas, and only those, through onGap', () => {
    const { gapsUs } = replay(
      'openai',
      stamp(sseFrames(fixture('openai-usage.sse')), TIMES_US),
      390_000,
    );

    expect(gapsUs).toEqual([12_500, 18_500, 19_000, 18_250, 18_750, 18_500, 18_500]);
  });

  it('takes token counts from the usage chunk when include_usage was asked', () => {
    const { result } = replay(
      'openai',
      stamp(sseFrames(fixture('openai-usage.sse')), TIMES_US),
      390_000,
    );

    expect(result.outputTokens).toBe(9);
    expect(result.inputTokens).toBe(412);
    expect(result.tokensEstimated).toBe(false);
    expect(outputTokensPerSec(result)).toBeCloseTo((8 * 1_000_000) / 124_000, 9);
  });

  it('estimates output tokens, and says so, when the stream carries no usage', () => {
    const { result } = replay('openai', stamp(sseFrames(fixture('openai-no-usage.sse'))), 20_000);

    // 50 characters / 4 = 12.5, rounded up to 13; more than the 8 deltas.
    expect(result.outputTokens).toBe(13);
    expect(result.tokensEstimated).toBe(true);
    expect(result.inputTokens).toBeUndefined();
    expect(result.terminated).toBe(true);
  });

  it('gives the same result when every byte arrives in a chunk of its own', () => {
    const pushes = stamp(sseFrames(fixture('openai-usage.sse')), TIMES_US);
    const whole = replay('openai', pushes, 390_000, { captureTextBytes: 1024 });
    const bytes = replay('openai', bytewise(pushes), 390_000, { captureTextBytes: 1024 });

    expect(bytes.result).toEqual(whole.result);
    expect(bytes.gapsUs).toEqual(whole.gapsUs);
    expect(bytes.result.text).toBe(ANSWER);
  });

  it('stamps an event split inside a line with the time of the chunk that completes it', () => {
    const frames = sseFrames(fixture('openai-usage.sse'));
    const first = frames[1] as Buffer;
    const half = Math.floor(first.length / 2);
    const reader = createChatStreamReader('openai');

    reader.push(frames[0] as Buffer, 10_000);
    reader.push(first.subarray(0, half), 250_000);
    expect(reader.lastEventUs).toBe(10_000);
    reader.push(first.subarray(half), 251_700);

    expect(reader.lastEventUs).toBe(251_700);
    expect(reader.end(260_000).firstContentUs).toBe(251_700);
  });

  it('reads a character split across two chunks whole, at the second chunk', () => {
    const frames = sseFrames(fixture('openai-usage.sse'));
    const euroFrame = frames[6] as Buffer;
    const euro = euroFrame.indexOf(Buffer.from('€'));
    const gapsUs: number[] = [];
    const reader = createChatStreamReader('openai', {
      captureTextBytes: 1024,
      onGap: (gap) => gapsUs.push(gap),
    });

    for (let i = 0; i < 6; i++) reader.push(frames[i] as Buffer, (i + 1) * 1000);
    reader.push(euroFrame.subarray(0, euro + 1), 7000);
    reader.push(euroFrame.subarray(euro + 1), 7400);
    for (let i = 7; i < frames.length; i++) reader.push(frames[i] as Buffer, (i + 1) * 1000);
    const result = reader.end(20_000);

    expect(result.text).toBe(ANSWER);
    expect(result.text).not.toContain('\uFFFD');
    expect(gapsUs).toEqual([1000, 1000, 1000, 1000, 1400, 600, 1000]);
  });

  it('reads events merged into one chunk, all at that chunk’s time', () => {
    const pushes = stamp(sseFrames(fixture('openai-usage.sse')), TIMES_US);
    const { result, gapsUs } = replay('openai', merged(pushes), 390_000);

    expect(result.firstContentUs).toBe(381_200);
    expect(result.lastContentUs).toBe(381_200);
    expect(result.contentDeltas).toBe(8);
    expect(gapsUs).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(result.terminated).toBe(true);
  });

  it('ignores keep-alive comments, retry, id and unknown fields over CRLF line ends', () => {
    // Frames: comment, retry, then role-only and 8 content events with a comment after the
    // third content event, then [DONE].
    const frames = sseFrames(fixture('openai-keepalive-crlf.sse'));
    expect(frames).toHaveLength(13);
    const { result, gapsUs, lastEventUs } = replay('openai', stamp(frames), 20_000, {
      captureTextBytes: 1024,
    });

    expect(result.text).toBe(ANSWER);
    expect(result.firstContentUs).toBe(4000);
    expect(gapsUs).toEqual([1000, 1000, 2000, 1000, 1000, 1000, 1000]);
    expect(lastEventUs).toBe(13_000);
    expect(result.failure).toBeUndefined();
    expect(result.terminated).toBe(true);
  });

  it('does not let a keep-alive comment move lastEventUs', () => {
    const reader = createChatStreamReader('openai');
    const frames = sseFrames(fixture('openai-usage.sse'));

    reader.push(frames[0] as Buffer, 1000);
    reader.push(Buffer.from(': keep-alive\n\n'), 15_000_000);

    expect(reader.lastEventUs).toBe(1000);
  });

  it('counts an error object in a data event as an error event', () => {
    const { result } = replay(
      'openai',
      stamp(sseFrames(fixture('openai-error-mid-stream.sse'))),
      9000,
    );

    expect(result.failure).toEqual({
      kind: 'error-event',
      message: 'The server had an error while processing your request. Sorry about that!',
    });
    expect(result.contentDeltas).toBe(3);
    expect(result.terminated).toBe(false);
  });

  it('counts an event named error as an error event, whatever its data', () => {
    const reader = createChatStreamReader('openai');
    reader.push(Buffer.from('event: error\ndata: upstream connect error\n\n'), 5000);
    const result = reader.end(6000);

    expect(result.failure).toEqual({ kind: 'error-event', message: 'upstream connect error' });
    expect([...result.eventNames]).toEqual(['error']);
  });

  it('fails a body that ends inside an event, before [DONE], as truncated', () => {
    const { result } = replay('openai', stamp(sseFrames(fixture('openai-truncated.sse'))), 9000, {
      captureTextBytes: 1024,
    });

    expect(result.failure).toEqual({ kind: 'truncated' });
    expect(result.terminated).toBe(false);
    // The fifth event was cut in half: as the SSE spec says, it is discarded.
    expect(result.contentDeltas).toBe(4);
    expect(result.text).toBe('Our onboarding package starts ');
  });

  it('does not dispatch a last event whose blank line never came', () => {
    const reader = createChatStreamReader('openai');
    reader.push(Buffer.from('data: [DONE]\n'), 1000);

    expect(reader.end(2000).failure).toEqual({ kind: 'truncated' });
  });

  it('records invalid JSON in an event with a sample, and reads on past it', () => {
    const { result } = replay(
      'openai',
      stamp(sseFrames(fixture('openai-invalid-json.sse'))),
      20_000,
      {
        captureTextBytes: 1024,
      },
    );

    expect(result.failure?.kind).toBe('invalid-json');
    expect(result.failure).toMatchObject({ sample: expect.stringContaining('"content":"onboard') });
    expect(result.contentDeltas).toBe(7);
    expect(result.text).toBe('Our package starts at €1,200 per month.');
    expect(result.terminated).toBe(true);
  });

  it('reads a JSON error body sent in place of the stream as an error event', () => {
    const { result } = replay('openai', stamp([fixture('json-openai-error.txt')]), 3000);

    expect(result.failure).toMatchObject({
      kind: 'error-event',
      message: expect.stringMatching(/^Rate limit reached for gpt-4o-mini/),
    });
  });

  it('calls a body of no SSE at all truncated when it is no error body', () => {
    const { result } = replay('openai', stamp([Buffer.from('<html>502 Bad Gateway</html>')]), 3000);

    expect(result.failure).toEqual({ kind: 'truncated' });
    expect(result.firstContentUs).toBeUndefined();
  });
});
