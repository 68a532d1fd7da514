import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { CallLifecycle } from './call-lifecycle.ts';
import type { FaultPlan, MidStreamFault } from './fault-plan.ts';
import { sendJson } from './http-util.ts';
import { errorEvent, serverErrorBody } from './openai-wire.ts';
import type { ProviderState } from './provider-state.ts';
import type { ChatFacts, ProxyContext } from './proxy.ts';
import { classifyEvent, type EventFacts, isUsage, SseEventSplitter } from './sse-events.ts';

/**
 * The two ways the fault proxy relays an upstream answer to its caller: an SSE stream
 * (chunk by chunk, or event by event when a fault paces or cuts it) and a whole body.
 */

/** Headers that belong to one hop and are never forwarded (RFC 9110 §7.6.1), and length. */
export const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** One upstream answer on its way to the caller. */
export interface Relay {
  state: ProviderState;
  call: CallLifecycle;
  res: ServerResponse;
  upstream: Dispatcher.ResponseData;
  plan: FaultPlan;
  facts: ChatFacts;
  context: ProxyContext;
  abort: AbortController;
}

/** Relays an SSE answer, pacing and cutting it when the plan says so. */
export async function relayStream(relay: Relay): Promise<void> {
  const { state, call, res, upstream, plan, facts, context, abort } = relay;
  const splitter = new SseEventSplitter();
  let usage: EventFacts['usage'];
  let contentEvents = 0;
  let settled = false;
  const settle = (): void => {
    if (settled) return;
    settled = true;
    state.counters.tokens(
      usage?.prompt_tokens ?? facts.promptTokens,
      usage?.completion_tokens ?? contentEvents,
    );
  };
  call.onClose(settle);
  res.writeHead(upstream.statusCode, relayHeaders(upstream.headers, context.headers));

  const paced =
    plan.midStream !== undefined ||
    plan.firstTokenMs !== undefined ||
    plan.tokensPerSec !== undefined;
  if (!paced) {
    try {
      for await (const chunk of upstream.body) {
        for (const event of splitter.push(chunk as Buffer)) {
          const seen = classifyEvent(event);
          if (seen.usage) usage = seen.usage;
          if (seen.kind === 'content') contentEvents++;
        }
        res.write(chunk);
      }
    } catch {
      if (call.ended) return;
      // The upstream broke off: the caller sees the same break.
      settle();
      call.kill('close');
      return;
    }
    settle();
    call.end();
    res.end();
    return;
  }

  // Paced: events wait in a queue and leave at their planned times.
  const queue: { text: string; facts: EventFacts }[] = [];
  let upstreamDone = false;
  let faulted = false;
  let waiting = false;
  let lastContentMs = Number.NaN;

  const fire = (fault: MidStreamFault): void => {
    faulted = true;
    abort.abort();
    settle();
    switch (fault.kind) {
      case 'error-event':
        call.end();
        res.end(errorEvent());
        return;
      case 'stall':
        return;
      case 'reset':
        call.kill('reset');
        return;
      case 'truncate':
        call.end();
        res.end();
        return;
    }
  };

  const pump = (): void => {
    waiting = false;
    while (!faulted && !call.ended) {
      const next = queue[0];
      const nowMs = performance.now();
      if (next === undefined) {
        if (!upstreamDone) return;
        if (plan.midStream) fire(plan.midStream);
        else {
          settle();
          call.end();
          res.end();
        }
        return;
      }

      const isContent = next.facts.kind === 'content';
      const atEnd =
        next.facts.kind === 'finish' || next.facts.kind === 'usage' || next.facts.kind === 'done';
      let dueMs = nowMs;
      if (isContent && contentEvents === 0 && plan.firstTokenMs !== undefined) {
        dueMs = context.arrivalMs + plan.delayMs + plan.firstTokenMs;
      } else if (isContent && contentEvents > 0 && plan.tokensPerSec !== undefined) {
        dueMs = lastContentMs + 1000 / plan.tokensPerSec;
      }
      if (dueMs > nowMs + 1) {
        waiting = true;
        state.scheduler.at(dueMs, pump);
        return;
      }
      if (
        plan.midStream &&
        ((isContent && contentEvents === plan.midStream.afterTokens) || atEnd)
      ) {
        fire(plan.midStream);
        return;
      }

      queue.shift();
      if (next.facts.usage) usage = next.facts.usage;
      if (isContent) {
        contentEvents++;
        lastContentMs = Math.max(dueMs, nowMs);
      }
      res.write(next.text);
    }
  };

  try {
    for await (const chunk of upstream.body) {
      for (const text of splitter.push(chunk as Buffer))
        queue.push({ text, facts: classifyEvent(text) });
      if (!waiting) pump();
      if (faulted || call.ended) return;
    }
  } catch {
    if (faulted || call.ended) return;
    settle();
    call.kill('close');
    return;
  }
  const rest = splitter.rest();
  if (rest !== '') queue.push({ text: rest, facts: classifyEvent(rest) });
  upstreamDone = true;
  if (!waiting) pump();
}

/** Relays a whole (non-streaming or error) answer, delayed or cut when the plan says so. */
export async function relayWhole(relay: Relay): Promise<void> {
  const { state, call, res, upstream, plan, facts, context } = relay;
  let text: Buffer;
  try {
    text = Buffer.from(await upstream.body.arrayBuffer());
  } catch {
    if (call.ended) return;
    state.counters.tokens(facts.promptTokens, 0);
    call.kill('close');
    return;
  }

  const usage = readUsage(text);
  const completionTokens = usage?.completion_tokens ?? 0;
  // An upstream refusal (4xx, 5xx) carries no usage and bills nothing.
  if (usage || upstream.statusCode === 200) {
    state.counters.tokens(usage?.prompt_tokens ?? facts.promptTokens, completionTokens);
  }
  const headers = relayHeaders(upstream.headers, context.headers);
  const ok = upstream.statusCode === 200;

  const send = (): void => {
    if (call.ended) return;
    switch (ok ? plan.midStream?.kind : undefined) {
      case 'error-event':
        call.end();
        sendJson(res, 500, serverErrorBody(500), context.headers);
        return;
      case 'reset':
        call.kill('reset');
        return;
      case 'stall':
        res.writeHead(upstream.statusCode, { ...headers, 'content-length': String(text.length) });
        res.flushHeaders();
        return;
      case 'truncate':
        res.writeHead(upstream.statusCode, { ...headers, 'content-length': String(text.length) });
        call.end();
        res.write(text.subarray(0, Math.floor(text.length / 2)), () => res.socket?.end());
        return;
      default:
        call.end();
        res.writeHead(upstream.statusCode, { ...headers, 'content-length': String(text.length) });
        res.end(text);
    }
  };

  // A slow model would have taken this long to produce the whole answer.
  const slowMs =
    (plan.firstTokenMs ?? 0) +
    (plan.tokensPerSec ? (completionTokens * 1000) / plan.tokensPerSec : 0);
  const dueMs = context.arrivalMs + plan.delayMs + slowMs;
  if (ok && slowMs > 0 && dueMs > performance.now()) state.scheduler.at(dueMs, send);
  else send();
}

/** The upstream's headers minus hop-by-hop ones; ours fill in what it did not send. */
export function relayHeaders(
  upstream: IncomingHttpHeaders,
  ours: Record<string, string>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { ...ours };
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}

function readUsage(body: Buffer): { prompt_tokens: number; completion_tokens: number } | undefined {
  try {
    const usage = (JSON.parse(body.toString('utf8')) as { usage?: unknown }).usage;
    return isUsage(usage) ? usage : undefined;
  } catch {
    return undefined;
  }
}
