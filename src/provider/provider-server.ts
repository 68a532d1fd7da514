import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { LaunchproofError } from '../errors.ts';
import { formatIssues } from '../scenario/format-issues.ts';
import { isProblem, parseChatRequest } from './chat-request.ts';
import { CONTROL_PREFIX, serveControl } from './control-api.ts';
import { CounterSet, type ProviderCounters } from './counters.ts';
import { type FaultRule, type FaultRuleInput, faultRuleSchema } from './fault-rules.ts';
import { readBody, sendJson } from './http-util.ts';
import { serveMockCompletion } from './mock-completion.ts';
import { errorBody, modelList, requestId } from './openai-wire.ts';
import { type ProviderOptions, providerOptionsSchema } from './provider-options.ts';
import type { ProviderState } from './provider-state.ts';
import { serveProxy } from './proxy.ts';
import { TokenScheduler } from './token-scheduler.ts';

/** A running mock provider (or fault proxy). */
export interface ProviderHandle {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** `url + '/v1'`: what an OpenAI SDK's `baseURL` is set to. */
  baseUrl: string;
  /** Replaces the faults in force (validated; throws LP_ERR_PROVIDER on a bad rule). */
  setFaults(rules: readonly FaultRuleInput[]): void;
  /** The faults in force, defaults applied. */
  faults(): FaultRule[];
  counters(): ProviderCounters;
  resetCounters(): void;
  /** Ends open streams and hanging calls, then closes the server. */
  close(): Promise<void>;
}

const MODEL_NOT_FOUND = 'does not exist or you do not have access to it.';

/** `created` of the listed models: a fixed date, as OpenAI's are. */
const MODELS_CREATED = 1_715_367_049;

const API_KEY_MISSING =
  "You didn't provide an API key. You need to provide your API key in an Authorization " +
  'header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).';
// OpenAI echoes part of a wrong key; the mock does not, so no key can reach a log.
const API_KEY_WRONG =
  'Incorrect API key provided. You can find your API key at ' +
  'https://platform.openai.com/account/api-keys.';

/**
 * Starts the mock OpenAI-compatible provider on `host:port` (loopback, a free port by
 * default). With `upstream`, it is a fault proxy in front of a real provider instead.
 * Throws LP_ERR_PROVIDER when the options are invalid or the port cannot be bound.
 */
export async function startProvider(options: ProviderOptions = {}): Promise<ProviderHandle> {
  const parsed = providerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error, 'provider');
    throw new LaunchproofError('LP_ERR_PROVIDER', `invalid provider options: ${problems[0]}`, {
      details: problems.slice(1),
    });
  }

  const state: ProviderState = {
    options: parsed.data,
    faults: parsed.data.faults,
    counters: new CounterSet(),
    scheduler: new TokenScheduler(),
    live: new Map(),
    closing: false,
    // No timeouts toward the upstream: the caller decides how long it waits, and its leaving
    // aborts the upstream call.
    upstream:
      parsed.data.upstream === undefined
        ? undefined
        : new Agent({ headersTimeout: 0, bodyTimeout: 0, connections: 4_096 }),
    nextCallIndex: 0,
    nextRequestSerial: 0,
  };

  const server = createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => answerInternalError(res, error));
  });
  // Streams are long and idle between tokens; Node's request timeouts would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new LaunchproofError(
          'LP_ERR_PROVIDER',
          `mock provider could not listen on ${parsed.data.host}:${parsed.data.port}: ` +
            error.message,
          { cause: error, hint: 'pick another --port, or 0 for a free one' },
        ),
      );
    };
    server.once('error', onError);
    server.listen(parsed.data.port, parsed.data.host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    baseUrl: `${url}/v1`,
    setFaults(rules) {
      const result = faultRuleSchema.array().safeParse(rules);
      if (!result.success) {
        const problems = formatIssues(result.error, 'faults');
        throw new LaunchproofError('LP_ERR_PROVIDER', `invalid fault rule: ${problems[0]}`, {
          details: problems.slice(1),
        });
      }
      state.faults = result.data;
    },
    faults: () => structuredClone(state.faults),
    counters: () => state.counters.snapshot(),
    resetCounters: () => state.counters.reset(),
    close() {
      closed ??= closeServer(state, server);
      return closed;
    },
  };
}

async function handle(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const arrivalMs = performance.now();
  const headers = {
    'x-request-id': requestId(state.options.seed, state.nextRequestSerial++),
    'openai-version': '2020-10-01',
  };
  const path = (req.url ?? '/').split('?')[0] as string;

  if (path.startsWith(CONTROL_PREFIX)) {
    await serveControl(state, req, res, path, headers);
    return;
  }

  const isChat = path === '/v1/chat/completions' && req.method === 'POST';
  if (isChat) state.counters.call();
  if (!authorised(state, req, res, headers, isChat)) return;

  if (state.upstream && path.startsWith('/v1/')) {
    await serveProxy(state, req, res, {
      path,
      arrivalMs,
      isChat,
      headers,
      dispatcher: state.upstream,
    });
    return;
  }
  if (isChat) {
    await serveChat(state, req, res, arrivalMs, headers);
    return;
  }
  if (path === '/v1/models' && req.method === 'GET') {
    sendJson(res, 200, modelList(state.options.models, MODELS_CREATED), headers);
    return;
  }
  sendJson(
    res,
    404,
    errorBody(`Invalid URL (${req.method ?? 'GET'} ${path})`, 'invalid_request_error'),
    headers,
  );
}

async function serveChat(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
  arrivalMs: number,
  headers: Record<string, string>,
): Promise<void> {
  const raw = await readBody(req);
  const request =
    raw === undefined
      ? {
          status: 400 as const,
          body: errorBody('Request body too large.', 'invalid_request_error'),
        }
      : parseChatRequest(raw.toString('utf8'));
  if (isProblem(request)) {
    state.counters.status(request.status);
    sendJson(res, request.status, request.body, headers);
    return;
  }
  if (request.stream) state.counters.markStreaming();

  if (!state.options.models.includes(request.model)) {
    state.counters.status(404);
    const message = `The model \`${request.model}\` ${MODEL_NOT_FOUND}`;
    sendJson(
      res,
      404,
      errorBody(message, 'invalid_request_error', null, 'model_not_found'),
      headers,
    );
    return;
  }
  serveMockCompletion(state, res, request, arrivalMs, headers);
}

/** Checks `Authorization: Bearer <apiKey>` when a key is configured; answers 401 if not. */
function authorised(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
  isChat: boolean,
): boolean {
  const key = state.options.apiKey;
  if (key === undefined) return true;

  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  if (given === key) return true;
  if (isChat) state.counters.status(401);
  const message = given === undefined ? API_KEY_MISSING : API_KEY_WRONG;
  const code = given === undefined ? null : 'invalid_api_key';
  req.resume();
  sendJson(res, 401, errorBody(message, 'invalid_request_error', null, code), headers);
  return false;
}

function answerInternalError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  sendJson(
    res,
    500,
    errorBody(
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
    ),
  );
}

async function closeServer(
  state: ProviderState,
  server: ReturnType<typeof createServer>,
): Promise<void> {
  state.closing = true;
  state.scheduler.close();
  for (const end of [...state.live.values()]) end();
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await done;
  await state.upstream?.destroy();
}
