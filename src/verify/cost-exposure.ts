import type { ResponseRecord } from '../engine/flow-runtime.ts';
import type { RunEnd, RunExtension, RunStart } from '../engine/run-extension.ts';
import { LaunchproofError } from '../errors.ts';
import type { ProviderControl, ProviderCounters } from '../provider/index.ts';
import type { Verification } from '../report/summary-schema.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { CostConfig } from './cost-config.ts';
import { type CostPlan, formatPrice, formatUsd, planCost } from './cost-plan.ts';
import { type Prices, usdFor } from './prices.ts';
import { rateLimitDeclarations } from './rate-limit-config.ts';
import type { LimitOutcome } from './rate-limit-verifier.ts';

/** Where the run's token counts came from, best first. */
export type CostSource = 'provider counters' | 'usage blocks in responses' | 'estimate';

/** What one run's attack cost, and what it would cost kept up. */
export interface CostFigures {
  source: CostSource;
  attackFlows: string[];
  attackIdentities: number;
  attackSent: number;
  /** Attack requests that reached the provider (attributed, when other flows also called it). */
  attackCalls: number;
  /** Whole-run provider calls and tokens. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  runUsd: number;
  attackUsd: number;
  attackSpanS: number;
  perIdentityPerHourUsd: number;
  perIdentityPerDayUsd: number;
  projectedIdentities: number;
  totalPerHourUsd: number;
  totalPerDayUsd: number;
  /** How the hourly rate was projected, in words. */
  basis: string;
}

interface FlowTally {
  sent: number;
  passed: number;
  firstStartUs: number;
  lastEndUs: number;
  /** Responses whose usage block gave output tokens, and the tokens. */
  usageResponses: number;
  usageInput: number;
  usageInputMissing: number;
  usageOutput: number;
  /** Output tokens of passed responses without a usage block (estimated from the text). */
  estimatedOutput: number;
  /** Passed responses that were no chat stream: their output is estimated at max tokens. */
  unread: number;
}

/**
 * The cost-exposure verifier: what the attack flows cost while the run lasted, and what the
 * same abuse would cost per hour and per day, per abusive identity and for N of them.
 * 1. Token counts come from the mock provider's counters when it is in the path (the change
 *    over the run), else from the usage blocks in responses, else from an estimate that the
 *    evidence marks as one: input from the request size, output from the answers' text (a
 *    response that is no chat stream at `cost.maxOutputTokens`).
 * 2. When other flows (visitors) also reached the provider, the attack's share of its calls
 *    and tokens is attributed by the share of passed responses.
 * 3. The hourly rate per identity is its rate limit when the limit held (the fewer of its
 *    send rate and `limit / window`), else the pass rate observed over the attack's span.
 * `provider_calls` and `provider_cost_usd` (whole run) go to the metric store for thresholds;
 * with a `cost.budget`, a projection past it fails the run.
 */
export class CostExposure implements RunExtension {
  readonly name = 'cost';
  readonly #scenario: Scenario;
  readonly #config: CostConfig;
  readonly #provider: ProviderControl | undefined;
  readonly #limits: () => readonly LimitOutcome[];
  readonly #plan: CostPlan;
  readonly #attack: Set<string>;
  readonly #tallies = new Map<string, FlowTally>();
  readonly #recordMetrics: boolean;
  #baseline: ProviderCounters | undefined;
  #baselineError: string | undefined;
  /** The figures of the last finished run, for tests and reports. */
  figures: CostFigures | undefined;

  constructor(
    scenario: Scenario,
    provider: ProviderControl | undefined,
    limits: () => readonly LimitOutcome[],
    fallbackModel?: string,
    /** False for a second opinion that must not add to the run's metrics. */
    recordMetrics = true,
  ) {
    this.#recordMetrics = recordMetrics;
    this.#scenario = scenario;
    this.#config = scenario.cost as CostConfig;
    this.#provider = provider;
    this.#limits = limits;
    this.#plan = planCost(scenario, fallbackModel) as CostPlan;
    this.#attack = new Set(attackFlows(scenario));
    for (const flow of scenario.flows) this.#tallies.set(flow.name, emptyTally());
  }

  get prices(): Prices {
    return this.#plan.prices;
  }

  async start(_run: RunStart): Promise<void> {
    if (this.#provider === undefined) return;
    try {
      this.#baseline = await this.#provider.counters();
    } catch (error) {
      this.#baselineError = error instanceof Error ? error.message : String(error);
    }
  }

  observe(record: ResponseRecord): void {
    const tally = this.#tallies.get(record.flow);
    if (tally === undefined) return;
    tally.sent++;
    tally.firstStartUs = Math.min(tally.firstStartUs, record.startUs);
    tally.lastEndUs = Math.max(tally.lastEndUs, record.endUs);
    if (record.status < 200 || record.status >= 400) return;
    tally.passed++;
    const usage = record.usage;
    if (usage === undefined) {
      tally.unread++;
      return;
    }
    if (usage.estimated) {
      tally.estimatedOutput += usage.outputTokens;
      return;
    }
    tally.usageResponses++;
    tally.usageOutput += usage.outputTokens;
    if (usage.inputTokens === undefined) tally.usageInputMissing++;
    else tally.usageInput += usage.inputTokens;
  }

  async finish(run: RunEnd): Promise<{ verifications: Verification[]; notes: string[] }> {
    const notes: string[] = [];
    let counters: ProviderCounters | undefined;
    if (this.#provider !== undefined && this.#baseline !== undefined) {
      try {
        counters = await this.#provider.counters();
      } catch (error) {
        notes.push(
          `cost: provider counters unreadable (${messageOf(error)}); using the responses instead`,
        );
      }
    } else if (this.#baselineError !== undefined) {
      notes.push(
        `cost: provider counters unreadable (${this.#baselineError}); using the responses instead`,
      );
    }

    const figures = this.#compute(counters);
    this.figures = figures;
    if (this.#recordMetrics) {
      run.store.addCounter('provider_calls', {}, figures.calls);
      run.store.addCounter('provider_cost_usd', {}, figures.runUsd);
    }

    const evidence = this.#evidence(figures);
    const budget = this.#config.budget;
    if (budget === undefined) {
      return { verifications: [], notes: [...notes, ...evidence.map((line) => `cost: ${line}`)] };
    }
    const over: string[] = [];
    const check = (label: string, value: number, limit: number | undefined) => {
      if (limit === undefined) return;
      const within = value <= limit;
      evidence.push(
        `budget ${label} ${formatUsd(limit)}: projected ${formatUsd(value)}, ${within ? 'within' : 'EXCEEDED'}`,
      );
      if (!within) over.push(label);
    };
    check('per identity per hour', figures.perIdentityPerHourUsd, budget.perIdentityPerHour);
    check('per identity per day', figures.perIdentityPerDayUsd, budget.perIdentityPerDay);
    check(
      `for ${figures.projectedIdentities} identities per day`,
      figures.totalPerDayUsd,
      budget.totalPerDay,
    );
    return { verifications: [{ name: 'cost exposure', ok: over.length === 0, evidence }], notes };
  }

  #compute(counters: ProviderCounters | undefined): CostFigures {
    const prices = this.#plan.prices;
    const all = [...this.#tallies.values()];
    const attack = [...this.#tallies].filter(([flow]) => this.#attack.has(flow)).map(([, t]) => t);
    const sum = (list: FlowTally[], field: keyof FlowTally) =>
      list.reduce((n, t) => n + t[field], 0);

    let source: CostSource;
    let calls: number;
    let inputTokens: number;
    let outputTokens: number;
    const usageResponses = sum(all, 'usageResponses');
    if (counters !== undefined && this.#baseline !== undefined) {
      source = 'provider counters';
      calls = counters.calls - this.#baseline.calls;
      inputTokens = counters.promptTokens - this.#baseline.promptTokens;
      outputTokens = counters.completionTokens - this.#baseline.completionTokens;
    } else if (usageResponses > 0) {
      source = 'usage blocks in responses';
      calls = usageResponses;
      inputTokens =
        sum(all, 'usageInput') + sum(all, 'usageInputMissing') * this.#inputPerRequest();
      outputTokens = sum(all, 'usageOutput');
    } else {
      source = 'estimate';
      calls = sum(all, 'passed');
      inputTokens = calls * this.#inputPerRequest();
      outputTokens =
        sum(all, 'estimatedOutput') + sum(all, 'unread') * this.#config.maxOutputTokens;
    }
    const runUsd =
      usdFor(inputTokens, prices.inputUsdPerMTok) + usdFor(outputTokens, prices.outputUsdPerMTok);

    // 2. The attack's share of the provider's work, by its share of passed responses.
    const passedAll = sum(all, 'passed');
    const passedAttack = sum(attack, 'passed');
    const share = attack.length === all.length ? 1 : passedAll === 0 ? 0 : passedAttack / passedAll;
    const attackCalls = calls * share;
    const attackUsd = runUsd * share;

    // 3. The hourly rate per identity.
    const attackSent = sum(attack, 'sent');
    const attackIdentities = this.#scenario.flows
      .filter((flow) => this.#attack.has(flow.name))
      .reduce((n, flow) => n + flow.identities.count, 0);
    const startUs = Math.min(...attack.map((t) => t.firstStartUs));
    const endUs = Math.max(...attack.map((t) => t.lastEndUs));
    const attackSpanS = attackSent > 0 ? Math.max(0.001, (endUs - startUs) / 1_000_000) : 0;
    const usdPerCall = attackCalls > 0 ? attackUsd / attackCalls : 0;
    const observedPerSec = attackSpanS > 0 ? attackCalls / attackIdentities / attackSpanS : 0;
    const sendPerSec = attackSpanS > 0 ? attackSent / attackIdentities / attackSpanS : 0;

    let passesPerSec = observedPerSec;
    let basis = `as observed over ${attackSpanS.toFixed(1)} s`;
    const relevant = this.#limits().filter((outcome) => {
      const d = outcome.resolved.declaration;
      return [d.abuser, ...d.probes].some((flow) => flow !== undefined && this.#attack.has(flow));
    });
    if (relevant.length === 0) {
      basis +=
        '; no rate limit declared for these flows: a limit whose window outlasts the run is overstated';
    } else if (relevant.some((outcome) => !outcome.held)) {
      basis += '; the rate limit leaked, so nothing caps it';
    } else {
      const tightest = relevant.reduce((a, b) =>
        a.resolved.limit / a.resolved.windowMs <= b.resolved.limit / b.resolved.windowMs ? a : b,
      ).resolved;
      const capPerSec = tightest.limit / (tightest.windowMs / 1_000);
      passesPerSec = Math.min(sendPerSec, capPerSec);
      basis =
        `at the rate limit, which held (${tightest.limit} per ${tightest.windowMs / 1_000} s), ` +
        `or the send rate (${sendPerSec.toFixed(2)}/s) if lower`;
    }

    const perIdentityPerHourUsd = passesPerSec * 3_600 * usdPerCall;
    const projectedIdentities = this.#config.identities ?? attackIdentities;
    return {
      source,
      attackFlows: [...this.#attack],
      attackIdentities,
      attackSent,
      attackCalls,
      calls,
      inputTokens,
      outputTokens,
      runUsd,
      attackUsd,
      attackSpanS,
      perIdentityPerHourUsd,
      perIdentityPerDayUsd: perIdentityPerHourUsd * 24,
      projectedIdentities,
      totalPerHourUsd: perIdentityPerHourUsd * projectedIdentities,
      totalPerDayUsd: perIdentityPerHourUsd * 24 * projectedIdentities,
      basis,
    };
  }

  #inputPerRequest(): number {
    const attack = this.#plan.flows.filter((f) => this.#attack.has(f.flow));
    const known = (attack.length > 0 ? attack : this.#plan.flows).map(
      (f) => f.inputTokensPerRequest,
    );
    return known.length === 0 ? 0 : Math.round(known.reduce((a, b) => a + b, 0) / known.length);
  }

  #evidence(f: CostFigures): string[] {
    const { prices } = this.#plan;
    const share = f.attackSent === 0 ? 0 : (f.attackCalls / f.attackSent) * 100;
    const estimate =
      f.source === 'estimate' ? 'ESTIMATE (no provider counters, no usage blocks): ' : '';
    const attributed =
      f.attackCalls === f.calls ? '' : `; attributed from ${f.calls} calls of the whole run`;
    return [
      `attack: ${f.attackSent} requests sent by ${plural(f.attackIdentities, 'identity', 'identities')} ` +
        `(${f.attackFlows.join(', ')}) over ` +
        `${f.attackSpanS.toFixed(1)} s; ${round(f.attackCalls)} (${share.toFixed(1)}%) reached the provider (${f.source}${attributed})`,
      `${estimate}spend during the run ${formatUsd(f.runUsd)} (attack ${formatUsd(f.attackUsd)}): ` +
        `${f.inputTokens} input and ${f.outputTokens} output tokens at ${prices.model} ` +
        `${formatPrice(prices.inputUsdPerMTok)} in / ${formatPrice(prices.outputUsdPerMTok)} out per 1M (${prices.origin})`,
      `${estimate}projected per abusive identity: ${formatUsd(f.perIdentityPerHourUsd)}/hour, ` +
        `${formatUsd(f.perIdentityPerDayUsd)}/day (${f.basis})`,
      `${estimate}projected for ${plural(f.projectedIdentities, 'identity', 'identities')}: ${formatUsd(f.totalPerHourUsd)}/hour, ` +
        `${formatUsd(f.totalPerDayUsd)}/day`,
    ];
  }
}

/**
 * The attack flows: `cost.flows`, else each rate-limit declaration's abuser (its probes when it
 * has none), else every flow.
 */
export function attackFlows(scenario: Scenario): string[] {
  const names = new Set(scenario.flows.map((flow) => flow.name));
  const declared = scenario.cost?.flows;
  if (declared !== undefined) {
    for (const [i, flow] of declared.entries()) {
      if (!names.has(flow)) {
        throw new LaunchproofError(
          'LP_ERR_SCENARIO_INVALID',
          `cost.flows.${i}: expected the name of one of the scenario's flows (${[...names].join(', ')}), received "${flow}"`,
        );
      }
    }
    return declared;
  }
  const abusers = rateLimitDeclarations(scenario.rateLimit).flatMap((d) =>
    d.abuser === undefined ? d.probes : [d.abuser],
  );
  return abusers.length > 0 ? [...new Set(abusers)] : [...names];
}

function emptyTally(): FlowTally {
  return {
    sent: 0,
    passed: 0,
    firstStartUs: Number.POSITIVE_INFINITY,
    lastEndUs: 0,
    usageResponses: 0,
    usageInput: 0,
    usageInputMissing: 0,
    usageOutput: 0,
    estimatedOutput: 0,
    unread: 0,
  };
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function round(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toFixed(1));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
