import { afterEach, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { startTestStack } from './helpers.ts';

const PER_REQUEST_MS = 150;
const CONCURRENT = 6;

/** Sends `count` session requests at once; returns each one's duration in ms. */
async function concurrentDurations(url: string, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const started = performance.now();
      const response = await fetch(`${url}/api/session`, { method: 'POST' });
      await response.arrayBuffer();
      return performance.now() - started;
    }),
  );
}

describe('latency under load', () => {
  let stack: DemoStack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('does not grow with requests in flight on the healthy demo', async () => {
    stack = await startTestStack({ flawTuning: { slowPerRequestMs: PER_REQUEST_MS } });
    const durations = await concurrentDurations(stack.demo.url, CONCURRENT);
    // The flaw would make the slowest wait CONCURRENT × 150 ms = 900 ms.
    expect(Math.max(...durations)).toBeLessThan(PER_REQUEST_MS * 2);
  });

  it('grows with the number of requests in flight under the slow flaw', async () => {
    stack = await startTestStack({
      flaws: ['slow'],
      flawTuning: { slowPerRequestMs: PER_REQUEST_MS },
    });
    const alone = await concurrentDurations(stack.demo.url, 1);
    expect(alone[0]).toBeGreaterThanOrEqual(PER_REQUEST_MS - 5);

    const durations = await concurrentDurations(stack.demo.url, CONCURRENT);
    expect(Math.max(...durations)).toBeGreaterThanOrEqual(PER_REQUEST_MS * CONCURRENT - 5);
  });
});
