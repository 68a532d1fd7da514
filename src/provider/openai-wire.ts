import { VOCABULARY } from './answer-text.ts';
import { createRandom, mixSeed } from './random.ts';

/**
 * OpenAI's chat completions wire format, as the API sends it (checked against the types of
 * the `openai` v6 SDK): chunk objects, the final usage block, error bodies and headers.
 * Chunks are built from pre-serialised pieces so a token costs one string concatenation.
 */

/** The fingerprint every answer carries; OpenAI's are `fp_` and ten hex digits. */
export const SYSTEM_FINGERPRINT = 'fp_6c1a2b7e9d';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

/** Each token's content as a JSON string body (escaped once, for the process's life). */
const TOKEN_JSON: readonly string[] = VOCABULARY.map((token) => JSON.stringify(token).slice(1, -1));

/** Padding for `obfuscation`, per token, so that chunks of every token weigh alike. */
const TOKEN_PAD: readonly string[] = VOCABULARY.map((token, i) => {
  const random = createRandom(mixSeed(0x0bf5, i));
  return randomString(ALNUM, Math.max(1, 16 - token.length), random);
});

/** The choices part of each token's chunk, and its length in bytes, built once. */
const TOKEN_CHOICE: readonly string[] = TOKEN_JSON.map(
  (json) => `{"index":0,"delta":{"content":"${json}"},"logprobs":null,"finish_reason":null}]`,
);
const TOKEN_CHOICE_BYTES: readonly number[] = TOKEN_CHOICE.map((text) => Buffer.byteLength(text));
const TOKEN_OBFUSCATION: readonly string[] = TOKEN_PAD.map((pad) => `,"obfuscation":"${pad}"`);
const TOKEN_OBFUSCATION_BYTES: readonly number[] = TOKEN_OBFUSCATION.map((text) => text.length);

/** Ids in OpenAI's shapes, derived from the seed and the call index. */
export function completionId(seed: number, callIndex: number): string {
  return `chatcmpl-${randomString(ALNUM, 29, createRandom(mixSeed(seed, callIndex, 0x1d)))}`;
}

export function requestId(seed: number, serial: number): string {
  return `req_${randomString(HEX, 32, createRandom(mixSeed(seed, serial, 0x7e)))}`;
}

/** The usage block of a finished answer, with the detail objects OpenAI sends today. */
export function usageObject(promptTokens: number, completionTokens: number): object {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export interface StreamFormat {
  id: string;
  created: number;
  model: string;
  /** `stream_options.include_usage`: adds `"usage": null` to chunks and a final usage chunk. */
  includeUsage: boolean;
  /** `stream_options.include_obfuscation` (true unless the caller turns it off, as OpenAI). */
  includeObfuscation: boolean;
}

/**
 * The SSE events of one stream. The head of every chunk (id, created, model, fingerprint)
 * is serialised once per stream; each token adds only its pre-escaped text.
 */
export class ChunkWriter {
  readonly #head: string;
  readonly #headBytes: number;
  readonly #usageTail: string;
  readonly #format: StreamFormat;

  constructor(format: StreamFormat) {
    this.#format = format;
    this.#head =
      `data: {"id":${JSON.stringify(format.id)},"object":"chat.completion.chunk",` +
      `"created":${format.created},"model":${JSON.stringify(format.model)},` +
      `"service_tier":"default","system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":[`;
    this.#headBytes = Buffer.byteLength(this.#head);
    this.#usageTail = format.includeUsage ? ',"usage":null' : '';
  }

  /** The first chunk: the assistant role with empty content, as OpenAI sends it. */
  role(): string {
    return this.#chunk('{"role":"assistant","content":"","refusal":null}', 'null', 'AbCdEfGh');
  }

  /** One content chunk holding one token (an index into VOCABULARY). */
  token(index: number): string {
    const obfuscation = this.#format.includeObfuscation ? (TOKEN_OBFUSCATION[index] ?? '') : '';
    return `${this.#head}${TOKEN_CHOICE[index] ?? ''}${this.#usageTail}${obfuscation}}\n\n`;
  }

  /**
   * The same chunk framed as one HTTP/1.1 chunk (`size CRLF data CRLF`), its size summed
   * from lengths known in advance rather than measured: the hot path of 2,000 streams.
   */
  framedToken(index: number): string {
    const bytes =
      this.#headBytes +
      (TOKEN_CHOICE_BYTES[index] ?? 0) +
      this.#usageTail.length +
      (this.#format.includeObfuscation ? (TOKEN_OBFUSCATION_BYTES[index] ?? 0) : 0) +
      3;
    return `${bytes.toString(16)}\r\n${this.token(index)}\r\n`;
  }

  /** The chunk that ends the choice, with an empty delta. */
  finish(reason: 'stop' | 'length'): string {
    return this.#chunk('{}', `"${reason}"`, 'Zq3');
  }

  /** The final usage chunk (`choices: []`), sent only when include_usage was asked. */
  usage(promptTokens: number, completionTokens: number): string {
    const usage = JSON.stringify(usageObject(promptTokens, completionTokens));
    return `${this.#head}],"usage":${usage}${this.#obfuscation('Kp')}}\n\n`;
  }

  #chunk(delta: string, finishReason: string, pad: string): string {
    return (
      `${this.#head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishReason}}]` +
      `${this.#usageTail}${this.#obfuscation(pad)}}\n\n`
    );
  }

  #obfuscation(pad: string): string {
    return this.#format.includeObfuscation ? `,"obfuscation":"${pad}"` : '';
  }
}

/** The stream terminator. */
export const DONE_EVENT = 'data: [DONE]\n\n';

/** A non-streaming `chat.completion` object. */
export function completionObject(options: {
  id: string;
  created: number;
  model: string;
  content: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}): object {
  return {
    id: options.id,
    object: 'chat.completion',
    created: options.created,
    model: options.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: options.content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: options.finishReason,
      },
    ],
    usage: usageObject(options.promptTokens, options.completionTokens),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** The `GET /v1/models` list object. */
export function modelList(models: readonly string[], created: number): object {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'system' })),
  };
}

/** OpenAI's error body. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorBody(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): ErrorBody {
  return { error: { message, type, param, code } };
}

/** The messages OpenAI sends with its server errors, by status. */
const SERVER_ERROR_MESSAGES: Record<number, string> = {
  500: 'The server had an error while processing your request. Sorry about that!',
  502: 'Bad gateway.',
  503: 'The server is overloaded or not ready yet.',
  504: 'Gateway timeout.',
  529: 'The engine is currently overloaded, please try again later.',
};

export function serverErrorBody(status: number): ErrorBody {
  const message = SERVER_ERROR_MESSAGES[status] ?? (SERVER_ERROR_MESSAGES[500] as string);
  return errorBody(message, 'server_error');
}

/** The SSE event OpenAI sends when an answer fails after it started streaming. */
export function errorEvent(): string {
  return `data: ${JSON.stringify(serverErrorBody(500))}\n\n`;
}

/** OpenAI's 429 body, for a requests-per-minute or tokens-per-minute limit. */
export function rateLimitBody(
  model: string,
  limit: 'requests' | 'tokens',
  retryAfterS: number,
  figures: { limit: number; requested: number },
): ErrorBody {
  const per = limit === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const message =
    `Rate limit reached for ${model} in organization org-launchproof on ${per}: ` +
    `Limit ${figures.limit}, Used ${figures.limit}, Requested ${figures.requested}. ` +
    `Please try again in ${retryAfterS}s. ` +
    'Visit https://platform.openai.com/account/rate-limits to learn more.';
  return errorBody(message, limit, null, 'rate_limit_exceeded');
}

/** OpenAI's limits as the mock advertises them in `x-ratelimit-*`. */
export const RATE_LIMITS = { requests: 10_000, tokens: 30_000_000 } as const;

/** The `x-ratelimit-*` headers, for a normal answer or for a 429 of either limit. */
export function rateLimitHeaders(
  limited: 'requests' | 'tokens' | undefined,
  retryAfterS: number,
  tokens: number,
): Record<string, string> {
  const reset = `${retryAfterS}s`;
  return {
    'x-ratelimit-limit-requests': String(RATE_LIMITS.requests),
    'x-ratelimit-limit-tokens': String(RATE_LIMITS.tokens),
    'x-ratelimit-remaining-requests':
      limited === 'requests' ? '0' : String(RATE_LIMITS.requests - 1),
    'x-ratelimit-remaining-tokens':
      limited === 'tokens' ? '0' : String(Math.max(0, RATE_LIMITS.tokens - tokens)),
    'x-ratelimit-reset-requests': limited === 'requests' ? reset : '6ms',
    'x-ratelimit-reset-tokens': limited === 'tokens' ? reset : '0s',
  };
}

function randomString(alphabet: string, length: number, random: () => number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}
