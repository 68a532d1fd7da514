import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import type { Flow, Identity, IdentityCredentials } from '../scenario/schema.ts';
import { FastPool } from './fast-http/index.ts';

const FIRST_LOOPBACK = [127, 0, 0, 2] as const;

export interface IdentityClient {
  readonly identity: Identity;
  /** undici's pool: session setup, and every request when the fast client is not used. */
  readonly pool: Pool;
  /** The fast client (plain HTTP), which then carries the flow's requests. */
  readonly fast: FastPool | undefined;
  /** The flow's fixed request as this identity sends it, built on first use. */
  staticBytes: Buffer | undefined;
}

/**
 * One undici Pool per identity, so an identity that binds a source address keeps it on every
 * connection: undici honours the top-level `localAddress` option (not `connect.localAddress`).
 * `connections` is set explicitly, since undici's default is unlimited. With `fast`, each
 * identity also gets a fast pool with the same limits and source address.
 */
export function createIdentityClients(
  flow: Flow,
  origin: string,
  connectionsPerIdentity: number,
  fast = false,
): IdentityClient[] {
  const { identities } = flow;
  const clients: IdentityClient[] = [];
  // Fresh per run, so that a second run against the same target starts new sessions.
  const runTag = randomBytes(4).toString('hex');
  for (let index = 0; index < identities.count; index++) {
    const identity: Identity = {
      index,
      sourceAddress: sourceAddressFor(identities.sourceAddresses, index),
      headers: claimedHeaders(identities.claimedAddresses, index),
      state: {},
      ...(identities.session || identities.key ? { credentials: emptyCredentials() } : {}),
    };
    const { session, key } = identities;
    if (session !== undefined && session.setup === undefined) {
      const value =
        session.values?.[index % session.values.length] ?? generatedId(flow, index, runTag);
      placeCredential(identity, 'session', session, value);
    }
    if (key !== undefined) {
      placeCredential(
        identity,
        'key',
        key,
        key.values?.[index % key.values.length] ?? generatedId(flow, index, runTag, 'k'),
      );
    }
    const pool = new Pool(origin, {
      connections: connectionsPerIdentity,
      pipelining: flow.pipelining,
      headersTimeout: flow.timeouts.headers,
      bodyTimeout: flow.stream ? flow.stream.idleTimeout : flow.timeouts.body,
      keepAliveTimeout: 30_000,
      connect: { timeout: flow.timeouts.connect },
      ...(identity.sourceAddress ? { localAddress: identity.sourceAddress } : {}),
    });
    const bodyTimeoutMs = flow.stream ? flow.stream.idleTimeout : flow.timeouts.body;
    clients.push({
      identity,
      pool,
      fast: fast
        ? new FastPool({
            origin,
            connections: connectionsPerIdentity,
            pipelining: flow.pipelining,
            connectTimeoutMs: flow.timeouts.connect,
            headersTimeoutMs: flow.timeouts.headers,
            bodyTimeoutMs,
            keepAliveMaxMs: 30_000,
            ...(identity.sourceAddress ? { localAddress: identity.sourceAddress } : {}),
          })
        : undefined,
      staticBytes: undefined,
    });
  }
  return clients;
}

/** The n-th loopback address from 127.0.0.2 (127.0.0.0/8 is all local on Linux). */
export function loopbackAddress(n: number): string {
  const value = (FIRST_LOOPBACK[1] << 16) + (FIRST_LOOPBACK[2] << 8) + FIRST_LOOPBACK[3] + n;
  return `127.${(value >> 16) & 255}.${(value >> 8) & 255}.${value & 255}`;
}

function sourceAddressFor(
  config: Flow['identities']['sourceAddresses'],
  index: number,
): string | undefined {
  if (config === undefined) return undefined;
  if (config === 'loopback') return loopbackAddress(index);
  return config[index % config.length];
}

function claimedHeaders(
  config: Flow['identities']['claimedAddresses'],
  index: number,
): Record<string, string> {
  if (config === undefined) return {};
  const base = config.from.split('.').map(Number);
  const value =
    (((base[0] ?? 0) << 24) >>> 0) +
    ((base[1] ?? 0) << 16) +
    ((base[2] ?? 0) << 8) +
    (base[3] ?? 0) +
    index;
  const address = [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
  const headers: Record<string, string> = {};
  for (const name of config.headers) {
    headers[name] = name === 'forwarded' ? `for=${address}` : address;
  }
  return headers;
}

type Credential = NonNullable<Flow['identities']['key']>;
type SessionCredential = NonNullable<Flow['identities']['session']>;

/** Most setup requests in flight at once: enough to be quick, few enough to be polite. */
const SETUP_CONCURRENCY = 8;

/**
 * Runs each identity's session setup request (when its flow has one) through the identity's
 * own pool, so it leaves from the identity's source address with its claimed headers, and
 * places the value it picks from the answer. A failed setup is no crash: the identity sends
 * without a session, and `credentials.setupError` says why. Returns one line per failure.
 */
export async function setupIdentities(
  flow: Flow,
  clients: readonly IdentityClient[],
  signal?: AbortSignal,
): Promise<string[]> {
  const session = flow.identities.session;
  const setup = session?.setup;
  if (session === undefined || setup === undefined) return [];

  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < clients.length && signal?.aborted !== true) {
      const client = clients[next++] as IdentityClient;
      const outcome = await runSetup(client, setup, signal);
      const credentials = client.identity.credentials as IdentityCredentials;
      if (outcome.ok) {
        placeCredential(client.identity, 'session', session, outcome.value);
      } else {
        credentials.setupError = outcome.problem;
        problems.push(`flow ${flow.name}, identity ${client.identity.index}: ${outcome.problem}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, clients.length) }, worker));
  return problems;
}

async function runSetup(
  client: IdentityClient,
  setup: NonNullable<SessionCredential['setup']>,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; value: string } | { ok: false; problem: string }> {
  const what = `${setup.method} ${setup.path}`;
  const headers: Record<string, string> = { ...client.identity.headers };
  for (const [name, value] of Object.entries(setup.headers)) headers[name.toLowerCase()] = value;
  let body: string | undefined;
  if (setup.json !== undefined) {
    body = JSON.stringify(setup.json);
    headers['content-type'] ??= 'application/json';
  }

  try {
    const timeout = AbortSignal.timeout(setup.timeout);
    const response = await client.pool.request({
      method: setup.method,
      path: setup.path,
      headers,
      body,
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode > 299) {
      return { ok: false, problem: `setup ${what} answered ${response.statusCode}` };
    }
    const value = pickValue(setup.pick, text, response.headers['set-cookie']);
    return value === undefined
      ? { ok: false, problem: `setup ${what} answered without ${setup.pick}` }
      : { ok: true, value };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: `setup ${what} failed: ${reason}` };
  }
}

/** A dotted JSON field of the answer, or `cookie:NAME` from its Set-Cookie headers. */
function pickValue(
  pick: string,
  text: string,
  setCookie: string | string[] | undefined,
): string | undefined {
  if (pick.startsWith('cookie:')) {
    const name = pick.slice('cookie:'.length);
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair !== undefined && eq > 0 && pair.slice(0, eq).trim() === name) {
        return pair.slice(eq + 1).trim();
      }
    }
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const key of pick.split('.')) {
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string, unknown>)[key]
        : undefined;
  }
  return typeof value === 'string' && value !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : undefined;
}

/** Puts a session or key where the flow says it travels. */
function placeCredential(
  identity: Identity,
  kind: 'session' | 'key',
  credential: Credential | SessionCredential,
  value: string,
): void {
  const credentials = identity.credentials as IdentityCredentials;
  credentials[kind] = value;
  const headers = identity.headers;
  const name = credential.name ?? '';
  switch (credential.in) {
    case 'header':
      headers[name.toLowerCase()] = value;
      return;
    case 'bearer':
      headers.authorization = `Bearer ${value}`;
      return;
    case 'cookie':
      headers.cookie = headers.cookie ? `${headers.cookie}; ${name}=${value}` : `${name}=${value}`;
      return;
    case 'body':
      identity.state[name] = value;
      return;
  }
}

function emptyCredentials(): IdentityCredentials {
  return { session: undefined, key: undefined, setupError: undefined };
}

/** An id a widget could send (letters, digits, `-`, `_`), unique per flow, identity and run. */
function generatedId(flow: Flow, index: number, runTag: string, kind = 's'): string {
  const name = flow.name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `lp-${name}-${kind}${index}-${runTag}`;
}
