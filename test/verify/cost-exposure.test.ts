import { afterEach, describe, expect, it } from 'vitest';
import type { DemoFlaw, DemoStack } from '../../src/demo/index.ts';
import { ProviderControl, type ProviderCounters } from '../../src/provider/index.ts';
import { validateScenario } from '../../src/scenario/load-scenario.ts';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import { CostExposure, type CostFigures } from '../../src/verify/cost-exposure.ts';
import { renderCostPlan } from '../../src/verify/cost-plan.ts';
import { PRICE_TABLE, priceRowFor } from '../../src/verify/prices.ts';
import { RateLimitVerifier } from '../../src/verify/rate-limit-verifier.ts';
import {
  ASK,
  CHAT,
  evidenceOf,
  STREAM,
  startSmallDemo,
  startTinyLimiter,
  type TinyLimiter,
  verifiedRun,
} from './helpers.ts';

const GPT_4O_MINI = PRICE_TABLE['gpt-4o-mini'];

/** Three addresses, six chats each, against a limit of 4 per minute: 12 pass, 6 get 429. */
function botnet(extra: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    name: 'botnet',
    thresholds: { provider_cost_usd: ['count<0.50'] },
    rateLimit: { key: 'ip', limit: 4, window: '60s', abuser: 'botnet' },
    cost: { model: 'gpt-4o-mini', identities: 1000 },
    flows: [
      {
        name: 'botnet',
        load: { executor: 'constant-arrival-rate', rate: 30, duration: '600ms', maxVUs: 20 },
        identities: { count: 3, sourceAddresses: 'loopback' },
        stream: STREAM,
        expectedStatuses: [200, 429],
        request: CHAT,
      },
    ],
    ...extra,
  };
}

let stack: DemoStack | undefined;
let tiny: TinyLimiter | undefined;
afterEach(async () => {
  await stack?.close();
  await tiny?.close();
  stack = undefined;
  tiny = undefined;
});

/** Runs `botnet` with a second cost verifier that sees no provider (usage blocks only). */
async function runBotnet(flaws: DemoFlaw[], extra: Partial<ScenarioInput> = {}) {
  stack = await startSmallDemo({ flaws, ipRateLimit: { max: 4, windowMs: 60_000 } });
  const control = new ProviderControl((stack.provider as { url: string }).url);
  const before = await control.counters();
  let fromUsage: CostExposure | undefined;
  const run = await verifiedRun(botnet(extra), { stack }, (scenario, registered) => {
    const verifier = registered.find((e) => e instanceof RateLimitVerifier) as RateLimitVerifier;
    fromUsage = new CostExposure(scenario, undefined, () => verifier.outcomes, undefined, false);
    return [fromUsage];
  });
  const after = await control.counters();
  const withProvider = run.extensions.find((e) => e instanceof CostExposure) as CostExposure;
  return {
    run,
    counters: delta(before, after),
    provider: withProvider.figures as CostFigures,
    usage: (fromUsage as CostExposure).figures as CostFigures,
  };
}

function delta(before: ProviderCounters, after: ProviderCounters) {
  return {
    calls: after.calls - before.calls,
    promptTokens: after.promptTokens - before.promptTokens,
    completionTokens: after.completionTokens - before.completionTokens,
  };
}

function usd(input: number, output: number): number {
  return (input * GPT_4O_MINI.inputUsdPerMTok + output * GPT_4O_MINI.outputUsdPerMTok) / 1_000_000;
}

describe('cost exposure', () => {
  it("matches the provider's own counters on a run where 12 of 18 requests pass", async () => {
    const { run, counters, provider, usage } = await runBotnet([]);
    expect(counters.calls).toBe(12);

    expect(provider.source).toBe('provider counters');
    expect(provider.calls).toBe(12);
    expect(provider.inputTokens).toBe(counters.promptTokens);
    expect(provider.outputTokens).toBe(counters.completionTokens);
    const spend = usd(counters.promptTokens, counters.completionTokens);
    expect(provider.runUsd).toBeCloseTo(spend, 12);

    // The demo passes the provider's usage on to its clients: the same tokens, read from them.
    expect(usage.source).toBe('usage blocks in responses');
    expect(usage.calls).toBe(12);
    expect(usage.inputTokens).toBe(counters.promptTokens);
    expect(usage.outputTokens).toBe(counters.completionTokens);

    const calls = run.summary.metrics.provider_calls;
    const cost = run.summary.metrics.provider_cost_usd;
    expect(calls?.kind === 'counter' && calls.count).toBe(12);
    // The summary keeps six decimals (dollars below a tenth of a cent stay visible).
    expect(cost?.kind === 'counter' && cost.count).toBe(Math.round(spend * 1e6) / 1e6);
    const threshold = run.summary.thresholds.find((t) => t.metric === 'provider_cost_usd');
    expect(threshold).toMatchObject({ ok: true, expression: 'count<0.50' });
    expect(threshold?.observed).toBe(Math.round(spend * 1e6) / 1e6);

    // The limit held, so an address costs 4 calls a minute at the run's cost per call.
    const perHour = (4 / 60) * 3_600 * (spend / 12);
    expect(provider.perIdentityPerHourUsd).toBeCloseTo(perHour, 12);
    expect(provider.perIdentityPerDayUsd).toBeCloseTo(perHour * 24, 12);
    expect(provider.totalPerDayUsd).toBeCloseTo(perHour * 24 * 1000, 9);
    const notes = run.summary.notes.join('\n');
    expect(notes).toContain('cost: attack: 18 requests sent by 3 identities (botnet) over 0.');
    expect(notes).toContain('12 (66.7%) reached the provider (provider counters)');
    expect(notes).toContain('at the rate limit, which held (4 per 60 s)');
    expect(notes).toContain('projected for 1000 identities');
  });

  it('projects from the observed rate when the limit leaks, and fails a budget it passes', async () => {
    const { run, counters, provider } = await runBotnet(['no-rate-limit'], {
      cost: { model: 'gpt-4o-mini', identities: 1000, budget: { perIdentityPerDay: 0.5 } },
    });
    expect(counters.calls).toBe(18);
    expect(provider.calls).toBe(18);
    expect(provider.basis).toContain('the rate limit leaked, so nothing caps it');
    const perHour = (18 / 3 / provider.attackSpanS) * 3_600 * (provider.runUsd / 18);
    expect(provider.perIdentityPerHourUsd).toBeCloseTo(perHour, 12);

    const check = run.verification('cost exposure');
    expect(check.ok).toBe(false);
    expect(evidenceOf(check)).toMatch(
      /budget per identity per day \$0\.50: projected \$[\d.]+, EXCEEDED/,
    );
  });

  it('marks the figures as an estimate when neither counters nor usage blocks are there', async () => {
    tiny = await startTinyLimiter({ limit: 5, windowMs: 60_000 });
    const run = await verifiedRun(
      {
        name: 'estimate',
        rateLimit: { key: 'ip', limit: 5, window: '60s', abuser: 'ask' },
        cost: { model: 'claude-haiku-4-5', maxOutputTokens: 100 },
        flows: [
          {
            name: 'ask',
            load: { executor: 'constant-arrival-rate', rate: 20, duration: '400ms' },
            identities: { sourceAddresses: ['127.0.0.70'] },
            expectedStatuses: [200, 429],
            request: ASK,
          },
        ],
      },
      { url: tiny.url },
    );
    const cost = run.extensions.find((e) => e instanceof CostExposure) as CostExposure;
    const figures = cost.figures as CostFigures;
    expect(figures.source).toBe('estimate');
    expect(figures.calls).toBe(5);
    // 35 characters of message at 4 a token, plus 4 for the message: 13 tokens a request.
    expect(figures.inputTokens).toBe(5 * 13);
    expect(figures.outputTokens).toBe(5 * 100);
    const haiku = priceRowFor('claude-haiku-4-5');
    expect(figures.runUsd).toBeCloseTo(
      (65 * (haiku?.inputUsdPerMTok ?? 0) + 500 * (haiku?.outputUsdPerMTok ?? 0)) / 1e6,
      12,
    );
    expect(run.summary.notes.join('\n')).toContain(
      'ESTIMATE (no provider counters, no usage blocks)',
    );
  });

  it('renders the plan: requests to be sent and the worst case if all reach the provider', () => {
    const scenario = validateScenario({
      name: 'plan',
      cost: { model: 'gpt-4o-mini', maxOutputTokens: 256 },
      flows: [
        {
          name: 'abuser',
          load: { executor: 'constant-arrival-rate', rate: 10, duration: '5s' },
          request: { method: 'POST', path: '/api/chat', json: { message: 'x'.repeat(40) } },
        },
        {
          name: 'provider-direct',
          load: { executor: 'burst', count: 4 },
          request: () => ({
            method: 'POST',
            path: '/v1/chat/completions',
            json: {
              model: 'gpt-4o-mini',
              max_tokens: 64,
              messages: [{ role: 'user', content: 'y'.repeat(20) }],
            },
          }),
        },
        {
          name: 'users',
          load: { executor: 'constant-vus', vus: 2, duration: '5s' },
          request: { method: 'GET', path: '/health' },
        },
      ],
    });
    // abuser: 50 × (14 in + 256 out) = 50 × $0.0001557; direct: 4 × (9 in + 64 out).
    expect(renderCostPlan(scenario)).toBe(
      [
        'cost plan: gpt-4o-mini at $0.15 in / $0.60 out per 1M tokens (price table: https://developers.openai.com/api/docs/pricing, recorded 2026-12-03; prices change)',
        '  abuser              50 requests × (≈14 in + ≤ 256 out tokens)  worst case $0.00778',
        '  provider-direct      4 requests × (≈9 in + ≤ 64 out tokens)  worst case $0.000159',
        '  users              closed model × (≈0 in + ≤ 256 out tokens)  worst case unbounded',
        '  total               54 requests; worst case if every request reached the provider: $0.00794 plus the closed-model flows (users)',
      ].join('\n'),
    );
    expect(
      renderCostPlan(
        validateScenario({ ...scenario, cost: undefined, rateLimit: undefined } as never),
      ),
    ).toBeUndefined();
  });

  it('refuses a model it has no price for, naming the field and the models it knows', () => {
    const scenario = validateScenario({
      name: 'unpriced',
      cost: { model: 'llama-9000' },
      flows: [{ name: 'a', load: { executor: 'burst', count: 1 }, request: { path: '/' } }],
    });
    expect(() => renderCostPlan(scenario)).toThrow(/cost\.model: no price for "llama-9000"/);
  });
});
