import { describe, expect, it } from 'vitest';
import { createChatStreamReader } from '../../src/stream/chat-stream-reader.ts';
import type { CustomStreamFormat, StreamFormat } from '../../src/stream/stream-format.ts';
import { STREAM_FORMATS } from '../../src/stream/stream-format.ts';
import type { Push } from './replay.ts';
import { bytewise, fixture, replay, sseFrames, stamp, wordFrames } from './replay.ts';

const ANSWER = 'Our onboarding package starts at €1,200 per month.';

const tokenDialect: CustomStreamFormat = (event) => {
  if (event.event === 'token') return (JSON.parse(event.data) as { t: string }).t;
  return event.event === 'end' ? { done: true } : undefined;
};

interface Case {
  name: string;
  format: StreamFormat | CustomStreamFormat;
  frames: Buffer[];
  /** What a body cut short (its last frame lost, or a json body cut in half) fails as. */
  cutFailure: 'truncated' | 'invalid-json' | undefined;
}

const CASES: Case[] = [
  {
    name: 'openai',
    format: 'openai',
    frames: sseFrames(fixture('openai-usage.sse')),
    cutFailure: 'truncated',
  },
  {
    name: 'anthropic',
    format: 'anthropic',
    frames: sseFrames(fixture('anthropic-usage.sse')),
    cutFailure: 'truncated',
  },
  {
    name: 'vercel-ai',
    format: 'vercel-ai',
    frames: sseFrames(fixture('vercel-ai-usage.sse')),
    cutFailure: 'truncated',
  },
  // A plain text body has no terminator of its own: only the engine can tell it was cut.
  {
    name: 'text',
    format: 'text',
    frames: wordFrames(fixture('text-answer.txt')),
    cutFailure: undefined,
  },
  {
    name: 'json',
    format: 'json',
    frames: halves(fixture('json-openai.txt')),
    cutFailure: 'invalid-json',
  },
  {
    name: 'custom',
    format: tokenDialect,
    frames: sseFrames(fixture('custom-dialect.sse')),
    cutFailure: 'truncated',
  },
];

describe.each(CASES)('every format ($name)', ({ format, frames }) => {
  it('reads the whole answer, terminated and without failure', () => {
    const { result } = replay(format, stamp(frames), 100_000, { captureTextBytes: 1024 });

    expect(result.text).toBe(ANSWER);
    expect(result.terminated).toBe(true);
    expect(result.failure).toBeUndefined();
    expect(result.firstContentUs).toBeDefined();
    expect(result.endUs).toBe(100_000);
  });

  it('keeps the text and the first content time when every byte is a chunk of its own', () => {
    const pushes = stamp(frames);
    const whole = replay(format, pushes, 100_000, { captureTextBytes: 1024 });
    const bytes = replay(format, bytewise(pushes), 100_000, { captureTextBytes: 1024 });

    expect(bytes.result.text).toBe(whole.result.text);
    expect(bytes.result.firstContentUs).toBe(whole.result.firstContentUs);
    expect(bytes.result.lastContentUs).toBe(whole.result.lastContentUs);
  });

  it('reads a character split across two chunks whole', () => {
    const pushes = splitInsideEuro(stamp(frames));
    const { result } = replay(format, pushes, 100_000, { captureTextBytes: 1024 });

    expect(result.text).toBe(ANSWER);
  });

  it('takes a stall the engine detected, after content, as the failure', () => {
    const reader = createChatStreamReader(format);
    for (const { chunk, atUs } of stamp(frames.slice(0, -1))) reader.push(chunk, atUs);
    const result = reader.fail({ kind: 'stalled', idleMs: 2000 }, 50_000);

    expect(result.failure).toEqual({ kind: 'stalled', idleMs: 2000 });
    expect(result.terminated).toBe(false);
    expect(result.endUs).toBe(50_000);
  });

  it('ignores chunks after the end and answers the same result twice', () => {
    const reader = createChatStreamReader(format);
    for (const { chunk, atUs } of stamp(frames)) reader.push(chunk, atUs);
    const first = reader.end(100_000);
    reader.push(Buffer.from('data: {"type":"text-delta","delta":"late"}\n\n'), 200_000);

    expect(reader.end(300_000)).toBe(first);
    expect(reader.fail({ kind: 'stalled', idleMs: 1 }, 400_000)).toBe(first);
  });

  it('never throws on random bytes cut at random places', () => {
    const random = mulberry32(7);
    for (let round = 0; round < 50; round++) {
      const reader = createChatStreamReader(format, { maxBufferChars: 4096, onGap: () => {} });
      for (let i = 0; i < 20; i++) {
        const chunk = new Uint8Array(1 + Math.floor(random() * 300));
        for (let j = 0; j < chunk.length; j++) chunk[j] = pickByte(random);
        reader.push(chunk, i * 1000);
      }
      expect(() => reader.end(30_000)).not.toThrow();
    }
  });
});

// In the text format a chunk is a delta by definition, so splitting chunks changes the
// count of deltas; in every other format the framing of the bytes must not matter.
describe.each(CASES.filter((c) => c.format !== 'text'))(
  'every format but text, whose chunks are its deltas ($name)',
  ({ format, frames }) => {
    it('gives the same result when every byte is a chunk of its own', () => {
      const pushes = stamp(frames);
      const whole = replay(format, pushes, 100_000, { captureTextBytes: 1024 });
      const bytes = replay(format, bytewise(pushes), 100_000, { captureTextBytes: 1024 });

      expect(bytes.result).toEqual(whole.result);
      expect(bytes.gapsUs).toEqual(whole.gapsUs);
    });
  },
);

describe.each(CASES.filter((c) => c.cutFailure !== undefined))(
  'every format with a terminator ($name)',
  ({ format, frames, cutFailure }) => {
    it(`fails a body cut short as ${cutFailure}`, () => {
      const cut = frames.slice(0, -1);
      const { result } = replay(format, stamp(cut), 100_000);

      expect(result.failure?.kind).toBe(cutFailure);
      expect(result.terminated).toBe(false);
    });
  },
);

it('covers every built-in format in the conformance suite', () => {
  expect(STREAM_FORMATS.filter((f) => !CASES.some((c) => c.format === f))).toEqual([]);
});

function halves(body: Buffer): Buffer[] {
  const middle = Math.floor(body.length / 2);
  return [body.subarray(0, middle), body.subarray(middle)];
}

/** Splits the chunk holding `€` between its first and second byte; the rest 1 µs later. */
function splitInsideEuro(pushes: Push[]): Push[] {
  const euro = Buffer.from('€');
  return pushes.flatMap((push) => {
    const at = Buffer.from(push.chunk).indexOf(euro);
    if (at < 0) return [push];
    return [
      { chunk: push.chunk.subarray(0, at + 1), atUs: push.atUs },
      { chunk: push.chunk.subarray(at + 1), atUs: push.atUs + 1 },
    ];
  });
}

// Bytes that stress the parser: mostly SSE syntax and JSON punctuation, some UTF-8 leads.
const ALPHABET = Buffer.from('data: event:error\n\n\r{}[]":,DONE id: retry: x \u00e9\u20ac');

function pickByte(random: () => number): number {
  return random() < 0.8
    ? (ALPHABET[Math.floor(random() * ALPHABET.length)] as number)
    : Math.floor(random() * 256);
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
