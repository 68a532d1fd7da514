import type { Faker } from '@faker-js/faker';
import type { Tags } from '../metrics/tags.ts';
import type { Identity, RequestContext, RequestSpecInput } from '../scenario/schema.ts';
import { deriveSeed, SeededRandom } from '../util/random.ts';
import type { PreparedRequest } from './http-exchange.ts';

const EMPTY: Tags = Object.freeze({});

export interface ContextInput {
  scenarioSeed: number;
  flow: string;
  iteration: number;
  vu: number;
  identity: Identity;
  session: Record<string, unknown>;
  /** The flow's faker instance: seeded here for this iteration, on first use. */
  faker: Faker;
}

/**
 * The context a request builder gets. Every engine (and the k6 export, which pre-generates
 * bodies) makes it here, so one seed gives the same requests whoever sends them: faker is
 * seeded with deriveSeed(seed, flow, iteration) when first read, `random()` from its child.
 */
export function createRequestContext(input: ContextInput): RequestContext {
  const seed = deriveSeed(input.scenarioSeed, input.flow, input.iteration);
  const faker = input.faker;
  let seeded = false;
  let random: SeededRandom | undefined;
  return {
    flow: input.flow,
    iteration: input.iteration,
    vu: input.vu,
    identity: input.identity,
    session: input.session,
    scenarioSeed: input.scenarioSeed,
    get faker() {
      if (!seeded) {
        faker.seed(seed);
        seeded = true;
      }
      return faker;
    },
    random() {
      random ??= new SeededRandom(deriveSeed(seed, 'random'));
      return random.next();
    },
  };
}

/**
 * Turns what a scenario gives (a request object or a builder's result) into the request that
 * is sent: header names in lower case, a `json` body serialised with its content type, the
 * method from the body when not given, and the `name` tag from the path. Throws a TypeError
 * for a path that does not start with `/`.
 */
export function prepareRequestSpec(spec: RequestSpecInput): PreparedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  let body: string | Uint8Array | null = spec.body ?? null;
  if (spec.json !== undefined) {
    body = JSON.stringify(spec.json);
    headers['content-type'] ??= 'application/json';
  }
  const method = spec.method ?? (body === null ? 'GET' : 'POST');
  const path = spec.path ?? '/';
  if (!path.startsWith('/')) throw new TypeError(`request path must start with /, got ${path}`);
  return {
    method,
    path,
    headers,
    body,
    name: spec.name ?? path.split('?')[0] ?? path,
    tags: spec.tags && Object.keys(spec.tags).length > 0 ? spec.tags : EMPTY,
    idempotent: method === 'GET' || method === 'HEAD',
  };
}
