/**
 * USD per million tokens for common OpenAI and Anthropic models, standard (not batch, not
 * cached) rates, each row with the page it comes from and the day it was recorded.
 *
 * PRICES CHANGE. These are a dated snapshot for estimates, not a bill: check each row against
 * its source before relying on it, and override it in a scenario (`cost.prices`) when yours
 * differ (negotiated rates, batch, cached input, another provider). The rows were recorded on
 * 2026-12-03 from copies of the vendors' pricing pages (and agree with third-party tables of
 * the same period).
 */
export interface PriceRow {
  provider: 'openai' | 'anthropic';
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
  source: string;
  /** The day the row was recorded from its source (YYYY-MM-DD). */
  recordedOn: string;
}

const OPENAI = 'https://developers.openai.com/api/docs/pricing';
const ANTHROPIC = 'https://platform.claude.com/docs/en/about-claude/pricing';
const RECORDED = '2026-12-03';

const openai = (input: number, output: number): PriceRow => ({
  provider: 'openai',
  inputUsdPerMTok: input,
  outputUsdPerMTok: output,
  source: OPENAI,
  recordedOn: RECORDED,
});

const anthropic = (input: number, output: number): PriceRow => ({
  provider: 'anthropic',
  inputUsdPerMTok: input,
  outputUsdPerMTok: output,
  source: ANTHROPIC,
  recordedOn: RECORDED,
});

/** The table, keyed by the model id a request names. */
export const PRICE_TABLE = {
  'gpt-4o-mini': openai(0.15, 0.6),
  'gpt-4o': openai(2.5, 10),
  'gpt-4.1-nano': openai(0.1, 0.4),
  'gpt-4.1-mini': openai(0.4, 1.6),
  'gpt-4.1': openai(2, 8),
  'gpt-5-nano': openai(0.05, 0.4),
  'gpt-5-mini': openai(0.25, 2),
  'gpt-5': openai(1.25, 10),
  o3: openai(2, 8),
  'o4-mini': openai(1.1, 4.4),
  'claude-haiku-3': anthropic(0.25, 1.25),
  'claude-haiku-3-5': anthropic(0.8, 4),
  'claude-haiku-4-5': anthropic(1, 5),
  'claude-sonnet-4': anthropic(3, 15),
  'claude-sonnet-4-5': anthropic(3, 15),
  'claude-opus-4-1': anthropic(15, 75),
  'claude-opus-4-5': anthropic(5, 25),
} as const satisfies Record<string, PriceRow>;

export type PricedModel = keyof typeof PRICE_TABLE;

/** The model priced when a scenario names none: the demo's own default. */
export const DEFAULT_PRICED_MODEL: PricedModel = 'gpt-4o-mini';

/** Prices a run uses, and where they came from, for the evidence. */
export interface Prices {
  model: string;
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
  /** `table (source, recorded YYYY-MM-DD)` or `the scenario's override`. */
  origin: string;
}

/**
 * The row for `model`: an exact id, or a dated snapshot id (`gpt-4o-mini-2024-07-18`,
 * `claude-sonnet-4-5-20250929`) by its longest listed prefix. Undefined when unlisted.
 */
export function priceRowFor(model: string): PriceRow | undefined {
  const exact = (PRICE_TABLE as Record<string, PriceRow>)[model];
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const id of Object.keys(PRICE_TABLE)) {
    if (model.startsWith(`${id}-`) && (best === undefined || id.length > best.length)) best = id;
  }
  return best === undefined ? undefined : (PRICE_TABLE as Record<string, PriceRow>)[best];
}

/** USD for a token count at a price per million. */
export function usdFor(tokens: number, usdPerMTok: number): number {
  return (tokens * usdPerMTok) / 1_000_000;
}
