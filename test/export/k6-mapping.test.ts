import { describe, expect, it } from 'vitest';
import { exportK6 } from '../../src/export/index.ts';
import { k6Duration, mapLoad } from '../../src/export/k6-load.ts';
import { mapThresholds } from '../../src/export/k6-thresholds.ts';
import { validateScenario } from '../../src/scenario/load-scenario.ts';
import type { Flow, ScenarioInput } from '../../src/scenario/schema.ts';

function flowWith(load: unknown): Flow {
  const input = { name: 'mapping', flows: [{ name: 'f', load, request: { path: '/' } }] };
  return validateScenario(input as ScenarioInput).flows[0] as Flow;
}

const MEASURED = {
  custom: new Set(['ratelimited', 'chat_ttft']),
  tagKeys: new Set(['flow', 'kind']),
  streamFlows: [] as string[],
};

describe('mapping load shapes to k6 executors', () => {
  it('maps constant-arrival-rate option for option', () => {
    const mapped = mapLoad(
      flowWith({
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '30s',
        preAllocatedVUs: 20,
        maxVUs: 80,
        startTime: '5s',
        gracefulStop: '10s',
      }),
    );
    expect(mapped.config).toEqual({
      executor: 'constant-arrival-rate',
      rate: 50,
      timeUnit: '1s',
      duration: '30s',
      preAllocatedVUs: 20,
      maxVUs: 80,
      startTime: '5s',
      gracefulStop: '10s',
    });
    expect(mapped.closed).toBe(false);
    expect(mapped.warnings).toEqual([]);
  });

  it('scales a fractional rate with its time unit, keeping the spacing', () => {
    const constant = mapLoad(
      flowWith({ executor: 'constant-arrival-rate', rate: 0.5, duration: '1m' }),
    );
    expect(constant.config).toMatchObject({ rate: 5, timeUnit: '10s' });

    const ramp = mapLoad(
      flowWith({
        executor: 'ramping-arrival-rate',
        startRate: 1,
        timeUnit: '1s',
        stages: [
          { duration: '10s', target: 2.5 },
          { duration: '5s', target: 0 },
        ],
      }),
    );
    expect(ramp.config).toMatchObject({
      startRate: 10,
      timeUnit: '10s',
      stages: [
        { duration: '10s', target: 25 },
        { duration: '5s', target: 0 },
      ],
    });
  });

  it('sends a burst all at once as per-vu-iterations, one iteration per VU', () => {
    const mapped = mapLoad(flowWith({ executor: 'burst', count: 40 }));
    expect(mapped.config).toEqual({
      executor: 'per-vu-iterations',
      vus: 40,
      iterations: 1,
      startTime: '0s',
      gracefulStop: '30s',
    });
    expect(mapped.description).toContain('per-vu-iterations');
  });

  it('spreads a burst as constant-arrival-rate: count per spread for spread', () => {
    const mapped = mapLoad(flowWith({ executor: 'burst', count: 30, spread: '3s', maxVUs: 10 }));
    expect(mapped.config).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 30,
      timeUnit: '3s',
      duration: '3s',
      preAllocatedVUs: 10,
      maxVUs: 10,
    });
  });

  it('warns that a burst capped by maxVUs sends fewer in k6 and counts no drops', () => {
    const mapped = mapLoad(flowWith({ executor: 'burst', count: 10, maxVUs: 4 }));
    expect(mapped.config).toMatchObject({ vus: 4, iterations: 1 });
    expect(mapped.warnings.map((w) => w.kind)).toEqual(['load-shape']);
  });

  it('warns that Poisson spacing becomes even spacing', () => {
    const mapped = mapLoad(
      flowWith({ executor: 'constant-arrival-rate', rate: 5, duration: '2s', spacing: 'poisson' }),
    );
    expect(mapped.warnings[0]?.message).toContain('poisson');
  });

  it('maps the closed models with their stages and ramp-down', () => {
    const constant = mapLoad(flowWith({ executor: 'constant-vus', vus: 3, duration: '90s' }));
    expect(constant.config).toMatchObject({ executor: 'constant-vus', vus: 3, duration: '90s' });
    expect(constant.closed).toBe(true);

    const ramp = mapLoad(
      flowWith({
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [{ duration: '1m', target: 10 }],
        gracefulRampDown: '5s',
      }),
    );
    expect(ramp.config).toMatchObject({
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [{ duration: '1m', target: 10 }],
      gracefulRampDown: '5s',
    });
  });

  it('writes durations in the largest whole k6 unit', () => {
    expect([0, 250, 1_000, 90_000, 120_000, 7_200_000, 1_500].map(k6Duration)).toEqual([
      '0s',
      '250ms',
      '1s',
      '90s',
      '2m',
      '2h',
      '1500ms',
    ]);
  });
});

describe('carrying thresholds over to k6', () => {
  it('copies thresholds on k6 metrics unchanged, long form included', () => {
    const { thresholds, warnings } = mapThresholds(
      {
        http_req_failed: ['rate<0.01'],
        'http_req_duration{flow:chat}': [
          { threshold: 'p(95)<800', abortOnFail: true, delayAbortEval: 10_000 },
        ],
        checks: ['rate>0.99'],
      },
      MEASURED,
    );
    expect(thresholds).toEqual({
      http_req_failed: ['rate<0.01'],
      'http_req_duration{flow:chat}': [
        { threshold: 'p(95)<800', abortOnFail: true, delayAbortEval: '10000ms' },
      ],
      checks: ['rate>0.99'],
    });
    expect(warnings).toEqual([]);
  });

  it('maps latency to http_req_duration with a warning, merging with thresholds already there', () => {
    const { thresholds, warnings } = mapThresholds(
      {
        latency: ['p(95)<500'],
        http_req_duration: ['p(99)<900'],
        'latency{flow:chat}': ['p(90)<400'],
      },
      MEASURED,
    );
    expect(thresholds).toEqual({
      http_req_duration: ['p(95)<500', 'p(99)<900'],
      'http_req_duration{flow:chat}': ['p(90)<400'],
    });
    expect(warnings.map((w) => w.kind)).toEqual(['latency-threshold', 'latency-threshold']);
  });

  it('keeps thresholds on custom metrics the script emits and drops the others', () => {
    const { thresholds, warnings } = mapThresholds(
      { chat_ttft: ['p(95)<1000'], fallback: ['rate<0.05'], provider_cost_usd: ['count<1'] },
      MEASURED,
    );
    expect(Object.keys(thresholds)).toEqual(['chat_ttft']);
    expect(warnings.filter((w) => w.kind === 'threshold-dropped').map((w) => w.message)).toEqual([
      expect.stringContaining('no fallback metric'),
      expect.stringContaining('no provider_cost_usd metric'),
    ]);
  });

  it('drops a sub-metric on a tag no k6 sample carries, since it could only pass', () => {
    const { thresholds, warnings } = mapThresholds(
      {
        'http_req_duration{status_class:2xx}': ['p(95)<300'],
        'ratelimited{status_class:4xx}': ['rate>0'],
        'http_req_duration{kind:chat}': ['p(95)<300'],
        'http_req_duration{phase:outage}': ['p(95)<300'],
      },
      MEASURED,
    );
    expect(Object.keys(thresholds)).toEqual([
      'ratelimited{status_class:4xx}',
      'http_req_duration{kind:chat}',
    ]);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('status_class'),
      expect.stringContaining('phase'),
    ]);
  });

  it('warns that http_req_failed has no samples from streaming flows', () => {
    const { warnings } = mapThresholds(
      { http_req_failed: ['rate<0.01'] },
      { ...MEASURED, streamFlows: ['chat'] },
    );
    expect(warnings).toEqual([
      expect.objectContaining({
        kind: 'threshold-changed',
        message: expect.stringContaining('chat'),
      }),
    ]);
  });
});

describe('naming flows in the script', () => {
  it('gives flows whose names meet once made k6-safe distinct scenarios and functions', async () => {
    const twins = validateScenario({
      name: 'twins',
      flows: ['a.b', 'a_b'].map((name) => ({
        name,
        load: { executor: 'burst', count: 1 },
        request: { path: `/${name}` },
      })),
    } as ScenarioInput);
    const { script } = await exportK6(twins);
    expect(script).toContain("    a_b: {\n      executor: 'per-vu-iterations'");
    expect(script).toContain("    a_b_2: {\n      executor: 'per-vu-iterations'");
    expect(script).toContain("exec: 'flow_a_b',");
    expect(script).toContain("exec: 'flow_a_b_2',");
    expect(script).toContain("tags: { kind: 'http', flow: 'a.b' }");
    expect(script).toContain('export function flow_a_b_2(): void {');
  });
});
