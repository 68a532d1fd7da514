import { afterEach, describe, expect, it } from 'vitest';
import { assertAutocannonCompatible } from '../../src/engine/autocannon-compat.ts';
import { runWithAutocannon } from '../../src/engine/autocannon-engine.ts';
import { LaunchproofError } from '../../src/errors.ts';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import { scenario } from '../helpers/scenario.ts';
import { type CountingServer, startCountingServer } from './counting-server.ts';

let servers: CountingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

type FlowInput = ScenarioInput['flows'][number];

const PLAIN: FlowInput = {
  name: 'plain',
  load: { executor: 'constant-vus', vus: 2, duration: '1s' },
  request: { path: '/' },
};

/** The LaunchproofError an assertion throws (fails the test when it throws nothing). */
function refusal(flows: FlowInput[]): LaunchproofError {
  try {
    assertAutocannonCompatible(scenario({ name: 'refused', flows }));
  } catch (error) {
    if (error instanceof LaunchproofError) return error;
    throw error;
  }
  throw new Error('expected the scenario to be refused');
}

describe('what the autocannon engine refuses', () => {
  it('accepts a constant-vus flow with a fixed request or a builder', () => {
    expect(() =>
      assertAutocannonCompatible(
        scenario({
          name: 'fine',
          flows: [
            PLAIN,
            { ...PLAIN, name: 'built', request: ({ iteration }) => ({ path: `/${iteration}` }) },
          ],
        }),
      ),
    ).not.toThrow();
  });

  it('refuses a streaming flow with LP_ERR_USAGE naming it, before sending anything', async () => {
    const target = await startCountingServer({ status: () => 200 });
    servers.push(target);
    const chat = scenario({
      name: 'chat',
      flows: [
        PLAIN,
        {
          ...PLAIN,
          name: 'chat',
          stream: { format: 'openai' },
          request: { path: '/api/chat', json: {} },
        },
      ],
    });

    const run = runWithAutocannon(chat, { target: target.url });
    await expect(run).rejects.toMatchObject({
      code: 'LP_ERR_USAGE',
      message: expect.stringMatching(/flow "chat" streams its answers \(stream\.format: openai\)/),
    });
    expect(target.requests).toHaveLength(0);
  });

  it('refuses an open-model flow (arrival rate or burst) with LP_ERR_USAGE naming it', () => {
    const rate = refusal([
      {
        ...PLAIN,
        name: 'visitors',
        load: { executor: 'constant-arrival-rate', rate: 10, duration: '1s' },
      },
    ]);
    expect(rate.code).toBe('LP_ERR_USAGE');
    expect(rate.message).toMatch(/flow "visitors" uses constant-arrival-rate, an open model/);

    const burst = refusal([{ ...PLAIN, name: 'spike', load: { executor: 'burst', count: 50 } }]);
    expect(burst.message).toMatch(/flow "spike" uses burst, an open model/);
  });

  it('lists every problem: ramp, think time, source addresses, pipelining, HEAD, timeout', () => {
    const error = refusal([
      {
        ...PLAIN,
        name: 'ramp',
        load: { executor: 'ramping-vus', stages: [{ duration: '1s', target: 5 }] },
      },
      {
        ...PLAIN,
        name: 'pauses',
        load: { executor: 'constant-vus', vus: 2, duration: '1s', thinkTime: '1s' },
      },
      { ...PLAIN, name: 'per-ip', identities: { count: 2, sourceAddresses: 'loopback' } },
      { ...PLAIN, name: 'piped', pipelining: 4 },
      { ...PLAIN, name: 'heads', request: { method: 'HEAD', path: '/' } },
      { ...PLAIN, name: 'quick', timeouts: { request: '500ms' } },
    ]);

    expect(error.message).toMatch(/flow "ramp" uses ramping-vus/);
    expect(error.details).toHaveLength(6);
    expect(error.details.join('\n')).toMatch(/flow "pauses" sets load\.thinkTime/);
    expect(error.details.join('\n')).toMatch(/flow "per-ip" binds source addresses/);
    expect(error.details.join('\n')).toMatch(/flow "piped" sets pipelining: 4/);
    expect(error.details.join('\n')).toMatch(/flow "heads" sends HEAD/);
    expect(error.details.join('\n')).toMatch(/flow "quick" sets timeouts\.request to 500 ms/);
    expect(error.hint).toMatch(/undici engine/);
  });

  it('refuses run extensions rather than leave their verifications out', () => {
    expect(() =>
      assertAutocannonCompatible(scenario({ name: 'verified', flows: [PLAIN] }), [
        { name: 'rate-limit' },
      ]),
    ).toThrow(/checks rate-limit need the undici engine/);
  });
});
