import type { ChatStreamResult } from './stream-tally.ts';

const US_PER_SEC = 1_000_000;

/**
 * Output tokens per second while the answer streamed, as LLM serving benchmarks compute it:
 * the tokens after the first delivery over the time from the first content delta to the last,
 * that is, the inverse of the mean time per output token. Undefined when it cannot be known:
 * fewer than two tokens, or all of them in one delta.
 */
export function outputTokensPerSec(result: ChatStreamResult): number | undefined {
  const { firstContentUs, lastContentUs, outputTokens } = result;
  if (firstContentUs === undefined || lastContentUs === undefined) return undefined;

  const spanUs = lastContentUs - firstContentUs;
  if (outputTokens < 2 || spanUs <= 0) return undefined;
  return ((outputTokens - 1) * US_PER_SEC) / spanUs;
}
