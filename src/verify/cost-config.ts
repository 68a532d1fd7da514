import { z } from 'zod';
import { LaunchproofError } from '../errors.ts';
import { DEFAULT_PRICED_MODEL, PRICE_TABLE, type Prices, priceRowFor } from './prices.ts';

/**
 * `cost` of a scenario: which prices to apply, which flows are the attack, and how far to
 * project. Present, it turns on the cost-exposure verifier and the pre-run plan.
 */
export const costSchema = z
  .object({
    /** A model of the price table (`gpt-4o-mini`, `claude-sonnet-4-5`, …). */
    model: z.string().min(1).optional(),
    /** Prices of your own, USD per million tokens; they win over the table's. */
    prices: z
      .object({
        input: z.number().nonnegative(),
        output: z.number().nonnegative(),
      })
      .strict()
      .optional(),
    /** The attack flows; by default the rate-limit declarations' abusers, else every flow. */
    flows: z.array(z.string().min(1)).min(1).optional(),
    /** Project the spend for this many abusive identities (a botnet's addresses, say). */
    identities: z.number().int().positive().optional(),
    /**
     * Input tokens per request, when the target adds to what it is sent (a system prompt, a
     * retrieved context); by default estimated from the request body at 4 characters a token.
     */
    inputTokensPerRequest: z.number().int().positive().optional(),
    /** The most output tokens one answer may cost (the target's `max_tokens`). */
    maxOutputTokens: z.number().int().positive().default(256),
    /** Fail the run when a projection passes a budget (USD). */
    budget: z
      .object({
        perIdentityPerHour: z.number().positive().optional(),
        perIdentityPerDay: z.number().positive().optional(),
        totalPerDay: z.number().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type CostConfig = z.output<typeof costSchema>;
export type CostInput = z.input<typeof costSchema>;

/** The prices a scenario's `cost` selects; an unknown model with no override is an error. */
export function resolvePrices(config: CostConfig, fallbackModel?: string): Prices {
  const model = config.model ?? fallbackModel ?? DEFAULT_PRICED_MODEL;
  if (config.prices !== undefined) {
    return {
      model,
      inputUsdPerMTok: config.prices.input,
      outputUsdPerMTok: config.prices.output,
      origin: "the scenario's own prices",
    };
  }
  const row = priceRowFor(model);
  if (row === undefined) {
    throw new LaunchproofError('LP_ERR_SCENARIO_INVALID', `cost.model: no price for "${model}"`, {
      hint: `use one of ${Object.keys(PRICE_TABLE).join(', ')}, or give cost.prices { input, output }`,
    });
  }
  return {
    model,
    inputUsdPerMTok: row.inputUsdPerMTok,
    outputUsdPerMTok: row.outputUsdPerMTok,
    origin: `price table: ${row.source}, recorded ${row.recordedOn}; prices change`,
  };
}
