import { Pool } from 'undici';
import type { Flow, Identity } from '../scenario/schema.ts';

const FIRST_LOOPBACK = [127, 0, 0, 2] as const;

export interface IdentityClient {
  readonly identity: Identity;
  readonly pool: Pool;
}

/**
 * One undici Pool per identity, so an identity that binds a source address keeps it on every
 * connection: undici honours the top-level `localAddress` option (not `connect.localAddress`).
 * `connections` is set explicitly, since undici's default is unlimited.
 */
export function createIdentityClients(
  flow: Flow,
  origin: string,
  connectionsPerIdentity: number,
): IdentityClient[] {
  const { identities } = flow;
  const clients: IdentityClient[] = [];
  for (let index = 0; index < identities.count; index++) {
    const identity: Identity = {
      index,
      sourceAddress: sourceAddressFor(identities.sourceAddresses, index),
      headers: claimedHeaders(identities.claimedAddresses, index),
      state: {},
    };
    const pool = new Pool(origin, {
      connections: connectionsPerIdentity,
      pipelining: flow.pipelining,
      headersTimeout: flow.timeouts.headers,
      bodyTimeout: flow.stream ? flow.stream.idleTimeout : flow.timeouts.body,
      keepAliveTimeout: 30_000,
      connect: { timeout: flow.timeouts.connect },
      ...(identity.sourceAddress ? { localAddress: identity.sourceAddress } : {}),
    });
    clients.push({ identity, pool });
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
  const value = (((base[0] ?? 0) << 24) >>> 0) + ((base[1] ?? 0) << 16) + ((base[2] ?? 0) << 8) +
    (base[3] ?? 0) + index;
  const address = [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
  const headers: Record<string, string> = {};
  for (const name of config.headers) {
    headers[name] = name === 'forwarded' ? `for=${address}` : address;
  }
  return headers;
}
