import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import CircuitBreaker from 'opossum';
import type { FallbackReason } from './fallback.ts';
import type { DemoFlaw } from './flaws.ts';
import type { ResolvedDemoConfig } from './options.ts';
import type { AnswerUsage } from './ui-message-stream.ts';

/** One turn of the conversation sent to the provider. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** A provider stream that has produced its first content token. */
export interface OpenedAnswer {
  first: string;
  /** Provider calls this answer took (more than one only with `retry-storm`). */
  attempts: number;
  /** Reads the rest of the stream; see `readRest`. */
  readRest(sink: RestSink): Promise<RestOutcome>;
}

/** Receives the rest of an answer as it streams. */
export interface RestSink {
  delta(text: string): void;
  usage(usage: AnswerUsage): void;
}

/** How the rest of an answer ended. */
export type RestOutcome =
  | { kind: 'complete' }
  | { kind: 'aborted' }
  | { kind: 'failed'; reason: Extract<FallbackReason, 'stream-stall' | 'stream-error'> };

/** Why opening an answer failed, with the provider's HTTP status when it sent one. */
export type OpenFailure = { reason: FallbackReason; status: number | undefined };

/** What opening an answer came to; `caller-left` when the caller's signal ended it. */
export type OpenResult =
  | { kind: 'opened'; answer: OpenedAnswer }
  | { kind: 'failed'; failure: OpenFailure }
  | { kind: 'caller-left' };

/** The breaker's state, as `/health` shows it. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'none';

const SYSTEM_PROMPT =
  'You are the website assistant of a B2B services firm. Answer questions about services, ' +
  'pricing and availability briefly, and offer to book a call when a visitor is ready.';

/** Thrown inside an attempt when the caller gave up; not the provider's fault. */
class CallerAbort extends Error {}

class AttemptFailure extends Error {
  constructor(readonly failure: OpenFailure) {
    super(failure.reason);
  }
}

const TIMED_OUT = Symbol('first-token deadline');
const STALLED = Symbol('idle deadline');

/**
 * Talks to the LLM provider through the official `openai` SDK, the way a careful team
 * would: the SDK's ten-minute default timeout and its retries overridden, a deadline to the
 * first token, an idle deadline between tokens, and an opossum breaker around opening the
 * stream so that a failing provider is not hammered. Flaws remove one of these each.
 */
export class ProviderGateway {
  readonly #client: OpenAI;
  readonly #breaker: CircuitBreaker<[ChatTurn[], AbortSignal], OpenedAnswer> | undefined;
  readonly #config: ResolvedDemoConfig;
  readonly #flaws: ReadonlySet<DemoFlaw>;

  constructor(config: ResolvedDemoConfig, apiKey: string) {
    this.#config = config;
    this.#flaws = new Set(config.flaws);
    const waitsForever = this.#flaws.has('no-fallback');

    this.#client = new OpenAI({
      apiKey,
      baseURL: config.providerUrl,
      // The SDK would otherwise wait ten minutes and retry twice behind our back.
      ...(waitsForever ? {} : { timeout: config.providerTimeoutMs }),
      maxRetries: 0,
      // The SDK logs to the console by default; the demo logs through fastify only.
      logLevel: 'off',
    });

    if (waitsForever) return;
    this.#breaker = new CircuitBreaker((turns, signal) => this.#openWithRetries(turns, signal), {
      // Our own deadline aborts the request; opossum's timer would leave it running.
      timeout: false,
      errorThresholdPercentage: config.breaker.errorThresholdPercentage,
      resetTimeout: config.breaker.resetTimeoutMs,
      volumeThreshold: config.breaker.volumeThreshold,
      rollingCountTimeout: config.breaker.rollingCountTimeoutMs,
      errorFilter: (error: unknown) => error instanceof CallerAbort,
    });
  }

  /** The breaker's state now. */
  get breakerState(): BreakerState {
    if (this.#breaker === undefined) return 'none';
    if (this.#breaker.opened) return 'open';
    return this.#breaker.halfOpen ? 'half-open' : 'closed';
  }

  /**
   * Opens a streaming answer and waits for its first content token. `signal` aborts the
   * provider request (the caller decides when: on client disconnect, unless `no-abort`).
   * Never throws for the provider's faults: they come back as a failure with its reason.
   */
  async open(turns: ChatTurn[], signal: AbortSignal): Promise<OpenResult> {
    try {
      const answer =
        this.#breaker === undefined
          ? await this.#attempt(turns, signal, 1)
          : await this.#breaker.fire(turns, signal);
      return { kind: 'opened', answer };
    } catch (error) {
      if (error instanceof CallerAbort) return { kind: 'caller-left' };
      return { kind: 'failed', failure: classifyOpenError(error) };
    }
  }

  /** Stops the breaker's timers. */
  shutdown(): void {
    this.#breaker?.shutdown();
  }

  async #openWithRetries(turns: ChatTurn[], signal: AbortSignal): Promise<OpenedAnswer> {
    const attempts = this.#flaws.has('retry-storm')
      ? this.#config.flawTuning.retryStormAttempts
      : 1;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        return await this.#attempt(turns, signal, attempt);
      } catch (error) {
        // Retrying at once, with no backoff, is the retry-storm flaw; a gone caller ends it.
        if (error instanceof CallerAbort) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /** One provider call, up to its first content token. */
  async #attempt(turns: ChatTurn[], signal: AbortSignal, attempt: number): Promise<OpenedAnswer> {
    if (signal.aborted) throw new CallerAbort('the caller left before the provider call');
    const controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    const deadline = this.#flaws.has('no-fallback')
      ? undefined
      : setTimeout(() => controller.abort(TIMED_OUT), this.#config.providerTimeoutMs);

    try {
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: SYSTEM_PROMPT },
        ...turns,
      ];
      const stream = await this.#client.chat.completions.create(
        {
          model: this.#config.model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          max_tokens: this.#config.maxOutputTokens,
        },
        { signal: controller.signal },
      );
      const chunks = stream[Symbol.asyncIterator]();

      let finished = false;
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        finished ||= next.value.choices.some((choice) => choice.finish_reason != null);
        const text = next.value.choices[0]?.delta?.content;
        if (text) return this.#opened(text, attempt, chunks, controller, finished);
      }
      throw stoppedEarly(controller.signal, 'the provider stream ended before any content');
    } catch (error) {
      const failure =
        error instanceof AttemptFailure || error instanceof CallerAbort
          ? error
          : stoppedEarly(controller.signal, error);
      controller.abort();
      throw failure;
    } finally {
      clearTimeout(deadline);
    }
  }

  #opened(
    first: string,
    attempts: number,
    chunks: AsyncIterator<ChatCompletionChunk>,
    controller: AbortController,
    finishedEarly: boolean,
  ): OpenedAnswer {
    const idleMs = this.#flaws.has('no-fallback') ? undefined : this.#config.streamIdleTimeoutMs;
    return {
      first,
      attempts,
      readRest: (sink) => readRest(chunks, controller, idleMs, finishedEarly, sink),
    };
  }
}

/**
 * Reads a stream to its end. The SDK ends its iterator quietly on abort, so the abort's
 * reason tells a stall (our idle deadline) from a caller who left.
 */
async function readRest(
  chunks: AsyncIterator<ChatCompletionChunk>,
  controller: AbortController,
  idleMs: number | undefined,
  finishedEarly: boolean,
  sink: RestSink,
): Promise<RestOutcome> {
  const idle =
    idleMs === undefined ? undefined : setTimeout(() => controller.abort(STALLED), idleMs);
  let finished = finishedEarly;
  try {
    for (;;) {
      const next = await chunks.next();
      idle?.refresh();
      if (next.done) break;
      const chunk = next.value;
      finished ||= chunk.choices.some((choice) => choice.finish_reason != null);
      const text = chunk.choices[0]?.delta?.content;
      if (text) sink.delta(text);
      if (chunk.usage) {
        sink.usage({
          inputTokens: chunk.usage.prompt_tokens,
          outputTokens: chunk.usage.completion_tokens,
        });
      }
    }
  } catch {
    // An error event or a reset mid-stream, unless our own abort surfaced as an error.
    const aborted = controller.signal.aborted;
    const stalled = aborted && controller.signal.reason === STALLED;
    controller.abort();
    if (stalled) return { kind: 'failed', reason: 'stream-stall' };
    return aborted ? { kind: 'aborted' } : { kind: 'failed', reason: 'stream-error' };
  } finally {
    clearTimeout(idle);
  }

  if (controller.signal.aborted) {
    if (controller.signal.reason === STALLED) return { kind: 'failed', reason: 'stream-stall' };
    return { kind: 'aborted' };
  }
  // A stream that ends without a finish reason was cut off (a truncated body).
  return finished ? { kind: 'complete' } : { kind: 'failed', reason: 'stream-error' };
}

/** Turns what stopped an attempt into a typed failure, or a CallerAbort. */
function stoppedEarly(signal: AbortSignal, error: unknown): Error {
  if (signal.aborted && signal.reason === TIMED_OUT) {
    return new AttemptFailure({ reason: 'provider-timeout', status: undefined });
  }
  if (signal.aborted) return new CallerAbort('the caller left during the provider call');
  if (error instanceof APIConnectionTimeoutError) {
    return new AttemptFailure({ reason: 'provider-timeout', status: undefined });
  }
  if (error instanceof APIError && error.status === 429) {
    return new AttemptFailure({ reason: 'provider-rate-limit', status: 429 });
  }
  const status = error instanceof APIError ? error.status : undefined;
  return new AttemptFailure({ reason: 'provider-error', status });
}

function classifyOpenError(error: unknown): OpenFailure {
  if (error instanceof AttemptFailure) return error.failure;
  if (isOpenBreakerError(error)) return { reason: 'circuit-open', status: undefined };
  return { reason: 'provider-error', status: undefined };
}

function isOpenBreakerError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'EOPENBREAKER'
  );
}
