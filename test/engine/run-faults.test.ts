import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HttpClientChoice } from '../../src/engine/flow-runtime.ts';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';
import { scenario } from '../helpers/scenario.ts';

/** Every test runs once on each HTTP client: the fast one (`auto`, plain HTTP) and undici. */
const CLIENTS: ReadonlyArray<readonly [label: string, httpClient: HttpClientChoice]> = [
  ['fast client', 'auto'],
  ['undici', 'undici'],
];

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function server(handler: Parameters<typeof startTestServer>[0]) {
  const started = await startTestServer(handler);
  servers.push(started);
  return started;
}

describe.each(CLIENTS)(
  'faults during a run are counted, never a crash (%s)',
  (_label, httpClient) => {
    it('counts header and whole-request timeouts apart, and goes on to the planned end', async () => {
      const target = await server((req, res) => {
        if (req.url === '/silent') return; // never answers
        if (req.url === '/dribble') {
          res.writeHead(200);
          const timer = setInterval(() => res.write('.'), 50);
          res.on('close', () => clearInterval(timer));
          return;
        }
        res.end('ok');
      });
      const started = Date.now();
      const { summary } = await runScenario(
        scenario({
          name: 'timeouts',
          flows: [
            {
              name: 'silent',
              load: { executor: 'constant-arrival-rate', rate: 10, duration: '1s' },
              timeouts: { headers: '200ms' },
              request: { path: '/silent' },
            },
            {
              name: 'dribble',
              load: { executor: 'constant-arrival-rate', rate: 10, duration: '1s' },
              timeouts: { request: '300ms' },
              request: { path: '/dribble' },
            },
            {
              name: 'fine',
              load: { executor: 'constant-arrival-rate', rate: 10, duration: '1s' },
              request: { path: '/ok' },
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      const byKind = Object.fromEntries(summary.failures.map((f) => [f.kind, f]));
      expect(byKind['timeout-headers']).toMatchObject({ count: 10, flows: ['silent'] });
      expect(byKind['timeout-request']).toMatchObject({ count: 10, flows: ['dribble'] });
      expect(summary.metrics['http_req_failed{flow:fine}']).toMatchObject({ passes: 0, fails: 10 });
      expect(summary.statusCodes).toMatchObject({ '0': 10, '200': 20 });
    });

    it('counts resets when the target dies mid-run, and refusals once it is gone', async () => {
      let answered = 0;
      const target = await server((req, res) => {
        answered++;
        if (answered === 10) {
          req.socket.destroy(); // the process "dies": this connection breaks...
          void target.close(); // ...and nothing listens any more
          return;
        }
        res.end('ok');
      });
      const { summary } = await runScenario(
        scenario({
          name: 'dies',
          flows: [
            {
              name: 'visitors',
              load: { executor: 'constant-arrival-rate', rate: 20, duration: '1s' },
              request: { path: '/' },
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      expect(summary.complete).toBe(true);
      expect(summary.flows[0]?.sent).toBe(20);
      const kinds = new Set(summary.failures.map((f) => f.kind));
      expect(kinds.has('reset') || kinds.has('refused')).toBe(true);
      const failed = summary.failures.reduce((sum, f) => sum + f.count, 0);
      expect(failed).toBe(11);
      expect(summary.metrics.http_reqs).toMatchObject({ count: 20 });
    });

    it('drops open-model sends at the in-flight cap instead of delaying them', async () => {
      const target = await server((_req, res) => {
        setTimeout(() => res.end('ok'), 500);
      });
      const { summary } = await runScenario(
        scenario({
          name: 'cap',
          flows: [
            {
              name: 'capped',
              load: {
                executor: 'constant-arrival-rate',
                rate: 20,
                duration: '1s',
                preAllocatedVUs: 5,
              },
              request: { path: '/' },
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      // 5 in flight for 500 ms at a time: the first 5 go, then 5 more after they return.
      expect(summary.flows[0]).toMatchObject({ planned: 20, sent: 10, dropped: 10 });
      expect(summary.metrics.dropped_iterations).toMatchObject({ count: 10 });
      expect(target.seen).toHaveLength(10);
    });

    it('stops early on an abortOnFail threshold and says why', async () => {
      const target = await server((_req, res) => {
        res.statusCode = 503;
        res.end('down');
      });
      const { summary } = await runScenario(
        scenario({
          name: 'abort',
          thresholds: {
            http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '1s' }],
          },
          flows: [
            {
              name: 'visitors',
              load: { executor: 'constant-arrival-rate', rate: 20, duration: '10s' },
              request: { path: '/' },
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      expect(summary.stopReason).toBe('threshold-abort');
      expect(summary.complete).toBe(false);
      expect(summary.durationMs).toBeLessThan(4_000);
      expect(summary.verdict).toBe('fail');
    });

    it('groups request names past the cap, so memory does not grow with the request count', async () => {
      const target = await server((_req, res) => res.end('ok'));
      const { summary } = await runScenario(
        scenario({
          name: 'names',
          thresholds: { 'http_reqs{name:(other names)}': ['count>0'] },
          flows: [
            {
              name: 'per-request-paths',
              load: { executor: 'constant-arrival-rate', rate: 200, duration: '500ms' },
              request: (ctx) => ({ path: `/item/${ctx.iteration}` }),
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      expect(summary.notes.join('\n')).toContain('more than 50 request names');
      // 50 names kept, the other 50 requests grouped under one.
      expect(summary.metrics['http_reqs{name:(other names)}']).toMatchObject({ count: 50 });
    });

    it('counts checks per name, with a zod body schema and a predicate', async () => {
      let n = 0;
      const target = await server((_req, res) => {
        n++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(n % 2 === 0 ? { answer: 'yes', tokens: 3 } : { oops: true }));
      });
      const { summary } = await runScenario(
        scenario({
          name: 'checks',
          flows: [
            {
              name: 'api',
              load: { executor: 'constant-arrival-rate', rate: 20, duration: '500ms' },
              request: { path: '/' },
              checks: {
                'body has an answer': { body: z.object({ answer: z.string() }) },
                'json header': { header: { name: 'Content-Type', pattern: /json/ } },
                'fast enough': (response) => response.durationMs < 1_000,
              },
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      expect(summary.checks).toEqual([
        { flow: 'api', name: 'body has an answer', passes: 5, fails: 5 },
        { flow: 'api', name: 'json header', passes: 10, fails: 0 },
        { flow: 'api', name: 'fast enough', passes: 10, fails: 0 },
      ]);
      expect(summary.metrics.checks).toMatchObject({ kind: 'rate', passes: 25, fails: 5 });
    });

    it('reads each body whole and its own, the reads of many answers interleaved', async () => {
      // Each body leaves in two writes 3 ms apart, so the reads of answers in flight together
      // interleave; the fast client reads them all into one buffer and copies what is kept.
      const target = await server((req, res) => {
        const half = (req.url ?? '').repeat(25);
        res.setHeader('x-path', req.url ?? '');
        res.setHeader('content-length', Buffer.byteLength(half) * 2);
        res.write(half);
        setTimeout(() => res.end(half), 3);
      });
      const { summary } = await runScenario(
        scenario({
          name: 'bodies',
          flows: [
            {
              name: 'api',
              load: { executor: 'constant-arrival-rate', rate: 400, duration: '500ms' },
              request: (ctx) => ({ path: `/item/${ctx.iteration}`, name: 'item' }),
              checks: {
                'body is its own': (response) =>
                  response.body === String(response.headers['x-path']).repeat(50),
              },
            },
          ],
        }),
        { target: target.url, httpClient },
      );
      expect(summary.checks).toEqual([
        { flow: 'api', name: 'body is its own', passes: 200, fails: 0 },
      ]);
    });
  },
);
