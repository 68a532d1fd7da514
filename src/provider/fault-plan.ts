import type { FaultKind, FaultRule } from './fault-rules.ts';
import { drawUniform } from './random.ts';

/** A fault that answers instead of the model, before any token. */
export type AnswerFault =
  | { kind: 'hang' }
  | { kind: 'hang-then-close'; afterMs: number }
  | { kind: 'rate-limit'; retryAfterS: number; limit: 'requests' | 'tokens' }
  | { kind: 'server-error'; status: number }
  | { kind: 'reset' };

/** A fault that ends an answer after some tokens. */
export type MidStreamFault = {
  kind: 'error-event' | 'stall' | 'reset' | 'truncate';
  afterTokens: number;
};

/** What the faults in force do to one call. */
export interface FaultPlan {
  /** Faults applied to this call, each counted once. */
  applied: FaultKind[];
  /** Added before the answer starts. */
  delayMs: number;
  answer: AnswerFault | undefined;
  /** Replaces the drawn time to first token. */
  firstTokenMs: number | undefined;
  /** Replaces the configured pace. */
  tokensPerSec: number | undefined;
  midStream: MidStreamFault | undefined;
}

/** What a fault rule can be scoped on. */
export interface CallFacts {
  seed: number;
  callIndex: number;
  stream: boolean;
  model: string;
}

/** Keeps the draws of fault fractions apart from the draws of text and timing. */
const FRACTION_PURPOSE = 0xfa_0000;

/**
 * Decides which rules apply to one call.
 *
 * 1. A rule matches when its scope (stream, model) fits the call.
 * 2. It applies when the call's seeded draw for it, uniform in [0, 1), is below `fraction`:
 *    the draw depends only on (seed, call index, rule position), so the same seed faults the
 *    same calls.
 * 3. Latencies add up. Of the faults that replace the answer (hang, 429, 5xx, reset before
 *    headers) the first in list order wins; so does the first mid-stream fault. Pace faults
 *    and mid-stream faults are dropped when the answer is replaced. Dropped ones are not
 *    counted as applied.
 */
export function planFaults(rules: readonly FaultRule[], call: CallFacts): FaultPlan {
  const plan: FaultPlan = {
    applied: [],
    delayMs: 0,
    answer: undefined,
    firstTokenMs: undefined,
    tokensPerSec: undefined,
    midStream: undefined,
  };
  const paced: FaultRule[] = [];

  rules.forEach((rule, position) => {
    if (rule.stream !== undefined && rule.stream !== call.stream) return;
    if (rule.model !== undefined && rule.model !== call.model) return;
    const draw = drawUniform(call.seed, call.callIndex, FRACTION_PURPOSE + position);
    if (draw >= rule.fraction) return;

    switch (rule.kind) {
      case 'latency': {
        const jitter = (drawUniform(call.seed, call.callIndex, position) * 2 - 1) * rule.jitterMs;
        plan.delayMs += Math.max(0, rule.delayMs + jitter);
        plan.applied.push(rule.kind);
        return;
      }
      case 'hang':
      case 'hang-then-close':
      case 'rate-limit':
      case 'server-error':
        if (plan.answer) return;
        plan.answer = answerFault(rule);
        plan.applied.push(rule.kind);
        return;
      case 'reset':
        if (rule.afterTokens === 0) {
          if (plan.answer) return;
          plan.answer = { kind: 'reset' };
          plan.applied.push(rule.kind);
          return;
        }
        paced.push(rule);
        return;
      default:
        paced.push(rule);
    }
  });

  if (plan.answer) return plan;
  for (const rule of paced) {
    switch (rule.kind) {
      case 'slow-first-token':
        if (plan.firstTokenMs !== undefined) continue;
        plan.firstTokenMs = rule.delayMs;
        break;
      case 'slow-tokens':
        if (plan.tokensPerSec !== undefined) continue;
        plan.tokensPerSec = rule.tokensPerSec;
        break;
      case 'error-event':
      case 'stall':
      case 'reset':
      case 'truncate':
        if (plan.midStream) continue;
        plan.midStream = { kind: rule.kind, afterTokens: rule.afterTokens };
        break;
      default:
        continue;
    }
    plan.applied.push(rule.kind);
  }
  return plan;
}

function answerFault(
  rule: Extract<FaultRule, { kind: 'hang' | 'hang-then-close' | 'rate-limit' | 'server-error' }>,
): AnswerFault {
  switch (rule.kind) {
    case 'hang':
      return { kind: 'hang' };
    case 'hang-then-close':
      return { kind: 'hang-then-close', afterMs: rule.afterMs };
    case 'rate-limit':
      return { kind: 'rate-limit', retryAfterS: rule.retryAfterS, limit: rule.limit };
    case 'server-error':
      return { kind: 'server-error', status: rule.status };
  }
}
