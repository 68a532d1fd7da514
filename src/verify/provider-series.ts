import type { ExtensionOutput, RunExtension, RunStart } from '../engine/run-extension.ts';
import type { ProviderCounters } from '../provider/index.ts';
import type { Scenario } from '../scenario/schema.ts';
import { type CostConfig, costSchema, resolvePrices } from './cost-config.ts';
import type { VerifyEnvironment } from './index.ts';
import { type Prices, usdFor } from './prices.ts';

/** One second of the provider's counters: calls and the spend of their tokens. */
export interface ProviderSecond {
  t: number;
  providerCalls: number;
  providerCostUsd: number;
}

/**
 * Reads the mock provider's counters once a second while the run goes on, so the report can
 * chart provider calls and spend over time. Each second's figures are the counters' growth in
 * it; a read that fails leaves that second out (never a guess). Spend uses the scenario's
 * `cost` prices, or the default model's.
 */
export class ProviderSeries implements RunExtension {
  readonly name = 'provider series';
  readonly #source: { counters(): Promise<ProviderCounters> };
  readonly #prices: Prices;
  readonly #seconds: ProviderSecond[] = [];
  #timer: NodeJS.Timeout | undefined;
  #last: ProviderCounters | undefined;
  #reading: Promise<void> | undefined;
  /** Seconds closed so far: the next read closes second `#closed`. */
  #closed = 0;

  constructor(source: { counters(): Promise<ProviderCounters> }, cost: CostConfig) {
    this.#source = source;
    this.#prices = resolvePrices(cost);
  }

  async start(run: RunStart): Promise<void> {
    this.#last = await this.#source.counters().catch(() => undefined);
    const tick = () => {
      this.#reading = this.#read(this.#closed++);
      const nextAtUs = run.t0Us + (this.#closed + 1) * 1_000_000;
      this.#timer = setTimeout(tick, Math.max(0, (nextAtUs - run.nowUs()) / 1_000));
    };
    // The first read closes second 0, one second after t0 (read t0 when it is fixed).
    this.#timer = setTimeout(tick, 1_000);
  }

  async finish(): Promise<ExtensionOutput> {
    clearTimeout(this.#timer);
    await this.#reading;
    // The last, partial second: what came after the last full one.
    await this.#read(this.#closed++);
    return { series: this.#seconds };
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }

  async #read(t: number): Promise<void> {
    const now = await this.#source.counters().catch(() => undefined);
    const last = this.#last;
    if (now !== undefined) this.#last = now;
    if (now === undefined || last === undefined || now.calls < last.calls) return;
    const prompt = Math.max(0, now.promptTokens - last.promptTokens);
    const completion = Math.max(0, now.completionTokens - last.completionTokens);
    this.#seconds.push({
      t,
      providerCalls: now.calls - last.calls,
      providerCostUsd:
        usdFor(prompt, this.#prices.inputUsdPerMTok) +
        usdFor(completion, this.#prices.outputUsdPerMTok),
    });
  }
}

/** A provider series whenever a mock provider is in the path. */
export function providerSeriesExtensions(scenario: Scenario, env: VerifyEnvironment) {
  if (env.provider === undefined) return [];
  const cost = scenario.cost ?? costSchema.parse({});
  return [new ProviderSeries(env.provider, cost)];
}
