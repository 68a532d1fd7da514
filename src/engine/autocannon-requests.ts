import { base, en, Faker } from '@faker-js/faker';
import type { Tags } from '../metrics/tags.ts';
import type {
  Flow,
  HTTP_METHODS,
  Identity,
  RequestContext,
  RequestSpecInput,
} from '../scenario/schema.ts';
import { createRequestContext, prepareRequestSpec } from './request-context.ts';

/** One request as autocannon writes it, with the tags its samples carry. */
export interface CannonRequest {
  method: (typeof HTTP_METHODS)[number];
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** The `name` tag (k6's): the path unless the request names itself. */
  name: string;
  tags: Tags;
}

/** A built request and the flow iteration it is. */
export interface BuiltRequest {
  request: CannonRequest;
  iteration: number;
}

/** A builder's failure, counted as a script failure of that iteration. */
export interface BuildFailure {
  iteration: number;
  message: string;
}

/** autocannon writes these itself (Content-Length from the body, keep-alive always). */
const WRITTEN_BY_AUTOCANNON = new Set(['content-length', 'connection']);

/**
 * Where a flow's requests come from: its fixed request, or its builder evaluated per
 * iteration with the same seeded context the undici engine gives it (faker seeded from the
 * scenario seed, the flow and the iteration; state per virtual user), so the same seed
 * sends the same requests on either engine.
 */
export class RequestSource {
  readonly flow: Flow;
  /** True when every request is built (autocannon then rebuilds before each send). */
  readonly builds: boolean;
  readonly #seed: number;
  readonly #static: CannonRequest | undefined;
  readonly #faker = new Faker({ locale: [en, base] });
  readonly #sessions = new Map<number, Record<string, unknown>>();
  #iteration = 0;

  constructor(flow: Flow, scenarioSeed: number) {
    this.flow = flow;
    this.#seed = scenarioSeed;
    this.builds = typeof flow.request === 'function';
    this.#static = typeof flow.request === 'function' ? undefined : prepare(flow.request);
    if (this.builds) warmUp(this.#faker);
  }

  /** The fixed request as virtual user `identity` sends it (its headers added). */
  fixed(identity: Identity): CannonRequest {
    const request = this.#static;
    if (request === undefined) throw new TypeError(`flow ${this.flow.name} builds its requests`);
    return withIdentity(request, identity);
  }

  /** Builds the flow's next iteration for virtual user `vu`, or says why it could not. */
  build(vu: number, identity: Identity): BuiltRequest | BuildFailure {
    const iteration = this.#iteration++;
    try {
      const spec = (this.flow.request as (ctx: RequestContext) => RequestSpecInput)(
        this.context(iteration, vu, identity),
      );
      const request = prepare(spec);
      if (request.method === 'HEAD') {
        throw new TypeError('HEAD cannot be sent through autocannon (its parser awaits a body)');
      }
      return { request: withIdentity(request, identity), iteration };
    } catch (error) {
      return { iteration, message: error instanceof Error ? error.message : String(error) };
    }
  }

  /** What a builder or `onResponse` hook is given for `iteration` of virtual user `vu`. */
  context(iteration: number, vu: number, identity: Identity): RequestContext {
    return createRequestContext({
      scenarioSeed: this.#seed,
      flow: this.flow.name,
      iteration,
      vu,
      identity,
      session: this.#sessionFor(vu),
      faker: this.#faker,
    });
  }

  /** Closed model: state lives per virtual user, as in the undici engine. */
  #sessionFor(vu: number): Record<string, unknown> {
    let session = this.#sessions.get(vu);
    if (session === undefined) {
      session = {};
      this.#sessions.set(vu, session);
    }
    return session;
  }
}

/** Turns what a scenario gives (object or builder result) into what autocannon writes. */
function prepare(spec: RequestSpecInput): CannonRequest {
  const request = prepareRequestSpec(spec);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!WRITTEN_BY_AUTOCANNON.has(name)) headers[name] = value;
  }
  const raw = request.body;
  const body =
    raw === null || typeof raw === 'string'
      ? (raw ?? undefined)
      : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    // The scenario schema admits only HTTP_METHODS, so the prepared method is one of them.
    method: request.method as CannonRequest['method'],
    path: request.path,
    headers,
    body: body === '' ? undefined : body,
    name: request.name,
    tags: request.tags,
  };
}

/** The identity's own headers (claimed addresses, session, key) under the request's own. */
function withIdentity(request: CannonRequest, identity: Identity): CannonRequest {
  if (Object.keys(identity.headers).length === 0) return request;
  return { ...request, headers: { ...identity.headers, ...request.headers } };
}

/** Faker loads its locale data on first use: pay that before the first send. */
function warmUp(faker: Faker): void {
  faker.seed(0);
  faker.person.fullName();
  faker.company.name();
  faker.lorem.sentence();
}
