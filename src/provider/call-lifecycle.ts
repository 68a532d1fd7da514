import type { ServerResponse } from 'node:http';
import type { AnswerFault } from './fault-plan.ts';
import { sendJson } from './http-util.ts';
import { RATE_LIMITS, rateLimitBody, rateLimitHeaders, serverErrorBody } from './openai-wire.ts';
import type { ProviderState } from './provider-state.ts';

/**
 * The life of one chat call, shared by the mock and the proxy: it registers the call so
 * that closing the provider ends it, counts concurrent streams, and tells a caller who left
 * early (aborted) from an end the provider chose (finished, faulted, closed).
 */
export class CallLifecycle {
  #ended = false;
  readonly #state: ProviderState;
  readonly #res: ServerResponse;
  readonly #onClose: (() => void)[] = [];

  constructor(state: ProviderState, res: ServerResponse, streaming: boolean) {
    this.#state = state;
    this.#res = res;
    state.live.set(res, () => this.kill('close'));
    if (streaming) state.counters.streamOpened();
    res.on('close', () => {
      if (!this.#ended) {
        state.counters.aborted();
        this.end();
      }
      if (streaming) state.counters.streamClosed();
      for (const listener of this.#onClose) listener();
    });
  }

  /** True once the provider ended the answer or the caller left. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Runs `listener` when the connection closes, whoever closed it. */
  onClose(listener: () => void): void {
    this.#onClose.push(listener);
  }

  /** Marks the answer as ended by the provider, before the last write. */
  end(): void {
    this.#ended = true;
    this.#state.live.delete(this.#res);
  }

  /** Ends the call by closing the connection: a TCP reset, or a plain close. */
  kill(how: 'reset' | 'close'): void {
    this.end();
    const socket = this.#res.socket;
    if (how === 'reset' && socket && !socket.destroyed) socket.resetAndDestroy();
    else this.#res.destroy();
  }

  /**
   * Acts out a fault that replaces the answer: hang (nothing, until someone closes), hang
   * then close, 429 with OpenAI's body and headers, a 5xx, or a reset before any header.
   */
  answerWith(
    fault: AnswerFault,
    call: { model: string; promptTokens: number; headers: Record<string, string> },
  ): void {
    const { counters, scheduler } = this.#state;
    switch (fault.kind) {
      case 'hang':
        return;
      case 'hang-then-close':
        scheduler.at(performance.now() + fault.afterMs, () => {
          if (!this.#ended) this.kill('close');
        });
        return;
      case 'reset':
        this.kill('reset');
        return;
      case 'rate-limit': {
        const body = rateLimitBody(call.model, fault.limit, fault.retryAfterS, {
          limit: RATE_LIMITS[fault.limit],
          requested: fault.limit === 'requests' ? 1 : call.promptTokens,
        });
        counters.status(429);
        this.end();
        sendJson(this.#res, 429, body, {
          ...call.headers,
          ...rateLimitHeaders(fault.limit, fault.retryAfterS, 0),
          'retry-after': String(Math.ceil(fault.retryAfterS)),
          'retry-after-ms': String(Math.round(fault.retryAfterS * 1000)),
        });
        return;
      }
      case 'server-error':
        counters.status(fault.status);
        this.end();
        sendJson(this.#res, fault.status, serverErrorBody(fault.status), call.headers);
        return;
    }
  }
}
