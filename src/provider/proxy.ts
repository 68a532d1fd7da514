import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Dispatcher, request } from 'undici';
import { CallLifecycle } from './call-lifecycle.ts';
import { estimatePromptTokens } from './chat-request.ts';
import { planFaults } from './fault-plan.ts';
import { readBody, sendJson } from './http-util.ts';
import { serverErrorBody } from './openai-wire.ts';
import type { ProviderState } from './provider-state.ts';
import { HOP_HEADERS, relayHeaders, relayStream, relayWhole } from './proxy-relay.ts';

/** What the proxy learns of a chat request without refusing any: the upstream judges it. */
export interface ChatFacts {
  model: string;
  stream: boolean;
  promptTokens: number;
}

export interface ProxyContext {
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
