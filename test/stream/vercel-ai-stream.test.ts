import { describe, expect, it } from 'vitest';
import { bytewise, fixture, replay, sseFrames, stamp } from './replay.ts';

const ANSWER = 'Our onboarding package starts at €1,200 per month.';

describe('the vercel-ai format', () => {
  it('times text-delta parts, past start, start-step and text-start', () => {
    // start, start-step, text-start, 8 text-delta, text-end, finish-step, finish, [DONE]
    const frames = sseFrames(fixture('vercel-ai-usage.sse'));
    expect(frames).toHaveLength(15);
    const { result, gapsUs } = replay('vercel-ai', stamp(frames), 16_000, {
      captureTextBytes: 1024,
    });

    expect(result.firstContentUs).toBe(4000);
    expect(result.lastContentUs).toBe(11_000);
    expect(gapsUs).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000]);
    expect(result.text).toBe(ANSWER);
    expect(result.terminated).toBe(true);
    expect(result.failure).toBeUndefined();
  });

  it('reads usage from the finish part’s messageMetadata', () => {
    const { result } = replay(
      'vercel-ai',
      stamp(sseFrames(fixture('vercel-ai-usage.sse'))),
      16_000,
    );

    expect(result.inputTokens).toBe(412);
    expect(result.outputTokens).toBe(9);
    expect(result.tokensEstimated).toBe(false);
  });

  it('estimates tokens when the finish part carries no usage', () => {
    const { result } = replay(
      'vercel-ai',
      stamp(sseFrames(fixture('vercel-ai-no-usage.sse'))),
      16_000,
    );

    expect(result.outputTokens).toBe(13);
    expect(result.tokensEstimated).toBe(true);
    expect(result.inputTokens).toBeUndefined();
  });

  it('reports an error part with its errorText', () => {
    const { result } = replay('vercel-ai', stamp(sseFrames(fixture('vercel-ai-error.sse'))), 9000);

    expect(result.failure).toEqual({
      kind: 'error-event',
      message: 'Upstream model provider timed out',
    });
    expect(result.contentDeltas).toBe(2);
  });

  it('reports an abort part as an error event with its reason', () => {
    const body = 'data: {"type":"start"}\n\ndata: {"type":"abort","reason":"user"}\n\n';
    const { result } = replay('vercel-ai', stamp([Buffer.from(body)]), 2000);

    expect(result.failure).toEqual({ kind: 'error-event', message: 'stream aborted: user' });
  });

  it('records a fallback event by name, and the fallback text when capture is on', () => {
    const frames = sseFrames(fixture('vercel-ai-fallback.sse'));
    const { result } = replay('vercel-ai', bytewise(stamp(frames)), 20_000, {
      captureTextBytes: 1024,
    });

    expect([...result.eventNames]).toEqual(['fallback']);
    expect(result.text).toBe(ANSWER);
    expect(result.firstContentUs).toBe(5000);
  });

  it('keeps no text unless capture is asked for', () => {
    const { result } = replay(
      'vercel-ai',
      stamp(sseFrames(fixture('vercel-ai-fallback.sse'))),
      20_000,
    );

    expect(result.text).toBeUndefined();
    expect(result.eventNames.has('fallback')).toBe(true);
  });

  it('fails a stream that stops after finish but before [DONE] as truncated', () => {
    const frames = sseFrames(fixture('vercel-ai-usage.sse'));
    const { result } = replay('vercel-ai', stamp(frames.slice(0, -1)), 16_000);

    expect(result.failure).toEqual({ kind: 'truncated' });
    expect(result.outputTokens).toBe(9);
  });
});
