import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type Dispatcher, request } from 'undici';
import { CallLifecycle } from './call-lifecycle.ts';
import { estimatePromptTokens } from './chat-request.ts';
import { type FaultPlan, type MidStreamFault, planFaults } from './fault-plan.ts';
import { readBody, sendJson } from './http-util.ts';
import { errorEvent, serverErrorBody } from './openai-wire.ts';
import type { ProviderState } from './provider-state.ts';
import { classifyEvent, type EventFacts, isUsage, SseEventSplitter } from './sse-events.ts';

/** Headers that belong to one hop and are never forwarded (RFC 9110 §7.6.1), and length. */
const HOP_HEADERS = new Set([
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

/** What the proxy learns of a chat request without refusing any: the upstream judges it. */
interface ChatFacts {
  model: string;
  stream: boolean;
  promptTokens: number;
}

interface ProxyContext {
  path: string;
  arrivalMs: number;
  isChat: boolean;
  headers: Record<string, string>;
  dispatcher: Dispatcher;
}

/**
 * Fault proxy: forwards a `/v1/*` call to the upstream unchanged and applies the faults in
 * force to chat completion calls on the way.
 *
 * 1. Read the body; for a chat call, draw its faults exactly as the mock does.
 * 2. Added latency, then a fault that replaces the answer (hang, 429, 5xx, reset) acts
 *    without calling the upstream.
 * 3. Otherwise call the upstream (Authorization passed on, never logged; `accept-encoding:
 *    identity` so the stream can be read) and relay its status, headers and body. A stream
 *    with no event fault is relayed chunk by chunk as it came; one with a pace or mid-stream
 *    fault is relayed event by event, paced on the shared scheduler, and cut after the
 *    fault's count of content events (or at the end of the answer).
 * 4. Tokens are the upstream's usage when it sends one, else the prompt estimate and the
 *    content events relayed. The upstream call is aborted when the caller leaves or a
 *    fault ends the answer, so an abandoned answer stops upstream too.
 */
export async function serveProxy(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
  context: ProxyContext,
): Promise<void> {
  const body = (await readBody(req)) ?? Buffer.alloc(0);
  if (!context.isChat) {
    await relayPlain(state, req, res, body, context);
    return;
  }

  const { counters, options, scheduler } = state;
  const facts = inspectChat(body);
  if (facts.stream) counters.markStreaming();
  const callIndex = state.nextCallIndex++;
  const plan = planFaults(state.faults, { seed: options.seed, callIndex, ...facts });
  for (const kind of plan.applied) counters.fault(kind);

  const call = new CallLifecycle(state, res, facts.stream);
  const upstreamAbort = new AbortController();
  call.onClose(() => upstreamAbort.abort());

  const forward = async (): Promise<void> => {
    if (call.ended) return;
    if (plan.answer) {
      call.answerWith(plan.answer, { ...facts, headers: context.headers });
      return;
    }

    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await callUpstream(state, req, body, context, upstreamAbort.signal);
    } catch {
      if (call.ended) return;
      answerBadGateway(state, call, res, context);
      return;
    }
    if (call.ended) {
      upstream.body.destroy();
      return;
    }

    counters.status(upstream.statusCode);
    const contentType = String(upstream.headers['content-type'] ?? '');
    const relay = { state, call, res, upstream, plan, facts, context, abort: upstreamAbort };
    if (upstream.statusCode === 200 && contentType.includes('text/event-stream')) {
      await relayStream(relay);
    } else {
      await relayWhole(relay);
    }
  };

  if (plan.delayMs > 0) {
    scheduler.at(context.arrivalMs + plan.delayMs, () => {
      forward().catch(() => call.kill('close'));
    });
  } else {
    await forward();
  }
}

interface Relay {
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
async function relayStream(relay: Relay): Promise<void> {
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
async function relayWhole(relay: Relay): Promise<void> {
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

/** Forwards a call that is not a chat completion (`/v1/models`, …) as it is, no faults. */
async function relayPlain(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  context: ProxyContext,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await callUpstream(state, req, body, context, abort.signal);
  } catch {
    if (!res.destroyed) sendJson(res, 502, serverErrorBody(502), context.headers);
    return;
  }
  res.writeHead(upstream.statusCode, relayHeaders(upstream.headers, context.headers));
  try {
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  } catch {
    res.destroy();
  }
}

function callUpstream(
  state: ProviderState,
  req: IncomingMessage,
  body: Buffer,
  context: ProxyContext,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  const root = (state.options.upstream as string).replace(/\/+$/, '').replace(/\/v1$/, '');
  const query = (req.url ?? '').slice(context.path.length);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    headers[name] = value;
  }
  headers['accept-encoding'] = 'identity';

  return request(`${root}${context.path}${query}`, {
    method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
    headers,
    body: body.length > 0 ? body : null,
    signal,
    dispatcher: context.dispatcher,
  });
}

function answerBadGateway(
  state: ProviderState,
  call: CallLifecycle,
  res: ServerResponse,
  context: ProxyContext,
): void {
  state.counters.status(502);
  call.end();
  sendJson(res, 502, serverErrorBody(502), context.headers);
}

/** The upstream's headers minus hop-by-hop ones; ours fill in what it did not send. */
function relayHeaders(
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

function inspectChat(body: Buffer): ChatFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { model: '', stream: false, promptTokens: 0 };
  }
  const { model, stream, messages } = (parsed ?? {}) as Record<string, unknown>;
  return {
    model: typeof model === 'string' ? model : '',
    stream: stream === true,
    promptTokens: Array.isArray(messages) ? estimatePromptTokens(messages) : 0,
  };
}

function readUsage(body: Buffer): { prompt_tokens: number; completion_tokens: number } | undefined {
  try {
    const usage = (JSON.parse(body.toString('utf8')) as { usage?: unknown }).usage;
    return isUsage(usage) ? usage : undefined;
  } catch {
    return undefined;
  }
}
