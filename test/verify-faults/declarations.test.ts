import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { ProviderControl } from '../../src/provider/index.ts';
import { type ScenarioInput, scenarioSchema } from '../../src/scenario/schema.ts';
import { extensionsFor } from '../../src/verify/index.ts';

const BASE: ScenarioInput = {
  name: 'declarations',
  flows: [
    {
      name: 'chat',
      load: { executor: 'constant-arrival-rate', rate: 1, duration: '1s' },
      request: { path: '/' },
    },
  ],
};

describe('resilience declarations that do not fit the scenario', () => {
  let server: Server;
  let target: string;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function start(input: ScenarioInput, provider?: ProviderControl) {
    const scenario = scenarioSchema.parse(input);
    const extensions = extensionsFor(scenario, { target, provider, demo: undefined });
    return runScenario(scenario, { target, extensions });
  }

  it('refuses a check naming a window the timeline lacks, before any load, naming the path', async () => {
    const sent = requests;
    // The provider is never reached: the declarations are checked first.
    const unused = new ProviderControl('http://127.0.0.1:9');
    const input: ScenarioInput = {
      ...BASE,
      faults: [{ name: 'provider-timeout', at: '0s', for: '1s', fault: { kind: 'hang' } }],
      resilience: {
        recovery: { faults: ['provider-down'], within: '1s' },
        fallbackEngages: { minShare: 0.9 },
      },
    };

    await expect(start(input, unused)).rejects.toMatchObject({
      code: 'LP_ERR_SCENARIO_INVALID',
      message:
        'resilience checks: resilience.recovery.faults: no window named "provider-down" ' +
        '(faults: provider-timeout)',
      details: ['resilience.fallbackEngages: none of the flows it reads has a `fallbackMarker`'],
    });
    // Only the reachability probe went out.
    expect(requests - sent).toBeLessThanOrEqual(1);
  });

  it('asks for a mock provider when a fault timeline has none to drive', async () => {
    const input: ScenarioInput = {
      ...BASE,
      faults: [{ at: '0s', for: '1s', fault: { kind: 'server-error' } }],
    };

    await expect(start(input)).rejects.toMatchObject({
      code: 'LP_ERR_USAGE',
      hint: expect.stringContaining('--provider URL'),
    });
  });

  it('asks for `stream.abandonAfter` when no flow leaves mid-answer', async () => {
    const input: ScenarioInput = {
      ...BASE,
      resilience: { abandonedStreamsStop: { within: '1s' } },
    };

    await expect(start(input, new ProviderControl('http://127.0.0.1:9'))).rejects.toMatchObject({
      code: 'LP_ERR_SCENARIO_INVALID',
      message:
        'resilience checks: resilience.abandonedStreamsStop: no flow leaves mid-answer ' +
        '(`stream.abandonAfter`)',
    });
  });
});
