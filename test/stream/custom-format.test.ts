import { describe, expect, it } from 'vitest';
import type { CustomStreamFormat } from '../../src/stream/stream-format.ts';
import { fixture, replay, sseFrames, stamp } from './replay.ts';

// The dialect of custom-dialect.sse: `event: token` carries {"t": text}, `event: end` carries
// the counts and ends the answer, `meta` and `heartbeat` carry nothing of interest.
const dialect: CustomStreamFormat = (event) => {
  if (event.event === 'token') return (JSON.parse(event.data) as { t: string }).t;
  if (event.event === 'end') {
    const counts = JSON.parse(event.data) as { in: number; out: number };
    return { done: true, usage: { inputTokens: counts.in, outputTokens: counts.out } };
  }
  return undefined;
};

describe('a custom format', () => {
  it('reads text, usage and the end of the answer from what the function returns', () => {
    // meta, 4 tokens, heartbeat, 4 tokens, end
    const frames = sseFrames(fixture('custom-dialect.sse'));
    expect(frames).toHaveLength(11);
    const { result, gapsUs } = replay(dialect, stamp(frames), 12_000, { captureTextBytes: 1024 });

    expect(result.text).toBe('Our onboarding package starts at €1,200 per month.');
    expect(result.firstContentUs).toBe(2000);
    expect(gapsUs).toEqual([1000, 1000, 1000, 2000, 1000, 1000, 1000]);
    expect(result.outputTokens).toBe(9);
    expect(result.inputTokens).toBe(412);
    expect(result.terminated).toBe(true);
    expect(result.failure).toBeUndefined();
    expect([...result.eventNames]).toEqual(['meta', 'token', 'heartbeat', 'end']);
  });

  it('fails the stream as truncated when the function never says done', () => {
    const frames = sseFrames(fixture('custom-dialect.sse'));
    const { result } = replay(dialect, stamp(frames.slice(0, -1)), 12_000);

    expect(result.failure).toEqual({ kind: 'truncated' });
  });

  it('counts a JSON.parse failure inside the function as invalid JSON', () => {
    const body = 'event: token\ndata: {"t":"Our "}\n\nevent: token\ndata: {"t":\n\n';
    const { result } = replay(dialect, stamp([Buffer.from(body)]), 2000);

    expect(result.failure).toEqual({ kind: 'invalid-json', sample: '{"t":' });
    expect(result.contentDeltas).toBe(1);
  });

  it('counts any other exception as an error event, never rethrowing it', () => {
    const broken: CustomStreamFormat = () => {
      throw new TypeError('cannot read properties of undefined');
    };
    const { result } = replay(broken, stamp([Buffer.from('data: x\n\n')]), 2000);

    expect(result.failure).toEqual({
      kind: 'error-event',
      message: 'custom stream format threw: cannot read properties of undefined',
    });
  });

  it('takes an error the function reports as an error event', () => {
    const withErrors: CustomStreamFormat = (event) =>
      event.event === 'oops' ? { error: event.data } : event.data;
    const body = 'data: Our \n\nevent: oops\ndata: quota exhausted\n\n';
    const { result } = replay(withErrors, stamp([Buffer.from(body)]), 2000);

    expect(result.failure).toEqual({ kind: 'error-event', message: 'quota exhausted' });
    expect(result.contentDeltas).toBe(1);
  });
});
