import type { FaultRuleInput, ProviderOptions } from '../../src/provider/index.ts';
import { chunksOf, type RawResult } from './raw-client.ts';

/**
 * One fault, how to provoke it and how a client tells it happened. The same table runs
 * against the mock and against the proxy (one conformance suite for both), and each
 * `faulted` check is also run on a healthy call, where it must be false.
 */
export interface FaultCase {
  name: string;
  rule: FaultRuleInput;
  stream: boolean;
  /** The client gives up after this long (for hangs and stalls). */
  timeoutMs: number;
  faulted(result: RawResult): boolean;
}

/** The healthy pace the cases are measured against: 6 tokens, 10 ms to the first, 2 ms apart. */
export const CASE_PROVIDER: ProviderOptions = {
  ttftMs: 10,
  tokensPerSec: 500,
  completionTokens: 6,
};

const QUICK_MS = 2_000;
/**
 * How long a client waits before calling a call hung or stalled. A healthy call takes about
 * 25 ms; on a loaded two-core machine it has been seen to take 70.
 */
const HANG_WAIT_MS = 250;

function medianGapMs(result: RawResult): number {
  const times = contentTimes(result);
  const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] ?? 0;
}

function contentTimes(result: RawResult): number[] {
  return result.events.flatMap((event, i) => {
    if (event === '[DONE]') return [];
    const chunk = JSON.parse(event) as { choices?: { delta?: { content?: string } }[] };
    const content = chunk.choices?.[0]?.delta?.content;
    return typeof content === 'string' && content !== '' ? [result.eventMs[i] as number] : [];
  });
}

export function contentEvents(result: RawResult): number {
  return chunksOf(result).filter((chunk) => {
    const choices = chunk.choices as { delta?: { content?: string } }[] | undefined;
    return typeof choices?.[0]?.delta?.content === 'string' && choices[0].delta.content !== '';
  }).length;
}

const done = (r: RawResult): boolean => r.events.at(-1) === '[DONE]' && r.error === undefined;
const hasFinish = (r: RawResult): boolean =>
  chunksOf(r).some((chunk) => {
    const choices = chunk.choices as { finish_reason?: unknown }[] | undefined;
    return choices?.[0]?.finish_reason !== null && choices?.[0]?.finish_reason !== undefined;
  });

export const FAULT_CASES: readonly FaultCase[] = [
  {
    name: 'latency delays the headers',
    rule: { kind: 'latency', delayMs: 150 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) => (r.headersMs ?? 0) >= 140 && done(r),
  },
  {
    name: 'slow-first-token delays the first content, not the role chunk',
    rule: { kind: 'slow-first-token', delayMs: 150 },
    stream: true,
    timeoutMs: QUICK_MS,
    // From the role chunk, so that a slow connection on a loaded machine does not count.
    faulted: (r) => (r.firstContentMs ?? 0) - (r.eventMs[0] ?? 0) >= 130 && done(r),
  },
  {
    name: 'slow-tokens slows the pace',
    rule: { kind: 'slow-tokens', tokensPerSec: 50 },
    stream: true,
    timeoutMs: QUICK_MS,
    // The median gap is 20 ms, against 2 ms healthy; a median shrugs off one scheduling stall.
    faulted: (r) => medianGapMs(r) >= 15 && done(r),
  },
  {
    name: 'hang never answers',
    rule: { kind: 'hang' },
    stream: true,
    timeoutMs: HANG_WAIT_MS,
    faulted: (r) => r.timedOut && r.status === undefined,
  },
  {
    name: 'hang-then-close closes the connection without an answer',
    rule: { kind: 'hang-then-close', afterMs: 60 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) => !r.timedOut && r.error !== undefined && r.status === undefined && r.endMs >= 55,
  },
  {
    name: 'rate-limit answers 429 with retry-after',
    rule: { kind: 'rate-limit', retryAfterS: 2 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) =>
      r.status === 429 &&
      r.headers['retry-after'] === '2' &&
      JSON.parse(r.body).error.code === 'rate_limit_exceeded',
  },
  {
    name: 'server-error answers the status with a server_error body',
    rule: { kind: 'server-error', status: 503 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) => r.status === 503 && JSON.parse(r.body).error.type === 'server_error',
  },
  {
    name: 'error-event sends an error event after the tokens and ends',
    rule: { kind: 'error-event', afterTokens: 3 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) =>
      r.status === 200 &&
      r.error === undefined &&
      contentEvents(r) === 3 &&
      (JSON.parse(r.events.at(-1) ?? '{}') as { error?: { type?: string } }).error?.type ===
        'server_error',
  },
  {
    name: 'stall stops sending after the tokens and keeps the connection open',
    rule: { kind: 'stall', afterTokens: 2 },
    stream: true,
    timeoutMs: HANG_WAIT_MS,
    faulted: (r) => r.timedOut && r.status === 200 && contentEvents(r) === 2,
  },
  {
    name: 'reset before headers resets the connection',
    rule: { kind: 'reset', afterTokens: 0 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) => r.error === 'ECONNRESET' && r.status === undefined,
  },
  {
    name: 'reset mid-stream resets the connection after the tokens',
    rule: { kind: 'reset', afterTokens: 3 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) => r.error === 'ECONNRESET' && r.status === 200 && contentEvents(r) === 3,
  },
  {
    name: 'truncate ends the body cleanly without finish, usage or [DONE]',
    rule: { kind: 'truncate', afterTokens: 4 },
    stream: true,
    timeoutMs: QUICK_MS,
    faulted: (r) =>
      r.status === 200 &&
      r.error === undefined &&
      !r.timedOut &&
      contentEvents(r) === 4 &&
      !hasFinish(r) &&
      !r.events.includes('[DONE]'),
  },
  {
    name: 'latency delays a non-streaming answer',
    rule: { kind: 'latency', delayMs: 150 },
    stream: false,
    timeoutMs: QUICK_MS,
    faulted: (r) => (r.headersMs ?? 0) >= 140 && r.status === 200,
  },
  {
    name: 'error-event turns a non-streaming answer into a 500',
    rule: { kind: 'error-event', afterTokens: 3 },
    stream: false,
    timeoutMs: QUICK_MS,
    faulted: (r) => r.status === 500 && JSON.parse(r.body).error.type === 'server_error',
  },
  {
    name: 'stall sends a non-streaming answer its headers and no body',
    rule: { kind: 'stall', afterTokens: 3 },
    stream: false,
    timeoutMs: HANG_WAIT_MS,
    faulted: (r) => r.timedOut && r.status === 200 && r.body === '',
  },
  {
    name: 'truncate cuts a non-streaming body short of its length',
    rule: { kind: 'truncate', afterTokens: 3 },
    stream: false,
    timeoutMs: QUICK_MS,
    faulted: (r) => r.status === 200 && r.error !== undefined && r.body.length > 0,
  },
  {
    name: 'reset mid-answer resets a non-streaming call',
    rule: { kind: 'reset', afterTokens: 3 },
    stream: false,
    timeoutMs: QUICK_MS,
    faulted: (r) => r.error === 'ECONNRESET' && r.status === undefined,
  },
];

/** Streaming calls ask for usage, so a truncated stream visibly lacks it. */
export function caseBody(testCase: FaultCase): Record<string, unknown> {
  return {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Can I book a call this week?' }],
    stream: testCase.stream,
    ...(testCase.stream ? { stream_options: { include_usage: true } } : {}),
  };
}
