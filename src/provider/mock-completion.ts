import { channel } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { answerText, drawAnswer } from './answer-text.ts';
import { CallLifecycle } from './call-lifecycle.ts';
import type { ChatRequest } from './chat-request.ts';
import { type MidStreamFault, planFaults } from './fault-plan.ts';
import { sendJson } from './http-util.ts';
import {
  ChunkWriter,
  completionId,
  completionObject,
  DONE_EVENT,
  errorEvent,
  rateLimitHeaders,
  serverErrorBody,
} from './openai-wire.ts';
import type { ProviderState } from './provider-state.ts';
import { createRandom, mixSeed, sample } from './random.ts';

/**
 * Diagnostics channel on which every token written is published as `{ lateMs }`: the write
 * time minus the planned time. Free when nobody subscribes; the benchmark does.
 */
export const TOKEN_CHANNEL = 'launchproof:provider:token';
const tokenChannel = channel(TOKEN_CHANNEL);

/** Keeps the draws of text and timing apart from the draws of fault fractions. */
const ANSWER_PURPOSE = 0xa5;

/** What the answer of one call will be, drawn before anything is sent. */
interface AnswerPlan {
  tokens: Uint16Array;
  finishReason: 'stop' | 'length';
  /** Planned send time of each token, performance.now() milliseconds. */
  dueMs: Float64Array;
}

/**
 * Answers one valid chat completion call as the mock model, faults applied.
 *
 * 1. Draw the faults for the call, then its answer: length (capped by max_tokens), text,
 *    first-token delay and the gaps between tokens, all from the call's seeded stream.
 * 2. Wait out added latency; a fault that replaces the answer (hang, 429, 5xx, reset) acts.
 * 3. Streaming: headers and the role chunk at once, each token at its planned time on the
 *    shared scheduler, then finish, usage (when asked) and [DONE]. Non-streaming: the whole
 *    object when the last token would have been generated.
 * 4. A mid-stream fault acts when its token count is reached (or instead of the finish).
 * The call counts as aborted when the caller closes before the provider ended it.
 */
export function serveMockCompletion(
  state: ProviderState,
  res: ServerResponse,
  request: ChatRequest,
  arrivalMs: number,
  headers: Record<string, string>,
): void {
  const { options, counters, scheduler } = state;
  const callIndex = state.nextCallIndex++;
  const plan = planFaults(state.faults, {
    seed: options.seed,
    callIndex,
    stream: request.stream,
    model: request.model,
  });
  for (const kind of plan.applied) counters.fault(kind);
  const answer = planAnswer(state, request, callIndex, arrivalMs, plan);

  const call = new CallLifecycle(state, res, request.stream);
  let sent = 0;

  const okHeaders = (contentType: string): Record<string, string> => ({
    ...headers,
    ...rateLimitHeaders(undefined, 0, request.promptTokens),
    'openai-processing-ms': String(Math.round(performance.now() - arrivalMs)),
    'content-type': contentType,
  });

  const midStreamAt = plan.midStream
    ? Math.min(plan.midStream.afterTokens, answer.tokens.length)
    : Number.POSITIVE_INFINITY;

  const startStream = (): void => {
    const writer = new ChunkWriter({
      id: completionId(options.seed, callIndex),
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      includeUsage: request.includeUsage,
      includeObfuscation: request.includeObfuscation,
    });
    counters.status(200);
    res.writeHead(200, {
      ...okHeaders('text/event-stream; charset=utf-8'),
      'cache-control': 'no-cache',
    });
    res.write(writer.role());
    // Token times are planned from the role chunk, as a client sees them: reading and
    // parsing the body (or a late timer) must not eat into the first-token delay.
    const shiftMs = performance.now() - (arrivalMs + plan.delayMs);
    if (shiftMs > 0) {
      for (let i = 0; i < answer.dueMs.length; i++) {
        answer.dueMs[i] = (answer.dueMs[i] as number) + shiftMs;
      }
    }

    const step = (dueMs: number): void => {
      if (call.ended) return;
      if (sent === midStreamAt && plan.midStream) {
        breakStream(plan.midStream);
        return;
      }
      writeToken(res, writer, answer.tokens[sent] as number);
      if (tokenChannel.hasSubscribers) tokenChannel.publish({ lateMs: performance.now() - dueMs });
      sent++;
      counters.tokens(0, 1);
      if (sent < answer.tokens.length || midStreamAt === sent) {
        scheduler.at(answer.dueMs[sent] ?? performance.now(), step);
        return;
      }
      const usage = request.includeUsage ? writer.usage(request.promptTokens, sent) : '';
      call.end();
      res.end(`${writer.finish(answer.finishReason)}${usage}${DONE_EVENT}`);
    };
    scheduler.at(answer.dueMs[0] as number, step);
  };

  const breakStream = (fault: MidStreamFault): void => {
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

  const sendWhole = (): void => {
    if (call.ended) return;
    const produced = Math.min(midStreamAt, answer.tokens.length);
    const body = JSON.stringify(
      completionObject({
        id: completionId(options.seed, callIndex),
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        content: answerText(answer.tokens),
        finishReason: answer.finishReason,
        promptTokens: request.promptTokens,
        completionTokens: answer.tokens.length,
      }),
    );
    counters.tokens(0, produced);
    switch (plan.midStream?.kind) {
      case undefined:
        break;
      case 'error-event':
        counters.status(500);
        call.end();
        sendJson(res, 500, serverErrorBody(500), headers);
        return;
      case 'reset':
        call.kill('reset');
        return;
      case 'stall':
        counters.status(200);
        res.writeHead(200, {
          ...okHeaders('application/json'),
          'content-length': Buffer.byteLength(body),
        });
        res.flushHeaders();
        return;
      case 'truncate': {
        // The length promises the whole object; the connection closes after half of it.
        counters.status(200);
        res.writeHead(200, {
          ...okHeaders('application/json'),
          'content-length': Buffer.byteLength(body),
        });
        call.end();
        res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.end());
        return;
      }
    }
    counters.status(200);
    call.end();
    res.writeHead(200, {
      ...okHeaders('application/json'),
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const begin = (): void => {
    if (call.ended) return;
    if (plan.answer) {
      call.answerWith(plan.answer, { ...request, headers });
      return;
    }
    // The prompt counts once the model starts on it: a 429 or a 5xx is not billed.
    counters.tokens(request.promptTokens, 0);
    if (request.stream) startStream();
    else scheduler.at(answer.dueMs[answer.dueMs.length - 1] as number, sendWhole);
  };
  if (plan.delayMs > 0) scheduler.at(arrivalMs + plan.delayMs, begin);
  else begin();
}

/**
 * Writes one token's event as an HTTP chunk straight to the socket. `res.write` would do
 * the same framing in four buffers, a cork and a next-tick uncork per call; at 20,000
 * tokens a second that was most of the provider's CPU. Only after the headers went out
 * (the role chunk is written through `res`), and only while the answer is chunked.
 */
function writeToken(res: ServerResponse, writer: ChunkWriter, index: number): void {
  const socket = res.socket;
  if (socket === null || socket.destroyed || !res.headersSent || !res.chunkedEncoding) {
    res.write(writer.token(index));
    return;
  }
  socket.write(writer.framedToken(index));
}

function planAnswer(
  state: ProviderState,
  request: ChatRequest,
  callIndex: number,
  arrivalMs: number,
  plan: ReturnType<typeof planFaults>,
): AnswerPlan {
  const { options } = state;
  const random = createRandom(mixSeed(options.seed, callIndex, ANSWER_PURPOSE));

  const drawn = Math.max(1, Math.round(sample(options.completionTokens, random)));
  const length = request.maxTokens === undefined ? drawn : Math.min(drawn, request.maxTokens);
  const tokens = drawAnswer(length, random);

  const ttftMs = plan.firstTokenMs ?? sample(options.ttftMs, random);
  const gapMs = 1000 / (plan.tokensPerSec ?? options.tokensPerSec);
  const dueMs = new Float64Array(length);
  let at = arrivalMs + plan.delayMs + ttftMs;
  for (let i = 0; i < length; i++) {
    if (i > 0) at += Math.max(0, gapMs + (random() * 2 - 1) * options.tokenJitterMs);
    dueMs[i] = at;
  }

  return { tokens, finishReason: length < drawn ? 'length' : 'stop', dueMs };
}
