import { base, en, Faker } from '@faker-js/faker';
import autocannon from 'autocannon';
import { afterEach, describe, expect, it } from 'vitest';
import { runWithAutocannon } from '../../src/engine/autocannon-engine.ts';
import { type Summary, summarySchema } from '../../src/report/summary-schema.ts';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import { deriveSeed } from '../../src/util/random.ts';
import { scenario } from '../helpers/scenario.ts';
import { type Answering, type CountingServer, startCountingServer } from './counting-server.ts';

let servers: CountingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function server(answering: Answering): Promise<CountingServer> {
  const started = await startCountingServer(answering);
  servers.push(started);
  return started;
}

/** Every fourth request the server sees is a 503, the rest 200. */
const EVERY_FOURTH_503: Answering = { status: ({ n }) => (n % 4 === 0 ? 503 : 200), delayMs: 2 };

function closedFlow(overrides: Partial<ScenarioInput['flows'][number]> = {}) {
  return {
    name: 'ping',
    load: { executor: 'constant-vus' as const, vus: 4, duration: '1s' },
    request: { path: '/ping' },
    ...overrides,
  };
}

function trend(summary: Summary, key: string) {
  const metric = summary.metrics[key];
  if (metric?.kind !== 'trend') throw new Error(`no trend ${key}`);
  return metric;
}

function counter(summary: Summary, key: string) {
  const metric = summary.metrics[key];
  if (metric?.kind !== 'counter') throw new Error(`no counter ${key}`);
  return metric;
}

function rate(summary: Summary, key: string) {
  const metric = summary.metrics[key];
  if (metric?.kind !== 'rate') throw new Error(`no rate ${key}`);
  return metric;
}

describe('autocannon 9 itself', () => {
  it('refuses ignoreCoordinatedOmission without a rate, so the engine sets no rate at all', () => {
    let refusal: unknown;
    autocannon(
      { url: 'http://127.0.0.1:9', duration: 1, ignoreCoordinatedOmission: true },
      (error) => {
        refusal = error;
      },
    );
    expect(String(refusal)).toMatch(/ignoreCoordinatedOmission makes no sense without/);
  });
});

describe('the autocannon engine against a real server', () => {
  it('counts every request and status the server saw, 200s and 503s by a fixed rule', async () => {
    const target = await server(EVERY_FOURTH_503);
    const { summary } = await runWithAutocannon(scenario({ name: 'mix', flows: [closedFlow()] }), {
      target: target.url,
    });

    expect(() => summarySchema.parse(summary)).not.toThrow();
    const seen = target.requests.length;
    const byStatus = target.byStatus();
    expect(seen).toBeGreaterThan(100);
    expect(byStatus['503']).toBe(Math.floor(seen / 4));
    expect(summary.statusCodes).toEqual(byStatus);
    expect(counter(summary, 'http_reqs').count).toBe(seen);
    expect(summary.flows[0]).toMatchObject({
      model: 'closed',
      planned: seen,
      sent: seen,
      dropped: 0,
    });
    const failed = rate(summary, 'http_req_failed');
    expect(failed.fails).toBe(seen - Math.floor(seen / 4));
    expect(failed.passes).toBe(Math.floor(seen / 4));
    expect(trend(summary, 'http_req_duration').count).toBe(seen);
    expect(trend(summary, 'latency').count).toBe(seen);
    const perSecond = summary.series.reduce(
      (sum, row) => sum + Object.values(row.flows.ping?.requests ?? {}).reduce((a, b) => a + b, 0),
      0,
    );
    expect(perSecond).toBe(seen);
    expect(summary.generator).toMatchObject({ planned: seen, sent: seen, late: 0, dropped: 0 });
    expect(summary.complete).toBe(true);
    expect(summary.notes.join('\n')).toMatch(/autocannon 9\.\d+\.\d+ ran flow\(s\) ping/);
    expect(summary.notes.join('\n')).toMatch(/coordinated-omission correction was off/);
    expect(summary.notes).toContain(
      `flow ping: autocannon's own result agrees: ${seen} responses, 0 errors (0 timeouts)`,
    );
  });

  it('evaluates thresholds on the result: 25% 503s fail rate<0.1, all 200s pass', async () => {
    const thresholds = { http_req_failed: ['rate<0.1'], http_req_duration: ['p(95)<2000'] };
    const flaky = await server(EVERY_FOURTH_503);
    const failing = await runWithAutocannon(
      scenario({
        name: 'flaky',
        thresholds,
        flows: [closedFlow({ load: { executor: 'constant-vus', vus: 2, duration: '700ms' } })],
      }),
      { target: flaky.url },
    );
    const healthy = await server({ status: () => 200, delayMs: 2 });
    const passing = await runWithAutocannon(
      scenario({
        name: 'healthy',
        thresholds,
        flows: [closedFlow({ load: { executor: 'constant-vus', vus: 2, duration: '700ms' } })],
      }),
      { target: healthy.url },
    );

    const failedRate = failing.summary.thresholds.find((t) => t.metric === 'http_req_failed');
    expect(failedRate?.ok).toBe(false);
    expect(failedRate?.observed).toBeCloseTo(
      Math.floor(flaky.requests.length / 4) / flaky.requests.length,
      3,
    );
    expect(failing.summary.verdict).toBe('fail');
    expect(passing.summary.thresholds.every((t) => t.ok)).toBe(true);
    expect(passing.summary.thresholds.find((t) => t.metric === 'http_req_failed')?.observed).toBe(
      0,
    );
    expect(passing.summary.verdict).toBe('pass');
  });

  it('keeps counts and times true when the server closes connections after answers', async () => {
    const delayMs = 30;
    const closing: Answering = { status: () => 200, delayMs, close: ({ n }) => n % 3 === 0 };
    const target = await server(closing);
    const { summary } = await runWithAutocannon(
      scenario({
        name: 'closing',
        flows: [closedFlow({ load: { executor: 'constant-vus', vus: 2, duration: '1s' } })],
      }),
      { target: target.url },
    );

    expect(summary.statusCodes).toEqual({ '200': target.requests.length });
    expect(summary.flows[0]?.sent).toBe(target.requests.length);
    expect(summary.failures).toEqual([]);
    // Medians, since the machine is shared: ours stays one delay, autocannon's grows.
    expect(trend(summary, 'http_req_duration').p50).toBeLessThan(2 * delayMs);
    expect(summary.notes.join('\n')).toMatch(/onto connections the server had closed/);

    // The same server breaks autocannon's own timing: each close leaves an entry in its queue,
    // and every later answer on that connection is timed from an older send.
    const raw = await server(closing);
    const times: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const instance = autocannon({ url: raw.url, connections: 2, duration: 1 }, (error) =>
        error ? reject(error) : resolve(),
      );
      instance.on('response', (_client, _status, _bytes, timeMs) => times.push(timeMs));
    });
    times.sort((a, b) => a - b);
    expect(times[Math.floor(times.length / 2)]).toBeGreaterThan(2 * delayMs);
  });

  it('builds each request with the seeded context, once per iteration', async () => {
    const target = await server({
      status: ({ path }) => (Number(path.split('/').pop()) % 5 === 0 ? 503 : 200),
      delayMs: 2,
    });
    const { summary } = await runWithAutocannon(
      scenario({
        name: 'built',
        seed: 7,
        // Each sample must carry the tags of the very request it times.
        thresholds: {
          'http_req_failed{fifth:yes}': ['rate==1'],
          'http_req_failed{fifth:no}': ['rate==0'],
        },
        flows: [
          {
            name: 'items',
            load: { executor: 'constant-vus', vus: 3, duration: '1s' },
            identities: { count: 2, claimedAddresses: { headers: ['x-forwarded-for'] } },
            request: ({ iteration, vu, faker }) => ({
              method: 'POST',
              path: `/items/${iteration}`,
              name: 'item',
              tags: { fifth: iteration % 5 === 0 ? 'yes' : 'no' },
              headers: { 'x-vu': String(vu), 'x-word': faker.lorem.word() },
              json: { word: faker.lorem.word() },
            }),
            checks: { 'is 200': { status: 200 } },
          },
        ],
      }),
      { target: target.url },
    );

    const iterations = target.requests.map((seen) => Number(seen.path.split('/').pop()));
    expect([...iterations].sort((a, b) => a - b)).toEqual(iterations.map((_, i) => i));
    const faker = new Faker({ locale: [en, base] });
    // The same seed gives the same request: iteration i's word is faker's seeded draw for i.
    for (const seen of target.requests) {
      faker.seed(deriveSeed(7, 'items', Number(seen.path.split('/').pop())));
      expect(seen.headers['x-word']).toBe(faker.lorem.word());
      expect(seen.headers['content-type']).toBe('application/json');
    }
    // Virtual user v sends as identity v mod 2: 0 and 2 share the first claimed address.
    const addressOf = new Map<string, Set<string>>();
    for (const seen of target.requests) {
      const vu = String(seen.headers['x-vu']);
      addressOf.set(
        vu,
        (addressOf.get(vu) ?? new Set()).add(String(seen.headers['x-forwarded-for'])),
      );
    }
    expect([...(addressOf.get('0') ?? [])]).toEqual(['203.0.113.1']);
    expect([...(addressOf.get('1') ?? [])]).toEqual(['203.0.113.2']);
    expect([...(addressOf.get('2') ?? [])]).toEqual(['203.0.113.1']);

    const byStatus = target.byStatus();
    expect(summary.statusCodes).toEqual(byStatus);
    expect(summary.thresholds.map((t) => [t.metric, t.observed, t.ok])).toEqual([
      ['http_req_failed{fifth:yes}', 1, true],
      ['http_req_failed{fifth:no}', 0, true],
    ]);
    expect(summary.checks).toEqual([
      { flow: 'items', name: 'is 200', passes: byStatus['200'], fails: byStatus['503'] },
    ]);
  });

  it('counts a request the server never answers as a timeout, the rest as answered', async () => {
    const target = await server({ status: ({ n }) => (n === 1 ? undefined : 200), delayMs: 2 });
    const { summary } = await runWithAutocannon(
      scenario({
        name: 'hang',
        flows: [
          closedFlow({
            load: { executor: 'constant-vus', vus: 2, duration: '1500ms' },
            timeouts: { request: '1s' },
          }),
        ],
      }),
      { target: target.url },
    );

    const answered = target.requests.length - 1;
    expect(summary.statusCodes).toEqual({ '0': 1, '200': answered });
    expect(summary.failures).toMatchObject([{ kind: 'timeout-request', count: 1 }]);
    expect(rate(summary, 'http_req_failed').passes).toBe(1);
    expect(summary.notes).toContain(
      `flow ping: autocannon's own result agrees: ${answered} responses, 1 errors (1 timeouts)`,
    );
  });

  it('stops at once on a signal, incomplete, with every answered request counted', async () => {
    const target = await server({ status: () => 200, delayMs: 2 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const startedMs = performance.now();
    const { summary } = await runWithAutocannon(
      scenario({
        name: 'stop',
        flows: [closedFlow({ load: { executor: 'constant-vus', vus: 2, duration: '20s' } })],
      }),
      { target: target.url, signal: controller.signal },
    );

    expect(performance.now() - startedMs).toBeLessThan(3_000);
    expect(summary).toMatchObject({ complete: false, stopReason: 'signal' });
    expect(summary.statusCodes).toEqual({ '200': target.requests.length });
  });
});
