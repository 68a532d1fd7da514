import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { pregenerateRequests } from '../../src/export/pregenerate.ts';
import { validateScenario } from '../../src/scenario/load-scenario.ts';
import type { Scenario, ScenarioInput } from '../../src/scenario/schema.ts';

interface Seen {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A loopback server that records every request body and its headers. */
async function recordingServer(): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ body, headers: req.headers });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

function seededScenario(): Scenario {
  const input: ScenarioInput = {
    name: 'pregenerate',
    seed: 1234,
    flows: [
      {
        name: 'visitors',
        load: { executor: 'burst', count: 12, spread: '300ms' },
        identities: {
          count: 3,
          claimedAddresses: { headers: ['x-forwarded-for'], from: '198.51.100.7' },
        },
        request: (ctx) => ({
          method: 'POST',
          path: `/chat/${ctx.iteration}`,
          headers: { 'X-Visitor': ctx.faker.string.alphanumeric(8) },
          json: {
            iteration: ctx.iteration,
            identity: ctx.identity.index,
            text: ctx.faker.lorem.sentence(),
            draw: ctx.random(),
          },
        }),
      },
    ],
  };
  return validateScenario(input);
}

describe('pre-generating requests with the scenario seed', () => {
  it('builds, for every iteration, exactly the request the engine sends for it', async () => {
    const scenario = seededScenario();
    const flow = scenario.flows[0];
    if (flow === undefined) throw new Error('no flow');
    const target = await recordingServer();

    await runScenario(scenario, { target: target.url });
    const pregenerated = await pregenerateRequests(scenario, flow);

    expect(target.seen).toHaveLength(12);
    expect(pregenerated.requests).toHaveLength(12);
    for (const seen of target.seen) {
      const iteration = (JSON.parse(seen.body) as { iteration: number }).iteration;
      const request = pregenerated.requests[iteration];
      expect(request?.body).toBe(seen.body);
      expect(request?.headers['x-visitor']).toBe(seen.headers['x-visitor']);
      expect(pregenerated.identityHeaders[iteration % 3]?.['x-forwarded-for']).toBe(
        seen.headers['x-forwarded-for'],
      );
    }
    expect(new Set(target.seen.map((s) => s.headers['x-forwarded-for']))).toEqual(
      new Set(['198.51.100.7', '198.51.100.8', '198.51.100.9']),
    );
  });

  it('gives another seed other requests, and the same seed the same ones', async () => {
    const scenario = seededScenario();
    const flow = scenario.flows[0];
    if (flow === undefined) throw new Error('no flow');
    const first = await pregenerateRequests(scenario, flow);
    const again = await pregenerateRequests(scenario, flow);
    const other = await pregenerateRequests({ ...scenario, seed: 99 }, flow);
    expect(again.requests).toEqual(first.requests);
    expect(other.requests.map((r) => r?.body)).not.toEqual(first.requests.map((r) => r?.body));
  });

  it('caps the requests at the limit and reports the planned count', async () => {
    const scenario = validateScenario(<ScenarioInput>{
      name: 'capped',
      flows: [
        {
          name: 'steady',
          load: { executor: 'constant-arrival-rate', rate: 100, duration: '1m' },
          request: (ctx) => ({ path: `/q/${ctx.iteration}` }),
        },
      ],
    });
    const flow = scenario.flows[0];
    if (flow === undefined) throw new Error('no flow');
    const capped = await pregenerateRequests(scenario, flow, 50);
    expect(capped.plannedCount).toBe(6_000);
    expect(capped.plannedExact).toBe(true);
    expect(capped.requests.map((r) => r?.path)).toEqual(
      Array.from({ length: 50 }, (_, i) => `/q/${i}`),
    );
  });

  it('keeps a null where the builder threw, with the first message', async () => {
    const scenario = validateScenario(<ScenarioInput>{
      name: 'throwing',
      flows: [
        {
          name: 'odd',
          load: { executor: 'burst', count: 4 },
          request: (ctx) => {
            if (ctx.iteration % 2 === 1) throw new Error(`no request ${ctx.iteration}`);
            return { path: '/' };
          },
        },
      ],
    });
    const flow = scenario.flows[0];
    if (flow === undefined) throw new Error('no flow');
    const result = await pregenerateRequests(scenario, flow);
    expect(result.requests.map((r) => r === null)).toEqual([false, true, false, true]);
    expect(result.builderErrors).toEqual({ count: 2, first: 'no request 1' });
  });
});
