import { base, en, Faker } from '@faker-js/faker';
import { createArrivalSchedule, isOpenLoad } from '../engine/arrival-schedule.ts';
import { inFlightCap } from '../engine/flow-runtime.ts';
import { createIdentityClients } from '../engine/identity-pool.ts';
import { closedDurationMs } from '../engine/load-loops.ts';
import { createRequestContext, prepareRequestSpec } from '../engine/request-context.ts';
import type { Flow, Identity, RequestSpecInput, Scenario } from '../scenario/schema.ts';
import { deriveSeed } from '../util/random.ts';

/** The most requests one flow ships in its script by default; the rest cycle through them. */
export const DEFAULT_REQUEST_LIMIT = 10_000;

/** One request as the k6 script sends it: what the engine's `prepare` makes of a spec. */
export interface PreparedK6Request {
  method: string;
  path: string;
  /** Lower-case names, as the engine sends them; identity headers are added in the script. */
  headers: Record<string, string>;
  /** The body as text, or null; `bodyBase64` instead when it is bytes that are not UTF-8. */
  body: string | null;
  bodyBase64?: string;
  /** Credential headers left out of the data, whose values the script reads from the env. */
  secret?: string[];
  name: string;
  tags: Record<string, string>;
}

/** What a flow ships: its requests (null where the builder threw) and its identities. */
export interface FlowRequests {
  /** Requests by iteration; the script takes `requests[iteration % requests.length]`. */
  requests: Array<PreparedK6Request | null>;
  /** How many the flow plans (open model), or an estimate (closed model). */
  plannedCount: number;
  /** Whether `plannedCount` is exact (open models with even spacing, bursts). */
  plannedExact: boolean;
  /** Headers each identity adds (claimed addresses), by identity index. */
  identityHeaders: Array<Record<string, string>>;
  /** Iterations whose builder threw, with the first message. */
  builderErrors: { count: number; first: string } | undefined;
}

/**
 * Builds a flow's requests ahead of time, exactly as the engine would build them, since k6 has
 * no faker and cannot run the scenario's builder:
 * 1. decide how many: the planned count of an open model (or an estimate for a closed one,
 *    one request per virtual user per second), capped at `limit`;
 * 2. for iteration i, give the builder the context the engine gives (`FlowRuntime#build`): a
 *    faker seeded with `deriveSeed(seed, flow, i)` on first use, a seeded `random()`, the
 *    identity and virtual user the engine would pick (open: identity i mod count, slot i mod
 *    cap; closed: user i mod users, identity user mod count) and their session state;
 * 3. prepare each spec as the engine does: lower-case header names, `json` into the body with
 *    a JSON content type, the method from the body, the name from the path.
 */
export async function pregenerateRequests(
  scenario: Scenario,
  flow: Flow,
  limit = DEFAULT_REQUEST_LIMIT,
): Promise<FlowRequests> {
  const clients = createIdentityClients(flow, 'http://127.0.0.1:9', 1);
  const identities = clients.map((client) => client.identity);
  await Promise.all(clients.map((client) => client.pool.close()));

  const { plannedCount, plannedExact } = plannedRequests(scenario, flow);
  const identityHeaders = identities.map((identity) => ({ ...identity.headers }));
  const builder = flow.request;
  if (typeof builder !== 'function') {
    return {
      requests: [prepare(builder)],
      plannedCount,
      plannedExact,
      identityHeaders,
      builderErrors: undefined,
    };
  }

  const count = Math.max(1, Math.min(limit, Math.ceil(plannedCount)));
  const open = isOpenLoad(flow.load);
  const cap = inFlightCap(flow);
  const faker = new Faker({ locale: [en, base] });
  const sessions = new Map<number, Record<string, unknown>>();
  const requests: Array<PreparedK6Request | null> = [];
  let builderErrors: FlowRequests['builderErrors'];

  for (let iteration = 0; iteration < count; iteration++) {
    const vu = iteration % cap;
    const identity = identities[(open ? iteration : vu) % identities.length] as Identity;
    let session = identity.state;
    if (!open) {
      session = sessions.get(vu) ?? {};
      sessions.set(vu, session);
    }
    const ctx = createRequestContext({
      scenarioSeed: scenario.seed,
      flow: flow.name,
      iteration,
      vu,
      identity,
      session,
      faker,
    });
    try {
      requests.push(prepare(builder(ctx)));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      builderErrors ??= { count: 0, first: message };
      builderErrors.count++;
      requests.push(null);
    }
  }
  return { requests, plannedCount, plannedExact, identityHeaders, builderErrors };
}

/** The requests a flow plans: exact for open models, one per user per second for closed. */
export function plannedRequests(
  scenario: Scenario,
  flow: Flow,
): { plannedCount: number; plannedExact: boolean } {
  const load = flow.load;
  if (isOpenLoad(load)) {
    const exact = load.executor === 'burst' || load.spacing === 'uniform';
    const schedule = createArrivalSchedule(load, deriveSeed(scenario.seed, flow.name));
    return { plannedCount: Math.ceil(schedule.plannedCount), plannedExact: exact };
  }
  const seconds = Math.max(1, Math.ceil(closedDurationMs(load) / 1_000));
  return { plannedCount: inFlightCap(flow) * seconds, plannedExact: false };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What the engine sends for a spec (src/engine/request-context.ts), as plain data. */
function prepare(spec: RequestSpecInput): PreparedK6Request {
  const request = prepareRequestSpec(spec);
  const prepared: PreparedK6Request = {
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: null,
    name: request.name,
    tags: { ...request.tags },
  };
  const body = request.body;
  if (typeof body === 'string') prepared.body = body;
  else if (body !== null) {
    try {
      prepared.body = UTF8.decode(body);
    } catch {
      prepared.bodyBase64 = Buffer.from(body).toString('base64');
    }
  }
  return prepared;
}
