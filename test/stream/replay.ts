import { readFileSync } from 'node:fs';
import type { ChatStreamReaderOptions } from '../../src/stream/chat-stream-reader.ts';
import { createChatStreamReader } from '../../src/stream/chat-stream-reader.ts';
import type { CustomStreamFormat, StreamFormat } from '../../src/stream/stream-format.ts';
import type { ChatStreamResult } from '../../src/stream/stream-tally.ts';

/** One body chunk and the time the engine would have stamped on it. */
export interface Push {
  chunk: Uint8Array;
  atUs: number;
}

/** The bytes of a recorded-style stream under test/fixtures/streams/. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/streams/${name}`, import.meta.url));
}

/** Splits an SSE body after each blank line, so each frame holds one event (or comment). */
export function sseFrames(body: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const text = body.toString('latin1');
  const separator = /\r\n\r\n|\n\n/g;
  let start = 0;
  for (let match = separator.exec(text); match !== null; match = separator.exec(text)) {
    const end = match.index + match[0].length;
    frames.push(body.subarray(start, end));
    start = end;
  }
  if (start < body.length) frames.push(body.subarray(start));
  return frames;
}

/** Splits a body after each space byte, as a plain text stream sends word by word. */
export function wordFrames(body: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x20) {
      frames.push(body.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < body.length) frames.push(body.subarray(start));
  return frames;
}

/** Stamps frame i with `timesUs[i]`, or with (i + 1) ms when no times are given. */
export function stamp(frames: readonly Uint8Array[], timesUs?: readonly number[]): Push[] {
  return frames.map((chunk, i) => ({ chunk, atUs: timesUs?.[i] ?? (i + 1) * 1000 }));
}

/** The same pushes with every byte a chunk of its own, at its frame's time. */
export function bytewise(pushes: readonly Push[]): Push[] {
  const out: Push[] = [];
  for (const { chunk, atUs } of pushes) {
    for (let i = 0; i < chunk.length; i++) out.push({ chunk: chunk.subarray(i, i + 1), atUs });
  }
  return out;
}

/** All pushes merged into one chunk, at the time of the last. */
export function merged(pushes: readonly Push[]): Push[] {
  const atUs = pushes.at(-1)?.atUs ?? 0;
  return [{ chunk: Buffer.concat(pushes.map((p) => p.chunk)), atUs }];
}

export interface Replay {
  result: ChatStreamResult;
  gapsUs: number[];
  lastEventUs: number | undefined;
}

/** Feeds the pushes to a new reader and ends the body at `endUs`. */
export function replay(
  format: StreamFormat | CustomStreamFormat,
  pushes: readonly Push[],
  endUs: number,
  options: Omit<ChatStreamReaderOptions, 'onGap'> = {},
): Replay {
  const gapsUs: number[] = [];
  const reader = createChatStreamReader(format, { ...options, onGap: (gap) => gapsUs.push(gap) });
  for (const { chunk, atUs } of pushes) reader.push(chunk, atUs);
  const lastEventUs = reader.lastEventUs;
  return { result: reader.end(endUs), gapsUs, lastEventUs };
}
