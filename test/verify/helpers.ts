import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { DemoStack, DemoStackOptions } from '../../src/demo/index.ts';
import { startDemoStack } from '../../src/demo/index.ts';
import type { RunExtension } from '../../src/engine/run-extension.ts';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { ProviderControl } from '../../src/provider/index.ts';
import type { Summary, Verification } from '../../src/report/summary-schema.ts';
import { validateScenario } from '../../src/scenario/load-scenario.ts';
import type { Scenario, ScenarioInput } from '../../src/scenario/schema.ts';
import { extensionsFor } from '../../src/verify/index.ts';

/** A fast provider: tests spend their time on the limits, not on the answers. */
export const FAST_PROVIDER = { ttftMs: 5, tokensPerSec: 2_000, completionTokens: 6 } as const;

/**
 * The demo with small limits (5 per 3 s), so a test trips, waits and recovers quickly. One
 * chat from an address no test uses warms it up: a cold first answer must not stall the
 * limiter's first window.
 */
export async function startSmallDemo(options: DemoStackOptions = {}): Promise<DemoStack> {
  const stack = await startDemoStack({
    ipRateLimit: { max: 5, windowMs: 3_000 },
    sessionRateLimit: { max: 5, windowMs: 3_000 },
    sessionCreateRateLimit: { max: 20, windowMs: 3_000 },
    ...options,
    provider: { ...FAST_PROVIDER, ...options.provider },
  });
  const warm = new Pool(stack.demo.url, { localAddress: '127.0.0.99', connections: 1 });
  try {
    const response = await warm.request({
      method: 'POST',
      path: '/api/chat',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(CHAT.json),
    });
    await response.body.text();
  } finally {
    await warm.close();
  }
  return stack;
}

export interface VerifiedRun {
  summary: Summary;
  extensions: RunExtension[];
  scenario: Scenario;
  warnings: string[];
  verification(name: string): Verification;
}

/**
 * Runs a scenario as `launchproof run` does: its extensions from `extensionsFor`, with the
 * stack's mock provider when there is one, plus any `extra` extensions (or a function that
 * builds them from the validated scenario and the registered extensions).
 */
export async function verifiedRun(
  input: ScenarioInput,
  target: { stack: DemoStack } | { url: string },
  extra: RunExtension[] | ((scenario: Scenario, registered: RunExtension[]) => RunExtension[]) = [],
): Promise<VerifiedRun> {
  const scenario = validateScenario(input);
  const url = 'stack' in target ? target.stack.demo.url : target.url;
  const provider = 'stack' in target ? target.stack.provider : undefined;
  const registered = [
    ...extensionsFor(scenario, {
      target: url,
      provider: provider === undefined ? undefined : new ProviderControl(provider.url),
      demo:
        'stack' in target
          ? { flaws: target.stack.demo.flaws, config: target.stack.demo.config }
          : undefined,
    }),
  ];
  const extensions = [
    ...registered,
    ...(typeof extra === 'function' ? extra(scenario, registered) : extra),
  ];
  const warnings: string[] = [];
  const { summary } = await runScenario(scenario, {
    target: url,
    extensions,
    onEvent: (event) => {
      if (event.type === 'warning') warnings.push(event.message);
    },
  });
  return {
    summary,
    extensions,
    scenario,
    warnings,
    verification(name) {
      const found = summary.verifications.find((v) => v.name === name);
      if (found === undefined) {
        const names = summary.verifications.map((v) => v.name).join(', ');
        throw new Error(`no verification "${name}" (have: ${names})`);
      }
      return found;
    },
  };
}

/** The evidence of a verification as one string, for matching. */
export function evidenceOf(verification: Verification): string {
  return verification.evidence.join('\n');
}

export interface TinyLimiterOptions {
  limit: number;
  windowMs: number;
  /** `ip`: per client address; `global`: one count for everyone (a limiter keyed on nothing). */
  keyBy?: 'ip' | 'global';
  /** `honest` counts down; `stuck` always says limit - 1 (headers that lie). */
  remaining?: 'honest' | 'stuck';
  /** Which header form to send on every answer (`none`: Retry-After on a 429 only). */
  form?: 'legacy' | 'draft-7' | 'structured' | 'none';
  /** When false, a key that hit the limit stays refused (a ban, not a window). */
  recovers?: boolean;
}

export interface TinyLimiter {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/**
 * A tiny rate-limited JSON API on node:http, for the flaws the demo has no switch for:
 * headers that lie, a global limit, a limiter that never lets a key back in, other header
 * forms. Fixed windows per key, opened by the key's first request.
 */
export async function startTinyLimiter(options: TinyLimiterOptions): Promise<TinyLimiter> {
  const windows = new Map<string, { startMs: number; count: number }>();
  const form = options.form ?? 'legacy';
  const handle: TinyLimiter = { url: '', requests: 0, close: async () => undefined };

  const server: Server = createServer((request: IncomingMessage, response) => {
    request.resume();
    request.on('end', () => {
      handle.requests++;
      const key = options.keyBy === 'global' ? 'all' : (request.socket.remoteAddress ?? '?');
      const now = Date.now();
      let window = windows.get(key);
      if (
        window === undefined ||
        (options.recovers !== false && now >= window.startMs + options.windowMs)
      ) {
        window = { startMs: now, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      const exceeded = window.count > options.limit;
      const honest = Math.max(0, options.limit - window.count);
      const remaining = options.remaining === 'stuck' ? options.limit - 1 : honest;
      const resetS = Math.max(1, Math.ceil((window.startMs + options.windowMs - now) / 1_000));
      const windowS = Math.ceil(options.windowMs / 1_000);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (form === 'legacy') {
        headers['x-ratelimit-limit'] = String(options.limit);
        headers['x-ratelimit-remaining'] = String(exceeded ? 0 : remaining);
        headers['x-ratelimit-reset'] = String(resetS);
      } else if (form === 'draft-7') {
        headers.ratelimit = `limit=${options.limit}, remaining=${exceeded ? 0 : remaining}, reset=${resetS}`;
        headers['ratelimit-policy'] = `${options.limit};w=${windowS}`;
      } else if (form === 'structured') {
        headers.ratelimit = `"chat";r=${exceeded ? 0 : remaining};t=${resetS}`;
        headers['ratelimit-policy'] = `"chat";q=${options.limit};w=${windowS}`;
      }
      if (exceeded) {
        headers['retry-after'] = String(resetS);
        response.writeHead(429, headers).end('{"error":"rate_limited"}');
        return;
      }
      response.writeHead(200, headers).end('{"answer":"We audit websites in two weeks."}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  handle.url = `http://127.0.0.1:${port}`;
  handle.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return handle;
}

/** A plain JSON request to the tiny limiter. */
export const ASK = {
  method: 'POST',
  path: '/api/ask',
  json: { message: 'How long does a website audit take?' },
} as const;

/** A chat request to the demo. */
export const CHAT = {
  method: 'POST',
  path: '/api/chat',
  json: { message: 'What does a website audit cost?' },
} as const;

export const STREAM = { format: 'vercel-ai', idleTimeout: '5s' } as const;
