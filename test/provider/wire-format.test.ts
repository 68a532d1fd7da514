import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderHandle, startProvider } from '../../src/provider/index.ts';
import { chatBody, chunksOf, rawChat } from './raw-client.ts';

const messages = [{ role: 'user' as const, content: 'Do you have a slot on Tuesday?' }];

describe('the mock provider speaks OpenAI chat completions', () => {
  let provider: ProviderHandle;
  let client: OpenAI;

  beforeAll(async () => {
    provider = await startProvider({ ttftMs: 5, tokensPerSec: 1_000, completionTokens: 12 });
    client = new OpenAI({ baseURL: provider.baseUrl, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => provider.close());

  it('gives a URL without a trailing slash and a base URL ending in /v1', () => {
    expect(provider.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(provider.baseUrl).toBe(`${provider.url}/v1`);
  });

  it('streams a role chunk, one chunk a token, a stop chunk and usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    const first = chunks[0];
    expect(first?.object).toBe('chat.completion.chunk');
    expect(first?.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(first?.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    expect(first?.choices).toEqual([
      {
        index: 0,
        delta: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: null,
      },
    ]);
    expect(first?.usage).toBeNull();

    const content = chunks.slice(1, -2);
    expect(content).toHaveLength(12);
    for (const chunk of content) {
      expect(chunk.id).toBe(first?.id);
      expect(chunk.choices[0]?.delta).toEqual({ content: expect.any(String) });
      expect(chunk.choices[0]?.finish_reason).toBeNull();
      expect(chunk.usage).toBeNull();
    }
    const text = content.map((chunk) => chunk.choices[0]?.delta.content).join('');
    expect(text).toMatch(/^[A-Z][a-z]+ [a-z$0-9]/);

    const finish = chunks.at(-2);
    expect(finish?.choices).toEqual([
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
    ]);
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toMatchObject({ completion_tokens: 12, total_tokens: expect.any(Number) });
    expect(usage?.usage?.total_tokens).toBe(
      (usage?.usage?.prompt_tokens ?? 0) + (usage?.usage?.completion_tokens ?? 0),
    );
  });

  it('ends every stream with data: [DONE] and sends no usage unless asked', async () => {
    const result = await rawChat(provider.baseUrl, chatBody({ stream: true }));

    expect(result.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(result.events.at(-1)).toBe('[DONE]');
    const chunks = chunksOf(result);
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks.every((chunk) => typeof chunk.obfuscation === 'string')).toBe(true);
  });

  it('leaves out obfuscation when the caller turns it off', async () => {
    const result = await rawChat(
      provider.baseUrl,
      chatBody({ stream: true, stream_options: { include_obfuscation: false } }),
    );

    expect(chunksOf(result).some((chunk) => 'obfuscation' in chunk)).toBe(false);
  });

  it('answers a non-streaming call with a chat.completion object and its usage', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages });

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o');
    expect(completion.choices[0]?.message).toEqual({
      role: 'assistant',
      content: expect.any(String),
      refusal: null,
      annotations: [],
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(12);
  });

  it('cuts the answer at max_tokens and says so with finish_reason length', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      max_completion_tokens: 3,
    });

    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(3);
  });

  it('estimates prompt tokens as ceil(chars / 4) plus 4 a message plus 3', async () => {
    const content = 'x'.repeat(41);
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content },
      ],
    });

    expect(completion.usage?.prompt_tokens).toBe(3 + (4 + 3) + (4 + 11));
  });

  it('lists its models as an OpenAI list object', async () => {
    const page = await client.models.list();

    expect(page.data.map((model) => model.id)).toContain('gpt-4o-mini');
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'system' });
  });

  it('puts an x-request-id on every answer, errors included', async () => {
    const ok = await rawChat(provider.baseUrl, chatBody());
    const bad = await rawChat(provider.baseUrl, '{not json');
    const route = await fetch(`${provider.url}/v1/nothing-here`);

    for (const id of [ok.headers['x-request-id'], bad.headers['x-request-id']]) {
      expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    }
    expect(route.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(ok.headers['x-request-id']).not.toBe(bad.headers['x-request-id']);
  });

  it('answers a malformed body with a 400 invalid_request_error naming the parameter', async () => {
    const noMessages = await rawChat(provider.baseUrl, { model: 'gpt-4o-mini' });
    const badTokens = await rawChat(provider.baseUrl, chatBody({ max_tokens: 0 }));
    const notJson = await rawChat(provider.baseUrl, '{not json');

    expect(noMessages.status).toBe(400);
    expect(JSON.parse(noMessages.body)).toEqual({
      error: {
        message: "Missing required parameter: 'messages'.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'missing_required_parameter',
      },
    });
    expect(JSON.parse(badTokens.body).error).toMatchObject({
      param: 'max_tokens',
      code: 'integer_below_min_value',
    });
    expect(JSON.parse(notJson.body).error).toMatchObject({
      type: 'invalid_request_error',
      param: null,
    });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers an unknown model with a 404 model_not_found', async () => {
    const error = await client.chat.completions
      .create({ model: 'gpt-0-nope', messages })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('answers an unknown route with a 404 invalid URL error', async () => {
    const response = await fetch(`${provider.url}/v1/nothing-here`);

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        message: 'Invalid URL (GET /v1/nothing-here)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });
});

describe('HTTP chunk framing of the token chunks', () => {
  it('counts bytes, not characters, for a model named outside ASCII', async () => {
    const provider = await startProvider({
      models: ['modèle-privé-ü'],
      ttftMs: 0,
      tokensPerSec: 1_000,
      completionTokens: 5,
    });
    try {
      const result = await rawChat(
        provider.baseUrl,
        chatBody({
          model: 'modèle-privé-ü',
          stream: true,
          stream_options: { include_usage: true },
        }),
      );

      expect(result.error).toBeUndefined();
      expect(result.events.at(-1)).toBe('[DONE]');
      expect(chunksOf(result).every((chunk) => chunk.model === 'modèle-privé-ü')).toBe(true);
    } finally {
      await provider.close();
    }
  });
});

describe('errors the SDK must recognise', () => {
  let provider: ProviderHandle;
  let client: OpenAI;

  beforeAll(async () => {
    provider = await startProvider({ ttftMs: 5, tokensPerSec: 1_000, completionTokens: 4 });
    client = new OpenAI({ baseURL: provider.baseUrl, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => provider.close());

  it('surfaces a 429 as RateLimitError with retry-after and x-ratelimit headers', async () => {
    provider.setFaults([{ kind: 'rate-limit', retryAfterS: 7 }]);
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .catch((e: unknown) => e);
    provider.setFaults([]);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.type).toBe('requests');
    expect(rateLimit.headers.get('retry-after')).toBe('7');
    expect(rateLimit.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(rateLimit.headers.get('x-ratelimit-reset-requests')).toBe('7s');
    expect(rateLimit.headers.get('x-ratelimit-limit-tokens')).toMatch(/^\d+$/);
    expect(rateLimit.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^\d+$/);
    expect(rateLimit.message).toMatch(/Rate limit reached for gpt-4o-mini/);
  });

  it('makes the SDK wait the retry-after it was given before retrying a 429', async () => {
    provider.setFaults([{ kind: 'rate-limit', retryAfterS: 0.4 }]);
    const retrying = new OpenAI({ baseURL: provider.baseUrl, apiKey: 'test', maxRetries: 1 });
    provider.resetCounters();
    const startMs = performance.now();
    await retrying.chat.completions.create({ model: 'gpt-4o-mini', messages }).catch(() => 0);
    const elapsedMs = performance.now() - startMs;
    provider.setFaults([]);

    expect(provider.counters().calls).toBe(2);
    expect(elapsedMs).toBeGreaterThanOrEqual(380);
  });

  it('surfaces a 500 as InternalServerError with the server_error body', async () => {
    provider.setFaults([{ kind: 'server-error', status: 500 }]);
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .catch((e: unknown) => e);
    provider.setFaults([]);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.InternalServerError>).type).toBe('server_error');
  });

  it('surfaces an error event mid-stream as an APIError from the iterator', async () => {
    provider.setFaults([{ kind: 'error-event', afterTokens: 2 }]);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    provider.setFaults([]);

    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(seen.filter((text) => text !== '')).toHaveLength(2);
  });
});

describe('an API key, when configured', () => {
  let provider: ProviderHandle;

  beforeAll(async () => {
    provider = await startProvider({
      apiKey: 'sk-launchproof-test',
      ttftMs: 0,
      completionTokens: 2,
    });
  });
  afterAll(() => provider.close());

  it('is required: a missing or wrong key gets OpenAI 401 AuthenticationError', async () => {
    const wrong = new OpenAI({ baseURL: provider.baseUrl, apiKey: 'sk-wrong-key', maxRetries: 0 });
    const error = await wrong.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .catch((e: unknown) => e);
    const missing = await rawChat(provider.baseUrl, chatBody());

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    expect((error as Error).message).not.toContain('sk-wrong-key');
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error.message).toMatch(/^You didn't provide an API key/);
  });

  it('lets the right key through', async () => {
    const right = new OpenAI({
      baseURL: provider.baseUrl,
      apiKey: 'sk-launchproof-test',
      maxRetries: 0,
    });
    const completion = await right.chat.completions.create({ model: 'gpt-4o-mini', messages });

    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });
});
