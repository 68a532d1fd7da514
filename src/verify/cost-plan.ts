import { base, en, Faker } from '@faker-js/faker';
import { createArrivalSchedule, isOpenLoad } from '../engine/arrival-schedule.ts';
import type { Flow, RequestContext, RequestSpecInput, Scenario } from '../scenario/schema.ts';
import { deriveSeed, SeededRandom } from '../util/random.ts';
import { type CostConfig, resolvePrices } from './cost-config.ts';
import { type Prices, usdFor } from './prices.ts';

/** Characters a token, the usual rule of thumb for English text. */
const CHARS_PER_TOKEN = 4;
/** Tokens a chat message costs beyond its text (role, separators), as OpenAI's cookbook counts. */
const MESSAGE_OVERHEAD_TOKENS = 4;

/** One flow's share of the plan. */
export interface FlowCostPlan {
  flow: string;
  /** Requests the schedule will send; undefined for closed-model flows (their users decide). */
  requests: number | undefined;
  inputTokensPerRequest: number;
  /** How the input size was found. */
  inputBasis: 'declared' | 'request body' | 'unknown';
  maxOutputTokens: number;
  /** Worst case: every request reaches the provider and is answered at `maxOutputTokens`. */
  worstCaseUsd: number | undefined;
}

export interface CostPlan {
  prices: Prices;
  flows: FlowCostPlan[];
  requests: number;
  worstCaseUsd: number;
  /** Closed-model flows, whose request counts depend on the target's speed. */
  unbounded: string[];
}

/**
 * The plan before a run: for each flow, the requests its schedule will send and what they
 * would cost if every one of them got past the target's limits to the provider, each asking
 * for the most output tokens it may (the request's `max_tokens`, else `cost.maxOutputTokens`).
 * Input sizes come from `cost.inputTokensPerRequest`, else from the mean of the first
 * requests' bodies at 4 characters a token. Undefined when the scenario has no `cost`.
 */
export function planCost(scenario: Scenario, fallbackModel?: string): CostPlan | undefined {
  const config = scenario.cost;
  if (config === undefined) return undefined;
  const prices = resolvePrices(config, fallbackModel);
  const flows = scenario.flows.map((flow) => planFlow(scenario, flow, config, prices));
  let requests = 0;
  let worstCaseUsd = 0;
  const unbounded: string[] = [];
  for (const flow of flows) {
    if (flow.requests === undefined) unbounded.push(flow.flow);
    requests += flow.requests ?? 0;
    worstCaseUsd += flow.worstCaseUsd ?? 0;
  }
  return { prices, flows, requests, worstCaseUsd, unbounded };
}

/**
 * The pre-run plan as text for the terminal: requests to be sent and the worst-case provider
 * spend if every request got through. Undefined when the scenario has no `cost`.
 */
export function renderCostPlan(scenario: Scenario): string | undefined {
  const plan = planCost(scenario);
  if (plan === undefined) return undefined;
  const { prices } = plan;
  const width = Math.max(5, ...plan.flows.map((f) => f.flow.length));
  const lines = [
    `cost plan: ${prices.model} at ${formatPrice(prices.inputUsdPerMTok)} in / ` +
      `${formatPrice(prices.outputUsdPerMTok)} out per 1M tokens (${prices.origin})`,
  ];
  for (const flow of plan.flows) {
    const count = flow.requests === undefined ? 'closed model' : `${flow.requests} requests`;
    const input =
      flow.inputBasis === 'unknown'
        ? '? in'
        : `${flow.inputBasis === 'declared' ? '' : '≈'}${flow.inputTokensPerRequest} in`;
    const worst = flow.worstCaseUsd === undefined ? 'unbounded' : formatUsd(flow.worstCaseUsd);
    lines.push(
      `  ${flow.flow.padEnd(width)}  ${count.padStart(14)} × (${input} + ≤ ${flow.maxOutputTokens} out tokens)  worst case ${worst}`,
    );
  }
  lines.push(
    `  ${'total'.padEnd(width)}  ${`${plan.requests} requests`.padStart(14)}; worst case if every request reached the provider: ${formatUsd(plan.worstCaseUsd)}` +
      (plan.unbounded.length > 0
        ? ` plus the closed-model flows (${plan.unbounded.join(', ')})`
        : ''),
  );
  return lines.join('\n');
}

function planFlow(
  scenario: Scenario,
  flow: Flow,
  config: CostConfig,
  prices: Prices,
): FlowCostPlan {
  const load = flow.load;
  const requests = isOpenLoad(load)
    ? createArrivalSchedule(load, deriveSeed(scenario.seed, flow.name)).plannedCount
    : undefined;
  const samples = sampleRequests(scenario, flow);
  const sample = samples[0];
  const declared = config.inputTokensPerRequest;
  const estimated =
    samples.length === 0
      ? undefined
      : Math.round(
          samples.reduce((sum, spec) => sum + estimateInputTokens(spec), 0) / samples.length,
        );
  const inputTokensPerRequest = declared ?? estimated ?? 0;
  const maxOutputTokens = requestMaxTokens(sample) ?? config.maxOutputTokens;
  const perRequestUsd =
    usdFor(inputTokensPerRequest, prices.inputUsdPerMTok) +
    usdFor(maxOutputTokens, prices.outputUsdPerMTok);
  return {
    flow: flow.name,
    requests,
    inputTokensPerRequest,
    inputBasis:
      declared !== undefined ? 'declared' : estimated !== undefined ? 'request body' : 'unknown',
    maxOutputTokens,
    worstCaseUsd: requests === undefined ? undefined : requests * perRequestUsd,
  };
}

/** Input tokens of one request, estimated from its body (see `planCost`). */
export function estimateInputTokens(spec: RequestSpecInput): number {
  if (spec.json !== undefined) {
    const messages = (spec.json as { messages?: unknown })?.messages;
    if (Array.isArray(messages)) {
      return messages.reduce<number>(
        (sum, message) =>
          sum + MESSAGE_OVERHEAD_TOKENS + Math.ceil(textOf(message).length / CHARS_PER_TOKEN),
        0,
      );
    }
    return Math.ceil(textOf(spec.json).length / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS;
  }
  if (typeof spec.body === 'string') return Math.ceil(spec.body.length / CHARS_PER_TOKEN);
  if (spec.body instanceof Uint8Array) return Math.ceil(spec.body.byteLength / CHARS_PER_TOKEN);
  return 0;
}

/** Requests a builder is sampled for, to average the sizes of varied messages. */
const SAMPLED_REQUESTS = 20;

/**
 * The first requests a flow would send: its one request, or a builder's first 20, each built
 * with a throwaway context seeded as the run seeds it. A builder that throws gives fewer.
 */
export function sampleRequests(scenario: Scenario, flow: Flow): RequestSpecInput[] {
  const build = flow.request;
  if (typeof build !== 'function') return [build];
  const faker = new Faker({ locale: [en, base] });
  const specs: RequestSpecInput[] = [];
  for (let iteration = 0; iteration < SAMPLED_REQUESTS; iteration++) {
    const seed = deriveSeed(scenario.seed, flow.name, iteration);
    faker.seed(seed);
    const random = new SeededRandom(deriveSeed(seed, 'random'));
    const ctx: RequestContext = {
      flow: flow.name,
      iteration,
      vu: 0,
      identity: { index: 0, sourceAddress: undefined, headers: {}, state: {} },
      faker,
      random: () => random.next(),
      session: {},
      scenarioSeed: scenario.seed,
    };
    try {
      specs.push(build(ctx));
    } catch {
      // A builder that needs a live context (a session from an earlier answer) cannot be sampled.
    }
  }
  return specs;
}

function requestMaxTokens(spec: RequestSpecInput | undefined): number | undefined {
  const json = spec?.json as { max_tokens?: unknown; max_completion_tokens?: unknown } | undefined;
  const value = json?.max_completion_tokens ?? json?.max_tokens;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The text a value carries: strings as they are, objects by their string leaves. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join(' ');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .filter(([key]) => key !== 'role' && key !== 'type')
      .map(([, v]) => textOf(v))
      .join(' ');
  }
  return '';
}

/** A price per million tokens: always with cents (`$0.15`, `$2.50`), more digits when needed. */
export function formatPrice(usd: number): string {
  return `$${usd.toFixed(Math.max(2, decimals(usd)))}`;
}

function decimals(value: number | string): number {
  const text = String(Number(value));
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * Dollars for the evidence: cents past a dollar; below, three significant digits, never fewer
 * than two decimals (`$0.50`, `$0.477`, `$0.00156`).
 */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1_000) return `$${Math.round(usd).toLocaleString('en-US')}`;
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  const text = String(Number(usd.toPrecision(3)));
  return `$${decimals(usd.toPrecision(3)) < 2 ? Number(text).toFixed(2) : text}`;
}
