import { afterEach, describe, expect, it } from 'vitest';
import type { HttpClientChoice } from '../../src/engine/flow-runtime.ts';
import { runScenario } from '../../src/engine/run-scenario.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { type ChildServer, startChildServer } from '../helpers/child-server.ts';
import { delayed, startTestServer, type TestServer } from '../helpers/http-server.ts';
import { scenario } from '../helpers/scenario.ts';

/** Every test runs once on each HTTP client: the fast one (`auto`, plain HTTP) and undici. */
const CLIENTS: ReadonlyArray<readonly [label: string, httpClient: HttpClientChoice]> = [
  ['fast client', 'auto'],
  ['undici', 'undici'],
];

let servers: TestServer[] = [];
let children: ChildServer[] = [];
afterEach(async () => {
  await Promise.all([...servers, ...children].map((server) => server.close()));
  servers = [];
  children = [];
});

async function server(handler: Parameters<typeof startTestServer>[0]) {
  const started = await startTestServer(handler);
  servers.push(started);
  return started;
}

function trend(summary: Summary, key: string) {
  const metric = summary.metrics[key];
  if (metric?.kind !== 'trend') throw new Error(`no trend ${key}`);
  return metric;
}

describe.each(CLIENTS)('measuring against a real server (%s)', (_label, httpClient) => {
  // The one test here with a sub-millisecond margin: on this shared two-core machine a busy
  // neighbour has pushed an honest p50 of 21.5 ms past 22. A retry must pass every assertion
  // again; a generator that is really off (late sends, a wrong start instant) fails them all.
  it('measures a 20 ms server at 200 requests/s for 3 s: p50 latency 20-22 ms, 600 sent', {
    retry: 2,
  }, async () => {
    // The server runs in a process of its own: sharing the generator's event loop would add
    // its own work to every latency.
    const target = await startChildServer(20);
    children.push(target);
    const { summary } = await runScenario(
      scenario({
        name: 'accuracy',
        flows: [
          {
            name: 'steady',
            load: {
              executor: 'constant-arrival-rate',
              rate: 200,
              duration: '3s',
              preAllocatedVUs: 50,
            },
            request: { path: '/' },
          },
        ],
      }),
      { target: target.url, httpClient },
    );

    expect(summary.flows[0]?.sent).toBe(600);
    expect(summary.metrics.http_reqs).toMatchObject({ count: 600 });
    const latency = trend(summary, 'latency');
    expect(latency.count).toBe(600);
    expect(latency.p50).toBeGreaterThanOrEqual(20);
    expect(latency.p50).toBeLessThanOrEqual(22);
    // The server's own account: it answered every request, and held each about 20 ms. The
    // generator cannot have measured less than the server held them.
    const truth = await target.timing();
    expect(truth.count).toBe(600);
    expect(truth.p50).toBeGreaterThanOrEqual(20);
    expect(latency.p50).toBeGreaterThanOrEqual(truth.p50);
    // Sends 5 ms apart: timers wake the loop early and the rest is spun out, so the median
    // send leaves within a few tens of µs of its due instant (whole-ms timers alone: ~0.6 ms).
    expect(summary.generator.sendLagMs.p50).toBeLessThan(0.3);
    expect(summary.complete).toBe(true);
  });

  it('delivers 2,000 requests planned over 2 s within 2% of the plan, spread over 2 s', async () => {
    const target = await server(delayed(1));
    const { summary } = await runScenario(
      scenario({
        name: 'fidelity',
        flows: [
          {
            name: 'fast',
            load: {
              executor: 'constant-arrival-rate',
              rate: 1_000,
              duration: '2s',
              preAllocatedVUs: 500,
            },
            request: { path: '/' },
          },
        ],
      }),
      { target: target.url, httpClient },
    );

    expect(Math.abs(target.seen.length - 2_000)).toBeLessThanOrEqual(40);
    const first = target.seen[0]?.atMs ?? 0;
    const last = target.seen[target.seen.length - 1]?.atMs ?? 0;
    expect(Math.abs(last - first - 1_999)).toBeLessThan(40);
    // The second half of the plan arrives in the second half of the run, not in a rush.
    const firstSecond = target.seen.filter((s) => s.atMs - first < 1_000).length;
    expect(Math.abs(firstSecond - 1_000)).toBeLessThanOrEqual(50);
    expect(summary.generator.planned).toBe(2_000);
  });

  it('binds a source address: the server sees the flow as 127.0.0.2', async () => {
    const target = await server(delayed(1));
    await runScenario(
      scenario({
        name: 'source',
        flows: [
          {
            name: 'bound',
            load: { executor: 'constant-arrival-rate', rate: 20, duration: '500ms' },
            identities: { count: 1, sourceAddresses: ['127.0.0.2'] },
            request: { path: '/' },
          },
          {
            name: 'pool',
            load: { executor: 'constant-arrival-rate', rate: 30, duration: '500ms' },
            identities: { count: 3, sourceAddresses: 'loopback' },
            request: { path: '/pool' },
          },
        ],
      }),
      { target: target.url, httpClient },
    );

    const bound = target.seen.filter((s) => s.path === '/');
    expect(bound.length).toBe(10);
    expect(new Set(bound.map((s) => s.address))).toEqual(new Set(['127.0.0.2']));
    const pooled = target.seen.filter((s) => s.path === '/pool');
    expect(new Set(pooled.map((s) => s.address))).toEqual(
      new Set(['127.0.0.2', '127.0.0.3', '127.0.0.4']),
    );
  });
});

describe.each(CLIENTS)('coordinated omission (%s)', (_label, httpClient) => {
  /**
   * A server that answers in 5 ms but stalls between 1 s and 2 s after its first request:
   * everything that arrives in the window waits until the window ends.
   */
  function stallingServer() {
    let firstAt: number | undefined;
    return server((_req, res) => {
      const now = performance.now();
      firstAt ??= now;
      const at = now - firstAt;
      const holdMs = at >= 1_000 && at < 2_000 ? 2_000 - at : 0;
      setTimeout(() => res.end('ok'), holdMs + 5);
    });
  }

  it('shows a 1 s stall in open-model latency, while a closed model hides it', async () => {
    const open = await stallingServer();
    const openRun = await runScenario(
      scenario({
        name: 'stall-open',
        // A sub-metric appears in the summary when a threshold reads it, as in k6.
        thresholds: { 'http_req_duration{window:after}': ['p(99)<60'] },
        flows: [
          {
            name: 'open',
            load: {
              executor: 'constant-arrival-rate',
              rate: 100,
              duration: '3s',
              preAllocatedVUs: 200,
            },
            // Ten connections, as wrk2 has a fixed set: during the stall they are all held,
            // and later requests wait in the client, on time by the plan but not on the wire.
            connections: 10,
            request: (ctx) => ({
              path: '/',
              // Requests planned after the stall: sent on time, answered at once.
              tags: { window: ctx.iteration >= 210 ? 'after' : 'before' },
            }),
          },
        ],
      }),
      { target: open.url, httpClient },
    );

    // The truth, from the plan: request i (10 ms apart) planned in [1 s, 2 s) waits until 2 s.
    const trueWaits = Array.from({ length: 300 }, (_, i) => {
      const at = i * 10;
      return (at >= 1_000 && at < 2_000 ? 2_000 - at : 0) + 5;
    }).sort((a, b) => a - b);
    const trueP99 = trueWaits[Math.ceil(0.99 * 300) - 1] as number;
    const trueP95 = trueWaits[Math.ceil(0.95 * 300) - 1] as number;

    const latency = trend(openRun.summary, 'latency');
    expect(latency.max).toBeGreaterThan(900);
    expect(latency.max).toBeLessThan(1_150);
    expect(Math.abs(latency.p99 - trueP99)).toBeLessThan(0.1 * trueP99);
    expect(Math.abs(latency.p95 - trueP95)).toBeLessThan(0.1 * trueP95);
    // From the actual send the same run looks healthy: only the ten requests on the wire
    // during the stall show it; the ninety queued behind them look fast. That is the
    // omission `latency` corrects.
    const duration = trend(openRun.summary, 'http_req_duration');
    expect(duration.max).toBeGreaterThan(900);
    expect(duration.p95).toBeLessThan(0.1 * latency.p95);
    const after = trend(openRun.summary, 'http_req_duration{window:after}');
    expect(after.p99).toBeLessThan(60);
    expect(openRun.summary.thresholds[0]?.ok).toBe(true);

    const closed = await stallingServer();
    const closedRun = await runScenario(
      scenario({
        name: 'stall-closed',
        flows: [
          {
            name: 'closed',
            load: { executor: 'constant-vus', vus: 1, duration: '3s', thinkTime: '5ms' },
            request: { path: '/' },
          },
        ],
      }),
      { target: closed.url, httpClient },
    );
    const closedDuration = trend(closedRun.summary, 'http_req_duration');
    // One virtual user waited through the stall once: its max shows it, its p99 does not.
    expect(closedDuration.max).toBeGreaterThan(900);
    expect(closedDuration.p99).toBeLessThan(0.2 * latency.p99);
    expect(closedRun.summary.flows[0]?.sent).toBeLessThan(260);
  });
});
