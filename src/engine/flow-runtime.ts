import { base, en, Faker } from '@faker-js/faker';
import type { Dispatcher } from 'undici';
import {
  type CounterLeaf,
  MetricStore,
  type RateLeaf,
  type TrendLeaf,
} from '../metrics/metric-store.ts';
import { statusClass, type Tags, tagKey } from '../metrics/tags.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import type {
  Flow,
  Identity,
  RequestContext,
  RequestSpecInput,
  ResponseView,
} from '../scenario/schema.ts';
import { type ChatStreamReader, createChatStreamReader } from '../stream/index.ts';
import { evaluateCheck } from './check.ts';
import type { Clock } from './clock.ts';
import { DeadlineQueue } from './deadline-queue.ts';
import { asksToClose, requestBytes } from './fast-http/index.ts';
import type { GeneratorMonitor } from './generator-monitor.ts';
import { type ExchangeOptions, HttpExchange, type PreparedRequest } from './http-exchange.ts';
import { createIdentityClients, type IdentityClient } from './identity-pool.ts';
import { createRequestContext, prepareRequestSpec } from './request-context.ts';
import {
  classifyError,
  failureKey,
  formatFailure,
  type RequestFailure,
} from './request-failure.ts';

/** Tags that mark what was going on when a request was sent (a fault phase, say). */
export interface Phase {
  key: string;
  tags: Tags;
}

/** One finished request as verifiers see it, in completion order. */
export interface ResponseRecord {
  flow: string;
  iteration: number;
  identity: Identity;
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  intendedUs: number;
  startUs: number;
  headersUs: number;
  endUs: number;
  /** First content delta of a chat stream, when there was one. */
  firstContentUs: number | undefined;
  /**
   * Tokens of a chat stream: input as its usage block said (absent without one), output from
   * the usage block or estimated from the text (`estimated`). Absent for non-chat flows.
   */
  usage: { inputTokens: number | undefined; outputTokens: number; estimated: boolean } | undefined;
  failure: RequestFailure | undefined;
  fallback: boolean;
  /** The client left mid-answer on purpose (`stream.abandonAfter`). */
  abandoned: boolean;
  phase: Phase;
}

export interface FlowRuntimeContext {
  origin: string;
  seed: number;
  clock: Clock;
  store: MetricStore;
  series: TimeSeries;
  monitor: GeneratorMonitor;
  /** Microsecond timestamp of the run's t = 0. */
  t0Us: number;
  phase(): Phase;
  failures: FailureTally;
  /** Called for every finished request (verifiers read the run from these). */
  observe: ((record: ResponseRecord) => void) | undefined;
  /**
   * This process's share of a run split across worker threads: identity j of flow f belongs
   * to worker (j + f) mod workers, so one identity (one client IP) lives in one worker.
   */
  share: { worker: number; workers: number; flowIndex: number } | undefined;
  /**
   * Which client carries requests: `auto` uses the fast client for a plain-HTTP target and
   * undici otherwise; `undici` always uses undici.
   */
  httpClient: HttpClientChoice;
}

export type HttpClientChoice = 'auto' | 'undici';

/** Failures counted by kind, with the first few messages of each. */
export class FailureTally {
  readonly byKind = new Map<string, { count: number; message: string; flows: Set<string> }>();

  add(flow: string, failure: RequestFailure): void {
    const key = failureKey(failure);
    let entry = this.byKind.get(key);
    if (entry === undefined) {
      entry = { count: 0, message: formatFailure(failure), flows: new Set() };
      this.byKind.set(key, entry);
    }
    entry.count++;
    entry.flows.add(flow);
  }

  /** Adds another tally's entry (a worker's), keeping the first message seen. */
  merge(kind: string, count: number, message: string, flows: readonly string[]): void {
    let entry = this.byKind.get(kind);
    if (entry === undefined) {
      entry = { count: 0, message, flows: new Set() };
      this.byKind.set(kind, entry);
    }
    entry.count += count;
    for (const flow of flows) entry.flows.add(flow);
  }

  get total(): number {
    let sum = 0;
    for (const entry of this.byKind.values()) sum += entry.count;
    return sum;
  }
}

interface Leaves {
  tags: Tags;
  latency: TrendLeaf;
  duration: TrendLeaf;
  waiting: TrendLeaf;
  reqs: CounterLeaf;
  failed: RateLeaf;
  ratelimited: RateLeaf;
}

const SCRIPT_ERROR = 'script';

/** The answer time connections are opened ahead for, at an open-model flow's peak rate. */
const PRECONNECT_LATENCY_MS = 100;

/**
 * Distinct `name` tags and request tag sets a flow may create. Each is a set of histograms
 * (about 100 KB each), so a name per request (`/visit/123`) would grow memory with the
 * request count; past the cap, samples are grouped, and the summary says so.
 */
const MAX_NAMES = 50;
const MAX_TAG_SETS = 200;
const OTHER_NAME = '(other names)';

/** Shortest first-to-last-delta span that counts as a token pace. */
const MIN_PACE_SPAN_US = 10_000;

/**
 * One flow while it runs: its identities and pools, how it builds each request, and how it
 * turns each finished exchange into samples. The load loops (open and closed) decide when to
 * call `send`; everything about what is sent and what is measured lives here.
 */
export class FlowRuntime {
  readonly flow: Flow;
  readonly clients: IdentityClient[];
  /** In-flight cap: open-model sends past it are dropped, never delayed. */
  readonly cap: number;
  inFlight = 0;
  sent = 0;
  readonly checks = new Map<string, { passes: number; fails: number }>();
  readonly #ctx: FlowRuntimeContext;
  readonly #static: PreparedRequest | undefined;
  readonly #leaves = new Map<string, Leaves>();
  /** The last answer's leaves and what they were for (one object, updated in place). */
  readonly #last: {
    status: number;
    request: PreparedRequest | undefined;
    phase: Phase | undefined;
    leaves: Leaves | undefined;
  } = { status: -1, request: undefined, phase: undefined, leaves: undefined };
  readonly #baseTags: Tags;
  readonly #faker = new Faker({ locale: [en, base] });
  readonly #active = new Set<HttpExchange>();
  /** Told when a closed-model virtual user's request ends (set by the closed loop). */
  #onVuDone: ((vu: number) => void) | undefined;
  readonly #sessions = new Map<number, Record<string, unknown>>();
  readonly #keepBody: boolean;
  /** What every exchange of this flow shares (set once the constructor has the parts). */
  readonly #exchangeOptions: ExchangeOptions;
  #staticDispatch: Dispatcher.DispatchOptions | undefined;
  readonly #names = new Set<string>();
  readonly #tagSets = new Set<string>();
  /** What the flow's caps grouped, for the summary's notes. */
  readonly notes: string[] = [];

  constructor(flow: Flow, ctx: FlowRuntimeContext) {
    this.flow = flow;
    this.#ctx = ctx;
    this.cap = inFlightCap(flow);
    const perIdentity =
      flow.connections ?? Math.max(1, Math.ceil(this.cap / flow.identities.count));
    this.clients = createIdentityClients(
      flow,
      ctx.origin,
      perIdentity,
      ctx.httpClient === 'auto' && ctx.origin.startsWith('http:'),
    );
    // `kind` lets one threshold set tell chat streams from plain API calls.
    this.#baseTags = { kind: flow.stream ? 'chat' : 'http', ...flow.tags, flow: flow.name };
    this.#static =
      typeof flow.request === 'function' ? undefined : prepareRequestSpec(flow.request);
    for (const name of Object.keys(flow.checks)) this.checks.set(name, { passes: 0, fails: 0 });
    if (typeof flow.request === 'function') warmUp(this.#faker);
    const marker = flow.fallbackMarker;
    this.#keepBody =
      this.checks.size > 0 ||
      flow.onResponse !== undefined ||
      (marker !== undefined &&
        (marker.jsonField !== undefined || marker.textPattern !== undefined));
    this.#exchangeOptions = {
      clock: ctx.clock,
      maxBodyBytes: flow.maxBodyBytes,
      keepBody: this.#keepBody,
      deadlines: new DeadlineQueue(flow.timeouts.request),
      idleTimeoutMs: flow.stream?.idleTimeout ?? 0,
      abandonAfterMs: flow.stream?.abandonAfter,
      onDone: (done) => {
        const exchange = done as FlowExchange;
        this.#onDone(exchange, exchange.client, exchange.phase);
      },
    };
  }

  /** Whether identity `index` is this process's to drive (always, without workers). */
  owns(index: number): boolean {
    const share = this.#ctx.share;
    if (share === undefined) return true;
    return (index + share.flowIndex) % share.workers === share.worker;
  }

  /** Whether request `n` of an open-model flow is this process's (by its identity). */
  ownsIteration(n: number): boolean {
    return this.owns(n % this.clients.length);
  }

  get active(): ReadonlySet<HttpExchange> {
    return this.#active;
  }

  /**
   * Builds and dispatches request `iteration`, due at `intendedUs`, from virtual user `vu`.
   * Returns false when the request builder threw (counted as a script failure, not sent).
   */
  send(iteration: number, intendedUs: number, vu: number, client: IdentityClient): boolean {
    const request = this.prepare(iteration, vu, client);
    if (request === undefined) return false;
    this.dispatch(request, iteration, intendedUs, vu, client);
    return true;
  }

  /**
   * Builds request `iteration` (ahead of its time, when the open loop prebuilds). Returns
   * undefined when the builder threw: counted as a script failure, and nothing is sent.
   */
  prepare(iteration: number, vu: number, client: IdentityClient): PreparedRequest | undefined {
    try {
      return this.#static ?? this.#bounded(this.#build(iteration, vu, client.identity));
    } catch (error) {
      this.#ctx.failures.add(this.flow.name, {
        kind: 'other',
        code: `${SCRIPT_ERROR}: ${error instanceof Error ? error.message : String(error)}`,
      });
      return undefined;
    }
  }

  /** Hands a prepared request to undici, due at `intendedUs`. */
  dispatch(
    request: PreparedRequest,
    iteration: number,
    intendedUs: number,
    vu: number,
    client: IdentityClient,
  ): void {
    const stream = this.flow.stream;
    const phase = this.#ctx.phase();
    const reader =
      stream === undefined
        ? undefined
        : createChatStreamReader(stream.format, {
            captureTextBytes:
              this.flow.fallbackMarker?.textPattern !== undefined
                ? Math.max(stream.captureTextBytes, 65_536)
                : stream.captureTextBytes,
            onGap: (gapUs) => this.#recordGap(gapUs, request, phase),
          });
    const options = this.#exchangeOptions;
    const exchange = new FlowExchange(
      request,
      intendedUs,
      iteration,
      vu,
      options,
      reader,
      client,
      phase,
    );
    this.#active.add(exchange);
    this.inFlight++;
    this.sent++;
    this.#ctx.series.countSent();
    const fast = client.fast;
    if (fast === undefined) {
      client.pool.dispatch(this.#dispatchOptions(request, client), exchange);
      return;
    }
    let bytes = request === this.#static ? client.staticBytes : undefined;
    try {
      if (bytes === undefined) {
        bytes = this.#bytes(request, client, fast.hostHeader);
        if (request === this.#static) client.staticBytes = bytes;
      }
    } catch (error) {
      exchange.refuse(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    fast.dispatch(
      bytes,
      exchange,
      request.idempotent,
      request.method === 'HEAD',
      asksToClose(request.headers),
    );
  }

  /** The request as bytes for the fast client, with the identity's headers. */
  #bytes(request: PreparedRequest, client: IdentityClient, host: string): Buffer {
    const own = client.identity.headers;
    const headers =
      Object.keys(own).length === 0 ? request.headers : { ...own, ...request.headers };
    return requestBytes(host, {
      method: request.method,
      path: request.path,
      headers,
      body: request.body,
    });
  }

  /**
   * Opens connections before t = 0, so the run's first second does not pay for them: `count`
   * spread over the identities this process drives (fast client only; undici cannot connect
   * without a request). Returns a note when some could not be opened.
   */
  async preconnect(count: number): Promise<string | undefined> {
    const owned = this.clients.filter((client, index) => client.fast && this.owns(index));
    if (owned.length === 0 || count <= 0) return undefined;
    const each = Math.max(1, Math.ceil(count / owned.length));
    const outcomes = await Promise.all(
      owned.map((client) => (client.fast as NonNullable<typeof client.fast>).connect(each)),
    );
    const wanted = outcomes.length * each;
    const open = outcomes.reduce((sum, outcome) => sum + outcome.open, 0);
    const error = outcomes.find((outcome) => outcome.error !== undefined)?.error;
    if (error === undefined) return undefined;
    return (
      `flow ${this.flow.name}: opened ${open} of ${wanted} connections before the start ` +
      `(${formatFailure(classifyError(error))}); the rest open on demand`
    );
  }

  /**
   * undici's options for a request from `client`. The flow's fixed request, sent by an
   * identity that adds no headers, reuses one object (undici reads it and keeps nothing).
   */
  #dispatchOptions(request: PreparedRequest, client: IdentityClient): Dispatcher.DispatchOptions {
    const plain = Object.keys(client.identity.headers).length === 0;
    if (plain && request === this.#static) {
      this.#staticDispatch ??= {
        origin: this.#ctx.origin,
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
        blocking: false,
        idempotent: request.idempotent,
      };
      return this.#staticDispatch;
    }
    return {
      origin: this.#ctx.origin,
      method: request.method,
      path: request.path,
      headers: plain ? request.headers : { ...client.identity.headers, ...request.headers },
      body: request.body,
      blocking: false,
      idempotent: request.idempotent,
    };
  }

  /**
   * Calls `listener(vu)` when a request a virtual user sent ends, synchronously, after its
   * samples are recorded (one listener a flow: the closed loop's).
   */
  onVuDone(listener: (vu: number) => void): void {
    this.#onVuDone = listener;
  }

  /** The identity a request goes out from: round-robin over the pool. */
  clientFor(n: number): IdentityClient {
    return this.clients[n % this.clients.length] as IdentityClient;
  }

  /** Ends every exchange still in flight as aborted (the run is stopping). */
  abortAll(): void {
    for (const exchange of [...this.#active]) exchange.abort();
  }

  async close(): Promise<void> {
    this.#exchangeOptions.deadlines.close();
    await Promise.all(
      this.clients.flatMap((client) => [
        client.pool.destroy().catch(() => undefined),
        client.fast?.destroy(),
      ]),
    );
  }

  #build(iteration: number, vu: number, identity: Identity): PreparedRequest {
    const builder = this.flow.request as (ctx: RequestContext) => RequestSpecInput;
    const ctx = createRequestContext({
      scenarioSeed: this.#ctx.seed,
      flow: this.flow.name,
      iteration,
      vu,
      identity,
      session: this.#sessionFor(vu, identity),
      faker: this.#faker,
    });
    return prepareRequestSpec(builder(ctx));
  }

  /** Keeps the flow's tag cardinality bounded (see MAX_NAMES). */
  #bounded(request: PreparedRequest): PreparedRequest {
    let out = request;
    if (!this.#names.has(out.name)) {
      if (this.#names.size < MAX_NAMES) this.#names.add(out.name);
      else {
        if (this.notes.length === 0 || !this.notes[0]?.includes('names')) {
          this.notes.unshift(
            `flow ${this.flow.name}: more than ${MAX_NAMES} request names; the rest are ` +
              `tagged name:"${OTHER_NAME}" (give requests a fixed name to group them)`,
          );
        }
        out = { ...out, name: OTHER_NAME };
      }
    }
    if (out.tags !== EMPTY) {
      const key = tagKey(out.tags);
      if (!this.#tagSets.has(key)) {
        if (this.#tagSets.size < MAX_TAG_SETS) this.#tagSets.add(key);
        else {
          if (!this.notes.some((note) => note.includes('tag sets'))) {
            this.notes.push(
              `flow ${this.flow.name}: more than ${MAX_TAG_SETS} distinct request tag sets; ` +
                'the rest are recorded without their request tags',
            );
          }
          out = { ...out, tags: EMPTY };
        }
      }
    }
    return out;
  }

  /** Closed model: state per virtual user; open model: the identity's own state. */
  #sessionFor(vu: number, identity: Identity): Record<string, unknown> {
    if (!this.flow.load.executor.endsWith('-vus')) return identity.state;
    let session = this.#sessions.get(vu);
    if (session === undefined) {
      session = {};
      this.#sessions.set(vu, session);
    }
    return session;
  }

  #leavesFor(status: number, request: PreparedRequest, phase: Phase): Leaves {
    // Most answers repeat the last one's status, request and phase: no key to build then.
    const last = this.#last;
    if (last.leaves !== undefined && last.status === status && last.request === request) {
      if (last.phase === phase) return last.leaves;
    }
    const leaves = this.#leavesByKey(status, request, phase);
    last.status = status;
    last.request = request;
    last.phase = phase;
    last.leaves = leaves;
    return leaves;
  }

  #leavesByKey(status: number, request: PreparedRequest, phase: Phase): Leaves {
    const extraKey = request.tags === EMPTY ? '' : tagKey(request.tags);
    const key = `${status}|${request.name}|${phase.key}|${extraKey}`;
    let leaves = this.#leaves.get(key);
    if (leaves === undefined) {
      const tags: Tags = {
        ...this.#baseTags,
        ...request.tags,
        ...phase.tags,
        name: request.name,
        status: String(status),
        status_class: statusClass(status),
      };
      const store = this.#ctx.store;
      leaves = {
        tags,
        latency: store.trendLeaf('latency', tags),
        duration: store.trendLeaf('http_req_duration', tags),
        waiting: store.trendLeaf('http_req_waiting', tags),
        reqs: store.counterLeaf('http_reqs', tags),
        failed: store.rateLeaf('http_req_failed', tags),
        ratelimited: store.rateLeaf('ratelimited', tags),
      };
      this.#leaves.set(key, leaves);
    }
    return leaves;
  }

  #recordGap(gapUs: number, request: PreparedRequest, phase: Phase): void {
    const tags = { ...this.#baseTags, ...request.tags, ...phase.tags, name: request.name };
    const store = this.#ctx.store;
    store.record(store.trendLeaf('chat_itl', tags), gapUs);
  }

  #onDone(exchange: HttpExchange, client: IdentityClient, phase: Phase): void {
    this.#active.delete(exchange);
    this.inFlight--;
    const store = this.#ctx.store;
    const request = exchange.request;

    let failure = exchange.failure;
    const stream = exchange.streamResult;
    const abandoned = failure?.kind === 'abandoned';
    if (abandoned) {
      failure = undefined;
      store.addCounter('chat_abandoned', { ...this.#baseTags, name: request.name });
    } else if (failure === undefined && stream?.failure !== undefined && exchange.status < 400) {
      failure = { kind: 'stream', reason: stream.failure.kind };
    }

    const leaves = this.#leavesFor(
      failure && exchange.status === 0 ? 0 : exchange.status,
      request,
      phase,
    );
    const tags = leaves.tags;
    const latencyUs = exchange.endUs - exchange.intendedUs;
    const durationUs = exchange.endUs - exchange.startUs;
    store.record(leaves.latency, latencyUs);
    store.record(leaves.duration, durationUs);
    if (exchange.headersUs > 0) store.record(leaves.waiting, exchange.headersUs - exchange.startUs);

    const expected = failure === undefined && statusExpected(exchange.status, this.flow);
    leaves.reqs.value++;
    MetricStore.count(leaves.failed, !expected);
    MetricStore.count(leaves.ratelimited, exchange.status === 429);
    if (failure !== undefined) this.#ctx.failures.add(this.flow.name, failure);

    const fallback = this.flow.fallbackMarker !== undefined && isFallback(exchange, this.flow);
    if (this.flow.fallbackMarker !== undefined && exchange.status > 0) {
      store.addRate('fallback', tags, fallback);
    }

    let ttftUs: number | undefined;
    if (stream !== undefined && exchange.status > 0) {
      // Only an answer that began (2xx) can break as a stream; a 429 or 400 is a refusal.
      if (exchange.status >= 200 && exchange.status < 300) {
        const broken = !abandoned && (stream.failure !== undefined || failure !== undefined);
        store.addRate('chat_stream_failed', tags, broken);
      }
      if (stream.firstContentUs !== undefined) {
        ttftUs = stream.firstContentUs - exchange.intendedUs;
        store.record(store.trendLeaf('chat_ttft', tags), ttftUs);
        store.record(
          store.trendLeaf('chat_ttft_send', tags),
          stream.firstContentUs - exchange.startUs,
        );
        store.record(store.trendLeaf('chat_duration', tags), exchange.endUs - exchange.startUs);
        store.record(store.trendLeaf('chat_tokens', tags), stream.outputTokens);
        // The pace of the model's writing: from the first to the last content delta, for a
        // real answer only (a fallback text or a burst under 10 ms is not a token pace).
        const genUs = (stream.lastContentUs ?? stream.endUs) - stream.firstContentUs;
        if (stream.outputTokens > 1 && genUs >= MIN_PACE_SPAN_US && !fallback) {
          const perSec = ((stream.outputTokens - 1) / genUs) * 1e6;
          store.record(store.trendLeaf('chat_tokens_per_sec', tags), perSec * 1_000);
        }
      }
    }

    this.#ctx.series.recordResponse(
      this.flow.name,
      tags.status_class as string,
      latencyUs,
      durationUs,
      ttftUs,
      { ratelimited: exchange.status === 429, fallback, failed: !expected },
    );
    this.#ctx.observe?.({
      flow: this.flow.name,
      iteration: exchange.iteration,
      identity: client.identity,
      status: exchange.status,
      headers: exchange.headers,
      intendedUs: exchange.intendedUs,
      startUs: exchange.startUs,
      headersUs: exchange.headersUs,
      endUs: exchange.endUs,
      firstContentUs: stream?.firstContentUs,
      usage:
        stream === undefined
          ? undefined
          : {
              inputTokens: stream.inputTokens,
              outputTokens: stream.outputTokens,
              estimated: stream.tokensEstimated,
            },
      failure,
      fallback,
      abandoned,
      phase,
    });

    if (this.checks.size > 0 || this.flow.onResponse !== undefined) {
      this.#afterResponse(exchange, client, durationUs);
    }
    this.#onVuDone?.(exchange.slot);
  }

  #afterResponse(exchange: HttpExchange, client: IdentityClient, durationUs: number): void {
    const body = exchange.bodyText();
    let parsed: { value: unknown } | undefined;
    const view: ResponseView = {
      status: exchange.status,
      headers: exchange.headers,
      body,
      durationMs: durationUs / 1_000,
      text: exchange.streamResult?.text,
      json() {
        parsed ??= { value: JSON.parse(body) };
        return parsed.value;
      },
    };
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
      const session = this.#sessionFor(exchange.slot, client.identity);
      hook(
        {
          flow: this.flow.name,
          iteration: exchange.iteration,
          vu: exchange.slot,
          identity: client.identity,
          session,
          scenarioSeed: this.#ctx.seed,
          faker: this.#faker,
          random: Math.random,
        },
        view,
      );
    } catch (error) {
      this.#ctx.failures.add(this.flow.name, {
        kind: 'other',
        code: `${SCRIPT_ERROR}: onResponse threw: ${messageOf(error)}`,
      });
    }
  }
}

const EMPTY: Tags = Object.freeze({});

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An exchange that carries what its flow needs back when it ends: no closure a request. */
class FlowExchange extends HttpExchange {
  readonly client: IdentityClient;
  readonly phase: Phase;

  constructor(
    request: PreparedRequest,
    intendedUs: number,
    iteration: number,
    vu: number,
    options: ExchangeOptions,
    stream: ChatStreamReader | undefined,
    client: IdentityClient,
    phase: Phase,
  ) {
    super(request, intendedUs, iteration, vu, options, stream);
    this.client = client;
    this.phase = phase;
  }
}

/**
 * Faker loads its locale data on first use, which costs milliseconds: pay that before t0 so
 * the first scheduled sends do not leave late.
 */
function warmUp(faker: Faker): void {
  faker.seed(0);
  faker.person.fullName();
  faker.company.name();
  faker.lorem.sentence();
}

/** Whether a response carries the flow's fallback marker (any of the ways it names). */
function isFallback(exchange: HttpExchange, flow: Flow): boolean {
  const marker = flow.fallbackMarker;
  if (marker === undefined || exchange.status === 0) return false;
  if (marker.header !== undefined && exchange.headers[marker.header.toLowerCase()] !== undefined) {
    return true;
  }
  const stream = exchange.streamResult;
  if (marker.event !== undefined && stream?.eventNames.has(marker.event)) return true;
  if (marker.textPattern !== undefined) {
    const text = stream?.text ?? exchange.bodyText();
    if (marker.textPattern.test(text)) return true;
  }
  if (marker.jsonField !== undefined) {
    try {
      let value: unknown = JSON.parse(exchange.bodyText());
      for (const key of marker.jsonField.split('.')) {
        value =
          value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
      }
      if (value !== undefined && value !== null && value !== false) return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** k6's preAllocatedVUs/maxVUs become the in-flight cap; closed models cap at their VUs. */
export function inFlightCap(flow: Flow): number {
  const load = flow.load;
  switch (load.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return load.maxVUs ?? load.preAllocatedVUs ?? 100;
    case 'burst':
      return load.maxVUs ?? load.count;
    case 'constant-vus':
      return load.vus;
    case 'ramping-vus':
      return Math.max(load.startVUs, ...load.stages.map((stage) => stage.target), 1);
  }
}

/**
 * How many connections a flow opens before t = 0: its virtual users for a closed model or a
 * burst, and for an arrival rate enough for answers of PRECONNECT_LATENCY_MS at its peak
 * rate, never past the in-flight cap.
 */
export function preconnectCount(flow: Flow): number {
  const load = flow.load;
  const cap = inFlightCap(flow);
  switch (load.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate': {
      const peak =
        load.executor === 'constant-arrival-rate'
          ? load.rate
          : Math.max(load.startRate, ...load.stages.map((stage) => stage.target));
      const perSec = (peak * 1_000) / load.timeUnit;
      return Math.min(cap, Math.ceil((perSec * PRECONNECT_LATENCY_MS) / 1_000));
    }
    default:
      return cap;
  }
}

function statusExpected(status: number, flow: Flow): boolean {
  for (const range of flow.expectedStatuses) {
    if (typeof range === 'number' ? status === range : status >= range.min && status <= range.max) {
      return true;
    }
  }
  return false;
}
