import { describe, expect, it } from 'vitest';
import { bytewise, fixture, replay, sseFrames, stamp } from './replay.ts';

// Frames of anthropic-usage.sse: message_start, content_block_start, ping, 8
// content_block_delta, content_block_stop, message_delta, message_stop.
const FRAMES = sseFrames(fixture('anthropic-usage.sse'));

describe('the anthropic format', () => {
  it('times the first text_delta, past message_start, content_block_start and ping', () => {
    expect(FRAMES).toHaveLength(14);
    const { result, gapsUs } = replay('anthropic', stamp(FRAMES), 15_000, {
      captureTextBytes: 1024,
    });

    expect(result.firstContentUs).toBe(4000);
    expect(result.lastContentUs).toBe(11_000);
    expect(gapsUs).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000]);
    expect(result.text).toBe('Our onboarding package starts at €1,200 per month.');
  });

  it('takes input tokens from message_start and output tokens from message_delta', () => {
    const { result } = replay('anthropic', stamp(FRAMES), 15_000);

    expect(result.inputTokens).toBe(412);
    expect(result.outputTokens).toBe(9);
    expect(result.tokensEstimated).toBe(false);
  });

  it('ends on message_stop and records every event name it saw', () => {
    const { result } = replay('anthropic', stamp(FRAMES), 15_000);

    expect(result.terminated).toBe(true);
    expect(result.failure).toBeUndefined();
    expect([...result.eventNames].sort()).toEqual([
      'content_block_delta',
      'content_block_start',
      'content_block_stop',
      'message_delta',
      'message_start',
      'message_stop',
      'ping',
    ]);
  });

  it('counts a ping as an event for the idle timer', () => {
    const { lastEventUs } = replay('anthropic', stamp(FRAMES.slice(0, 3)), 5000);

    expect(lastEventUs).toBe(3000);
  });

  it('gives the same result when every byte arrives in a chunk of its own', () => {
    const pushes = stamp(FRAMES);

    expect(replay('anthropic', bytewise(pushes), 15_000).result).toEqual(
      replay('anthropic', pushes, 15_000).result,
    );
  });

  it('reports an overloaded error event mid-stream with the provider’s message', () => {
    const { result } = replay('anthropic', stamp(sseFrames(fixture('anthropic-error.sse'))), 9000);

    expect(result.failure).toEqual({ kind: 'error-event', message: 'Overloaded' });
    expect(result.contentDeltas).toBe(5);
    expect(result.terminated).toBe(false);
    expect(result.eventNames.has('error')).toBe(true);
    // message_delta never came, so the output count is an estimate: 33 characters / 4.
    expect(result.tokensEstimated).toBe(true);
    expect(result.outputTokens).toBe(9);
  });

  it('fails a stream without message_stop as truncated', () => {
    const { result } = replay(
      'anthropic',
      stamp(sseFrames(fixture('anthropic-truncated.sse'))),
      14_000,
    );

    expect(result.failure).toEqual({ kind: 'truncated' });
    expect(result.terminated).toBe(false);
    expect(result.contentDeltas).toBe(8);
  });

  it('does not count the placeholder output count of message_start as the answer’s', () => {
    const { result } = replay('anthropic', stamp(FRAMES.slice(0, 6)), 7000);

    // Three deltas, 23 characters: estimated at 6, not message_start's output_tokens of 1.
    expect(result.tokensEstimated).toBe(true);
    expect(result.outputTokens).toBe(6);
  });
});
