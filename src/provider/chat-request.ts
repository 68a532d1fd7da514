import { type ErrorBody, errorBody } from './openai-wire.ts';

/** The parts of a chat completions request the mock acts on. */
export interface ChatRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  includeObfuscation: boolean;
  /** `max_completion_tokens`, else `max_tokens`; absent means no cap. */
  maxTokens: number | undefined;
  promptTokens: number;
}

/** A request OpenAI would refuse, with the status and body it would answer. */
export interface RequestProblem {
  status: 400;
  body: ErrorBody;
}

const INVALID_JSON =
  'We could not parse the JSON body of your request. (HINT: This likely means you ' +
  "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but " +
  'what was sent was not valid JSON.)';

/** Tokens of overhead per message (role and separators) and for priming the reply. */
const MESSAGE_OVERHEAD_TOKENS = 4;
const REPLY_PRIMING_TOKENS = 3;

/**
 * Estimates prompt tokens without a tokenizer: for each message, ceil(characters / 4) of
 * its text (string content, or the `text` of its content parts, plus `name`), plus 4 for
 * its role and separators; plus 3 for priming the reply. This is OpenAI's cookbook count
 * with the usual four characters a token for English.
 */
export function estimatePromptTokens(messages: readonly unknown[]): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    tokens += MESSAGE_OVERHEAD_TOKENS + Math.ceil(messageChars(message) / 4);
  }
  return tokens;
}

/**
 * Validates a parsed body the way OpenAI does for the fields the mock uses, naming the
 * parameter at fault. Returns the request or the problem to answer with.
 */
export function parseChatRequest(raw: string): ChatRequest | RequestProblem {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return problem(INVALID_JSON, null, null);
  }
  if (!isObject(body)) return problem(INVALID_JSON, null, null);

  if (body.model === undefined) return missing('model');
  if (typeof body.model !== 'string') return invalidType('model', 'a string', body.model);
  if (body.messages === undefined) return missing('messages');
  if (!Array.isArray(body.messages)) {
    return invalidType('messages', 'an array of objects', body.messages);
  }
  if (body.messages.length === 0) {
    return problem(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an " +
        'empty array instead.',
      'messages',
      'empty_array',
    );
  }
  for (const [i, message] of body.messages.entries()) {
    if (!isObject(message)) return invalidType(`messages[${i}]`, 'an object', message);
    if (message.role === undefined) return missing(`messages[${i}].role`);
  }

  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    return invalidType('stream', 'a boolean', body.stream);
  }
  const stream = body.stream === true;
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (!stream) {
      return problem(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        'stream_options',
        null,
      );
    }
    if (!isObject(options)) return invalidType('stream_options', 'an object', options);
  }

  let maxTokens: number | undefined;
  for (const param of ['max_completion_tokens', 'max_tokens'] as const) {
    const value = body[param];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return invalidType(param, 'an integer', value);
    }
    if (value < 1) {
      return problem(
        `Invalid '${param}': integer below minimum value. Expected a value >= 1, but got ` +
          `${value} instead.`,
        param,
        'integer_below_min_value',
      );
    }
    maxTokens ??= value;
  }

  return {
    model: body.model,
    stream,
    includeUsage: isObject(options) && options.include_usage === true,
    includeObfuscation: !(isObject(options) && options.include_obfuscation === false),
    maxTokens,
    promptTokens: estimatePromptTokens(body.messages),
  };
}

/** True when parseChatRequest refused the request. */
export function isProblem(value: ChatRequest | RequestProblem): value is RequestProblem {
  return 'body' in value;
}

function messageChars(message: unknown): number {
  if (!isObject(message)) return 0;
  let chars = typeof message.name === 'string' ? message.name.length : 0;
  const content = message.content;
  if (typeof content === 'string') chars += content.length;
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (isObject(part) && typeof part.text === 'string') chars += part.text.length;
    }
  }
  return chars;
}

function missing(param: string): RequestProblem {
  return problem(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
}

function invalidType(param: string, expected: string, received: unknown): RequestProblem {
  return problem(
    `Invalid type for '${param}': expected ${expected}, but got ${typeName(received)} instead.`,
    param,
    'invalid_type',
  );
}

function problem(message: string, param: string | null, code: string | null): RequestProblem {
  return { status: 400, body: errorBody(message, 'invalid_request_error', param, code) };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  return `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
