import autocannon from 'autocannon';
import type { MetricStore, TrendLeaf } from '../metrics/metric-store.ts';
import { statusClass, type Tags, tagKey } from '../metrics/tags.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import type { Flow, Identity } from '../scenario/schema.ts';
import {
  type Answer,
  carriesFallback,
  lowerCaseHeaders,
  NO_ANSWER,
  responseView,
  statusExpected,
} from './autocannon-answer.ts';
import {
  checkClientShape,
  clientEvents,
  destroyClient,
  dropStaleRequests,
  retireClient,
} from './autocannon-client.ts';
import { type BuiltRequest, type CannonRequest, RequestSource } from './autocannon-requests.ts';
import { evaluateCheck } from './check.ts';
import type { Clock } from './clock.ts';
import type { FailureTally } from './flow-runtime.ts';
import { classifyError, type RequestFailure } from './request-failure.ts';

export interface CannonFlowContext {
  origin: string;
  seed: number;
  clock: Clock;
  store: MetricStore;
  series: TimeSeries;
  failures: FailureTally;
  /** The flow's identities, setup done: virtual user i sends as identity i mod n. */
  identities: readonly Identity[];
}

/** What autocannon's own result counted, kept to cross-check ours against. */
export interface CannonTotals {
  responses: number;
  errors: number;
  timeouts: number;
}

/** Consecutive builder failures after which a virtual user gives up building. */
export const MAX_BUILD_ATTEMPTS = 100;

/** How often autocannon samples; its run ends at the first sample after its last client. */
const SAMPLE_INTERVAL_MS = 100;

const SCRIPT_ERROR = 'script';

interface Sent {
  request: CannonRequest;
  iteration: number;
  startUs: number;
  /**
   * Written onto a connection whose last answer said `Connection: close`: autocannon does
   * not heed it, so the request goes nowhere and is not counted unless it is answered.
   */
  unsent: boolean;
}

/** One autocannon connection: one virtual user, one request in flight at a time. */
interface Connection {
  readonly vu: number;
  readonly client: autocannon.Client;
  readonly identity: Identity;
  /** The request autocannon sends next: built before the send, or the fixed one. */
  current: BuiltRequest;
  inFlight: Sent | undefined;
  /** A request the connection replaced without an answer (a timeout may claim it). */
  orphan: Sent | undefined;
  answer: Answer | undefined;
  /** The last answer's headers said the server closes this connection after it. */
  closing: boolean;
  sends: number;
  /** Set between a send's `request` event and the build autocannon runs right after it. */
  awaitingBuild: boolean;
}

interface Leaves {
  tags: Tags;
  latency: TrendLeaf;
  duration: TrendLeaf;
}

/**
 * One closed-model flow run by one autocannon instance: `vus` connections, each a virtual
 * user with one request in flight. autocannon writes the requests and times each response
 * (from the write to the end of the body); this class follows every connection through
 * autocannon's client events and turns each request into the same samples the undici
 * engine records: a response with its status, or a typed failure (timeout, connection
 * error, closed by the server, cut off at the stop).
 */
export class CannonFlow {
  readonly flow: Flow;
  sent = 0;
  readonly checks = new Map<string, { passes: number; fails: number }>();
  /** Virtual users that never started: their builder failed every first attempt. */
  unstarted = 0;
  /** Requests autocannon replaced without an answer (the server closed the connection). */
  lost = 0;
  /** Requests autocannon wrote onto connections the server had closed (never sent). */
  unsent = 0;
  /** Queue entries autocannon left behind after a connection error or close, dropped. */
  staleDropped = 0;
  /** Virtual users that re-sent their previous request when building failed repeatedly. */
  repeats = 0;
  /** What autocannon's own result counted, once it has ended. */
  totals: CannonTotals | undefined;
  /** What this class counted from autocannon's events, in the same terms. */
  readonly counted: CannonTotals = { responses: 0, errors: 0, timeouts: 0 };
  /** Set when autocannon itself failed (its callback's error). */
  error: Error | undefined;
  readonly #ctx: CannonFlowContext;
  readonly #source: RequestSource;
  readonly #connections: Connection[] = [];
  readonly #leaves = new Map<string, Leaves>();
  readonly #baseTags: Tags;
  readonly #keepAnswer: boolean;
  #firsts: Array<{ vu: number; built: BuiltRequest }> = [];
  #fixedIteration = 0;
  #instance: autocannon.Instance | undefined;
  #ended: Promise<void> = Promise.resolve();

  constructor(flow: Flow, ctx: CannonFlowContext) {
    this.flow = flow;
    this.#ctx = ctx;
    this.#source = new RequestSource(flow, ctx.seed);
    this.#baseTags = { kind: 'http', ...flow.tags, flow: flow.name };
    for (const name of Object.keys(flow.checks)) this.checks.set(name, { passes: 0, fails: 0 });
    this.#keepAnswer =
      this.checks.size > 0 || flow.onResponse !== undefined || flow.fallbackMarker !== undefined;
  }

  /** Requests written and not yet ended. */
  get inFlight(): number {
    let count = 0;
    for (const connection of this.#connections) if (connection.inFlight !== undefined) count++;
    return count;
  }

  /** Resolves when autocannon has ended (every connection closed); never rejects. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  /**
   * Opens the flow's connections and starts sending.
   * 1. Build each virtual user's first request (a builder gets MAX_BUILD_ATTEMPTS tries).
   * 2. Start autocannon with one connection per virtual user that has one, no rate (its
   *    coordinated-omission correction applies only with a rate) and no pipelining; each
   *    client gets its virtual user's requests and listeners as autocannon builds it.
   */
  start(backstopMs: number): void {
    const load = this.flow.load;
    const vus = load.executor === 'constant-vus' ? load.vus : 0;
    for (let vu = 0; vu < vus; vu++) {
      const first = this.#source.builds
        ? this.#buildUpTo(vu, this.#identity(vu))
        : { request: this.#source.fixed(this.#identity(vu)), iteration: -1 };
      if (first === undefined) this.unstarted++;
      else this.#firsts.push({ vu, built: first });
    }
    if (this.#firsts.length === 0) return;

    this.#ended = new Promise((resolve) => {
      const fail = (error: unknown) => {
        this.error = error instanceof Error ? error : new Error(String(error));
        resolve();
      };
      const options: autocannon.Options = {
        url: this.#ctx.origin,
        connections: this.#firsts.length,
        pipelining: 1,
        duration: backstopMs / 1_000,
        timeout: this.flow.timeouts.request / 1_000,
        sampleInt: SAMPLE_INTERVAL_MS,
        setupClient: (client) => this.#setupClient(client),
      };
      try {
        this.#instance = autocannon(options, (error, result) => {
          if (error) return fail(error);
          this.totals = {
            responses: Object.values(result.statusCodeStats ?? {}).reduce(
              (sum, stat) => sum + Number(stat.count ?? 0),
              0,
            ),
            errors: result.errors,
            timeouts: result.timeouts,
          };
          resolve();
        });
      } catch (error) {
        // Thrown while autocannon built its clients: close the ones it had already built.
        for (const connection of this.#connections) destroyClient(connection.client);
        fail(error);
      }
    });
  }

  /** Stops sending: each connection ends once its request in flight is answered. */
  retire(): void {
    for (const connection of this.#connections) retireClient(connection.client);
  }

  /** Ends at once: autocannon closes every connection, cutting off what is in flight. */
  stopNow(): void {
    this.#instance?.stop();
  }

  /** Counts what was still in flight when the connections closed as cut off by the stop. */
  finish(): void {
    for (const connection of this.#connections) {
      for (const sent of [connection.orphan, connection.inFlight]) {
        if (sent?.unsent) this.unsent++;
        else if (sent !== undefined) this.#recordFailure(connection, sent, { kind: 'aborted' });
      }
      connection.orphan = undefined;
      connection.inFlight = undefined;
    }
  }

  #identity(vu: number): Identity {
    return this.#ctx.identities[vu % this.#ctx.identities.length] as Identity;
  }

  #setupClient(client: autocannon.Client): void {
    checkClientShape(client);
    const { vu, built: first } = this.#firsts[this.#connections.length] as {
      vu: number;
      built: BuiltRequest;
    };
    const connection: Connection = {
      vu,
      client,
      identity: this.#identity(vu),
      current: first,
      inFlight: undefined,
      orphan: undefined,
      answer: undefined,
      closing: false,
      sends: 0,
      awaitingBuild: false,
    };
    this.#connections.push(connection);

    const events = clientEvents(client);
    events.on('headers', (info: { shouldKeepAlive?: boolean }) => {
      connection.closing = info.shouldKeepAlive === false;
    });
    events.on('request', () => this.#onRequest(connection));
    events.on('response', (status: number, _bytes: number, timeMs: number) =>
      this.#onResponse(connection, status, timeMs),
    );
    events.on('timeout', () => this.#onTimeout(connection));
    events.on('connError', (error: unknown) => this.#onConnError(connection, error));

    const request: autocannon.Request = toCannon(first.request);
    if (this.#source.builds) {
      let firstBuild = true;
      request.setupRequest = (raw) => {
        // autocannon builds the first request as it takes this list: that one is made.
        if (!firstBuild) this.#rebuild(connection);
        firstBuild = false;
        return { ...raw, ...toCannon(connection.current.request) };
      };
    }
    if (this.#keepAnswer) {
      request.onResponse = (status, body, _context, headers) => {
        connection.answer = { status, body, headers: lowerCaseHeaders(headers) };
      };
    }
    client.setRequests([request]);
  }

  /**
   * autocannon announces a send just before it writes it (and, for built requests, before
   * it builds it). One request is in flight per connection, so anything still pending is
   * a request that will never be answered: a timed-out one (the `timeout` event follows in
   * the same tick) or one lost when the server closed the connection.
   */
  #onRequest(connection: Connection): void {
    this.staleDropped += dropStaleRequests(connection.client);
    if (connection.inFlight !== undefined) {
      connection.orphan = connection.inFlight;
      queueMicrotask(() => this.#settleOrphan(connection));
    }
    const first = connection.sends === 0;
    connection.sends++;
    // The next request after one written to a closing connection goes out on a new one.
    const unsent = connection.closing;
    connection.closing = false;
    connection.inFlight = {
      request: connection.current.request,
      // A built request's iteration is set by its build, which autocannon runs next.
      iteration: this.#source.builds ? connection.current.iteration : this.#fixedIteration++,
      startUs: this.#ctx.clock.nowUs(),
      unsent,
    };
    if (!unsent) this.#countSend();
    connection.awaitingBuild = this.#source.builds && !first;
  }

  #countSend(): void {
    this.sent++;
    this.#ctx.series.countPlanned();
    this.#ctx.series.countSent();
    this.#ctx.store.addCounter('iterations', { flow: this.flow.name });
  }

  /** A request that did reach the server after all is counted when it ends. */
  #reached(sent: Sent): void {
    if (!sent.unsent) return;
    sent.unsent = false;
    this.#countSend();
  }

  #rebuild(connection: Connection): void {
    const built = this.#buildUpTo(connection.vu, connection.identity);
    if (built === undefined) {
      // autocannon must write something now: the previous request again, disclosed in the
      // summary, and this virtual user ends after it.
      this.repeats++;
      retireClient(connection.client);
    } else {
      connection.current = built;
    }
    if (connection.awaitingBuild && connection.inFlight !== undefined) {
      connection.inFlight.request = connection.current.request;
      connection.inFlight.iteration = connection.current.iteration;
    }
    connection.awaitingBuild = false;
  }

  /** Builds the next iteration, counting each failed one as a script failure. */
  #buildUpTo(vu: number, identity: Identity): BuiltRequest | undefined {
    for (let attempt = 0; attempt < MAX_BUILD_ATTEMPTS; attempt++) {
      const outcome = this.#source.build(vu, identity);
      if ('request' in outcome) return outcome;
      this.#ctx.store.addCounter('iterations', { flow: this.flow.name });
      this.#ctx.failures.add(this.flow.name, {
        kind: 'other',
        code: `${SCRIPT_ERROR}: ${outcome.message}`,
      });
    }
    return undefined;
  }

  #onResponse(connection: Connection, status: number, timeMs: number): void {
    const sent = connection.inFlight;
    connection.inFlight = undefined;
    const answer = connection.answer ?? { ...NO_ANSWER, status };
    connection.answer = undefined;
    this.counted.responses++;
    if (sent === undefined) return;
    this.#reached(sent);
    this.#record(connection, sent, answer, Math.round(timeMs * 1_000), undefined);
  }

  #onTimeout(connection: Connection): void {
    this.counted.timeouts++;
    this.counted.errors++;
    const sent = connection.orphan ?? connection.inFlight;
    if (connection.orphan !== undefined) connection.orphan = undefined;
    else connection.inFlight = undefined;
    if (sent !== undefined) {
      this.#reached(sent);
      this.#recordFailure(connection, sent, { kind: 'timeout', phase: 'request' });
    }
  }

  #onConnError(connection: Connection, error: unknown): void {
    this.counted.errors++;
    const sent = connection.inFlight;
    connection.inFlight = undefined;
    if (sent?.unsent) this.unsent++;
    else if (sent !== undefined) this.#recordFailure(connection, sent, classifyError(error));
  }

  #settleOrphan(connection: Connection): void {
    const sent = connection.orphan;
    if (sent === undefined) return;
    connection.orphan = undefined;
    if (sent.unsent) {
      this.unsent++;
      return;
    }
    this.lost++;
    this.#recordFailure(connection, sent, { kind: 'reset' });
  }

  /** A request that ended without a response, timed on our clock from its send. */
  #recordFailure(connection: Connection, sent: Sent, failure: RequestFailure): void {
    const durationUs = this.#ctx.clock.nowUs() - sent.startUs;
    this.#record(connection, sent, NO_ANSWER, durationUs, failure);
  }

  #record(
    connection: Connection,
    sent: Sent,
    answer: Answer,
    durationUs: number,
    failure: RequestFailure | undefined,
  ): void {
    const { store, series } = this.#ctx;
    const status = failure === undefined ? answer.status : 0;
    const leaves = this.#leavesFor(status, sent.request);
    const tags = leaves.tags;
    // A closed model has no intended send time: latency is the time from the actual send.
    store.record(leaves.latency, durationUs);
    store.record(leaves.duration, durationUs);

    const expected = failure === undefined && statusExpected(status, this.flow);
    store.addCounter('http_reqs', tags);
    store.addRate('http_req_failed', tags, !expected);
    store.addRate('ratelimited', tags, status === 429);
    if (failure !== undefined) this.#ctx.failures.add(this.flow.name, failure);

    const fallback = carriesFallback(answer, this.flow);
    if (this.flow.fallbackMarker !== undefined && status > 0) {
      store.addRate('fallback', tags, fallback);
    }
    series.recordResponse(this.flow.name, statusClass(status), durationUs, durationUs, undefined, {
      ratelimited: status === 429,
      fallback,
      failed: !expected,
    });

    if (this.checks.size > 0 || this.flow.onResponse !== undefined) {
      this.#afterResponse(connection, sent, answer, durationUs);
    }
  }

  #afterResponse(connection: Connection, sent: Sent, answer: Answer, durationUs: number): void {
    const view = responseView(answer, durationUs / 1_000, this.flow.maxBodyBytes);
    for (const [name, check] of Object.entries(this.flow.checks)) {
      const ok = evaluateCheck(check, view);
      const tally = this.checks.get(name) as { passes: number; fails: number };
      if (ok) tally.passes++;
      else tally.fails++;
      this.#ctx.store.addRate('checks', { ...this.#baseTags, check: name }, ok);
    }
    const hook = this.flow.onResponse;
    if (hook === undefined) return;
    try {
      hook(this.#source.context(sent.iteration, connection.vu, connection.identity), view);
    } catch (error) {
      this.#ctx.failures.add(this.flow.name, {
        kind: 'other',
        code: `${SCRIPT_ERROR}: onResponse threw: ${messageOf(error)}`,
      });
    }
  }

  #leavesFor(status: number, request: CannonRequest): Leaves {
    const key = `${status}|${request.name}|${tagKey(request.tags)}`;
    let leaves = this.#leaves.get(key);
    if (leaves === undefined) {
      const tags: Tags = {
        ...this.#baseTags,
        ...request.tags,
        name: request.name,
        status: String(status),
        status_class: statusClass(status),
      };
      leaves = {
        tags,
        latency: this.#ctx.store.trendLeaf('latency', tags),
        duration: this.#ctx.store.trendLeaf('http_req_duration', tags),
      };
      this.#leaves.set(key, leaves);
    }
    return leaves;
  }
}

/** The autocannon request for one of ours (headers, method, path and body only). */
function toCannon(request: CannonRequest): autocannon.Request {
  return {
    method: request.method,
    path: request.path,
    headers: { ...request.headers },
    body: request.body,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
