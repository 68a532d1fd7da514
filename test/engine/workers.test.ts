import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClientChoice } from '../../src/engine/flow-runtime.ts';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { planWorkers } from '../../src/engine/workers/plan-workers.ts';
import { runWithWorkers } from '../../src/engine/workers/run-workers.ts';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { loadScenario } from '../../src/scenario/load-scenario.ts';
import { REPO } from '../helpers/cli.ts';
import { delayed, startTestServer, type TestServer } from '../helpers/http-server.ts';

/** The sending test runs once on each HTTP client: the fast one (`auto`) and undici. */
const CLIENTS: ReadonlyArray<readonly [label: string, httpClient: HttpClientChoice]> = [
  ['fast client', 'auto'],
  ['undici', 'undici'],
];

let server: TestServer;
const threads: Array<{ address: string | undefined; thread: string | undefined; path: string }> =
  [];
beforeAll(async () => {
  const answer = delayed(2);
  server = await startTestServer((req, res) => {
    threads.push({
      address: req.socket.remoteAddress,
      thread: req.headers['x-thread'] as string | undefined,
      path: req.url ?? '',
    });
    answer(req, res);
  });
});
afterAll(() => server.close());

const file = `${REPO}test/fixtures/scenarios/workers.ts`;

function shape(value: unknown): unknown {
  // Arrays by kind only: how many notes or reasons a run has is a finding, not a shape.
  if (Array.isArray(value)) return 'array';
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as never)[k])]),
    );
  }
  return typeof value;
}

describe.each(CLIENTS)('worker threads (%s)', (_label, httpClient) => {
  it('sends the same requests on 2 workers as on 1, each identity from one worker', async () => {
    const { scenario } = await loadScenario(file);
    const single = await runScenario(scenario, { target: server.url, httpClient });
    const seenSingle = threads.splice(0);

    const double = await runWithWorkers(scenario, {
      target: server.url,
      file,
      cwd: REPO,
      overrides: {},
      workers: 2,
      httpClient,
    });
    const seenDouble = threads.splice(0);

    // The open flow's Poisson plan is the same schedule whoever sends it: the same paths.
    const visits = (seen: typeof threads) =>
      seen
        .filter((s) => s.path.startsWith('/visit/'))
        .map((s) => s.path)
        .sort();
    expect(visits(seenDouble)).toEqual(visits(seenSingle));
    expect(double.summary.flows[0]?.sent).toBe(single.summary.flows[0]?.sent);
    expect(double.summary.metrics.http_reqs).toMatchObject({
      count: seenDouble.length,
    });

    // Two threads sent load, and every source address was driven by exactly one of them.
    const byAddress = new Map<string, Set<string>>();
    for (const s of seenDouble) {
      const set = byAddress.get(s.address ?? '') ?? new Set();
      if (s.thread !== undefined) set.add(s.thread);
      byAddress.set(s.address ?? '', set);
    }
    const visitThreads = new Set(seenDouble.filter((s) => s.thread).map((s) => s.thread));
    expect(visitThreads.size).toBe(2);
    for (const [, set] of byAddress) expect(set.size).toBeLessThanOrEqual(1);

    // Same shape, and both pass their own schema; merged checks add up.
    expect(summarySchema.parse(double.summary)).toBeTruthy();
    const { series: _a, ...restDouble } = double.summary;
    const { series: _b, ...restSingle } = single.summary;
    expect(shape({ ...restDouble, generator: { ...restDouble.generator, workers: 0 } })).toEqual(
      shape({ ...restSingle, generator: { ...restSingle.generator, workers: 0 } }),
    );
    expect(double.summary.generator.workers).toBe(2);
    const visitsCheck = double.summary.checks.find((c) => c.name === 'status is 200');
    expect(visitsCheck?.passes).toBe(double.summary.flows[0]?.sent);
    const latency = double.summary.metrics.latency;
    expect(latency?.kind === 'trend' && latency.count).toBe(seenDouble.length);
    expect(double.summary.series.reduce((sum, row) => sum + row.sent, 0)).toBe(seenDouble.length);
  });
});

describe('worker planning', () => {
  it('plans workers from cores, identities and verifiers', async () => {
    const { scenario } = await loadScenario(file);
    expect(planWorkers(scenario, 2, false).count).toBe(2);
    expect(planWorkers(scenario, 64, false)).toMatchObject({ count: 16 });
    expect(planWorkers(scenario, 2, true)).toMatchObject({ count: 1 });
    expect(planWorkers(scenario, 2, true).note).toContain('verifications');
    // 120 requests/s is one thread's work: by default it stays on one.
    expect(planWorkers(scenario, undefined, false, 2).count).toBe(1);
  });
});
