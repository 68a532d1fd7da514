import type { Faker } from '@faker-js/faker';
import type { BuyerPersona } from './buyer-persona.ts';
import { createPersona, messageSlots } from './buyer-persona.ts';
import type { BuyerIntent } from './buyer-phrases.ts';
import {
  FOLLOW_UPS,
  FULL_ASKS,
  GENERAL_CONTEXT,
  INTENT_CONTEXT,
  INTRODUCTIONS,
  SHORT_ASKS,
  SIGN_OFFS,
} from './buyer-phrases.ts';
import type { Sentence, Slots } from './service-catalog.ts';

/** How long a buyer's message is. */
export type MessageLength = 'short' | 'medium' | 'long';

/** The word count of each length, inclusive. */
export const MESSAGE_LENGTH_WORDS: Record<MessageLength, { min: number; max: number }> = {
  short: { min: 3, max: 15 },
  medium: { min: 16, max: 45 },
  long: { min: 46, max: 120 },
};

const LENGTHS: readonly MessageLength[] = ['short', 'medium', 'long'];

/** Relative weights of the lengths; they need not sum to 1. */
export type LengthWeights = Record<MessageLength, number>;

/** Most chat widget messages are short; a few buyers write a paragraph. */
export const DEFAULT_LENGTH_WEIGHTS: LengthWeights = { short: 0.45, medium: 0.4, long: 0.15 };

/** Which kinds of personal data to plant in a message. */
export interface PiiKinds {
  email: boolean;
  phone: boolean;
}

/** One buyer message and what went into it. */
export interface BuyerMessage {
  text: string;
  intent: BuyerIntent;
  length: MessageLength;
  /** The personal data written into `text`, verbatim, for later log checks. */
  planted: readonly string[];
}

export interface BuyerMessageOptions {
  intent?: BuyerIntent;
  /** A fixed length; otherwise one is drawn by `lengths`. */
  length?: MessageLength;
  lengths?: Partial<LengthWeights>;
  /** Plant the buyer's email and phone number (`true`), or only the kinds named. */
  plantPii?: boolean | Partial<PiiKinds>;
  /** The day dates are proposed from. Default: 2026-03-02, so a seed gives the same text. */
  referenceDate?: Date;
}

/** The day a buyer's dates count from when none is given: fixed, so a seed is reproducible. */
export const DEFAULT_REFERENCE_DATE = new Date(Date.UTC(2026, 2, 2, 9));

const INTENT_WEIGHTS = [
  { value: 'pricing', weight: 35 },
  { value: 'service-question', weight: 30 },
  { value: 'availability', weight: 25 },
  { value: 'booking', weight: 10 },
] as const satisfies ReadonlyArray<{ value: BuyerIntent; weight: number }>;

/**
 * One opening message from a new buyer, for single-turn flows: a persona and a message drawn
 * from `faker`, which the caller seeds (the same seed gives the same message).
 */
export function buyerMessage(faker: Faker, options: BuyerMessageOptions = {}): BuyerMessage {
  const persona = createPersona(faker);
  const intent = options.intent ?? faker.helpers.weightedArrayElement(INTENT_WEIGHTS);
  const length = options.length ?? drawLength(faker, resolveWeights(options.lengths));
  const slots = messageSlots(faker, persona, options.referenceDate ?? DEFAULT_REFERENCE_DATE);
  const pii = resolvePii(options.plantPii);

  return composeMessage(faker, { persona, slots, intent, length, opening: true, pii });
}

export interface ComposeInput {
  persona: BuyerPersona;
  slots: Slots;
  intent: BuyerIntent;
  length: MessageLength;
  /** The first message of a conversation introduces the buyer; later ones follow up. */
  opening: boolean;
  /** The kinds of personal data to plant, if any. */
  pii: PiiKinds | undefined;
}

/**
 * Writes one message to a word budget:
 * 1. choose a target word count within the length's bounds;
 * 2. the question (and the contact sentence, when PII is planted) is required: pick a
 *    phrasing that fits the length's maximum together with it;
 * 3. a short message is the question alone; a longer one adds an introduction or a follow-up
 *    opener, then context sentences in random order while they fit, until the target is met
 *    (the buyer's situation before the question, what goes with the question after it);
 * 4. a sign-off closes it when there is room.
 */
export function composeMessage(faker: Faker, input: ComposeInput): BuyerMessage {
  const { persona, slots, intent, length, opening, pii } = input;
  const bounds = MESSAGE_LENGTH_WORDS[length];
  const short = length === 'short';
  const contact = pii === undefined ? undefined : contactSentence(faker, persona, pii, short);
  const contactWords = contact === undefined ? 0 : countWords(contact);

  const asks = short ? askPool(SHORT_ASKS, persona, intent) : askPool(FULL_ASKS, persona, intent);
  const ask = pickFitting(faker, asks, slots, bounds.max - contactWords);
  let words = countWords(ask) + contactWords;

  const head: string[] = [];
  const context: string[] = [];
  const follow: string[] = [];
  const tail: string[] = contact === undefined ? [] : [contact];
  if (!short) {
    const target = faker.number.int(bounds);
    const opener = opening
      ? faker.helpers.arrayElement(INTRODUCTIONS)(slots)
      : faker.helpers.arrayElement(FOLLOW_UPS);
    words += take(head, opener, words, bounds.max);

    // The buyer's situation comes before the question; what goes with the question after it.
    const pool = faker.helpers.shuffle([
      ...INTENT_CONTEXT[intent].map((sentence) => ({ sentence, after: true })),
      ...persona.business.details.map((sentence) => ({ sentence, after: false })),
      ...GENERAL_CONTEXT.map((sentence) => ({ sentence, after: false })),
    ]);
    for (const { sentence, after } of pool) {
      if (words >= target) break;
      words += take(after ? follow : context, sentence(slots), words, bounds.max);
    }
    if (words < bounds.max && faker.datatype.boolean(0.5)) {
      words += take(tail, faker.helpers.arrayElement(SIGN_OFFS), words, bounds.max);
    }
  }

  return {
    text: [...head, ...context, ask, ...follow, ...tail].join(' '),
    intent,
    length,
    planted: contact === undefined ? [] : plantedValues(persona, pii as PiiKinds),
  };
}

/** Draws a length by weight. */
export function drawLength(faker: Faker, weights: LengthWeights): MessageLength {
  // faker refuses a weight of 0, which here means "never": leave those lengths out.
  const choices = LENGTHS.filter((length) => weights[length] > 0).map((length) => ({
    value: length,
    weight: weights[length],
  }));
  return faker.helpers.weightedArrayElement(choices);
}

/** Fills absent weights with 0 when some are given, or takes the defaults when none are. */
export function resolveWeights(lengths: Partial<LengthWeights> | undefined): LengthWeights {
  if (lengths === undefined) return DEFAULT_LENGTH_WEIGHTS;
  return { short: lengths.short ?? 0, medium: lengths.medium ?? 0, long: lengths.long ?? 0 };
}

/** The PII kinds asked for, or `undefined` for none. */
export function resolvePii(
  plantPii: boolean | Partial<PiiKinds> | undefined,
): PiiKinds | undefined {
  if (plantPii === undefined || plantPii === false) return undefined;
  if (plantPii === true) return { email: true, phone: true };
  const kinds = { email: plantPii.email === true, phone: plantPii.phone === true };
  return kinds.email || kinds.phone ? kinds : undefined;
}

export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 0x20;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

function askPool(
  pools: Record<BuyerIntent, readonly Sentence[]>,
  persona: BuyerPersona,
  intent: BuyerIntent,
): readonly Sentence[] {
  // A question about the service is as often about this business in particular.
  return intent === 'service-question'
    ? [...pools[intent], ...persona.business.questions]
    : pools[intent];
}

/** A random phrasing among those that fit in `maxWords`; the shortest when none does. */
function pickFitting(
  faker: Faker,
  sentences: readonly Sentence[],
  slots: Slots,
  maxWords: number,
): string {
  const texts = sentences.map((sentence) => sentence(slots));
  const fitting = texts.filter((text) => countWords(text) <= maxWords);
  if (fitting.length > 0) return faker.helpers.arrayElement(fitting);
  return texts.reduce((a, b) => (countWords(b) < countWords(a) ? b : a));
}

/** Appends `sentence` when it fits in the budget; answers the words it added. */
function take(parts: string[], sentence: string, words: number, maxWords: number): number {
  const added = countWords(sentence);
  if (words + added > maxWords) return 0;
  parts.push(sentence);
  return added;
}

function contactSentence(
  faker: Faker,
  persona: BuyerPersona,
  pii: PiiKinds,
  short: boolean,
): string {
  const { email, phone } = persona;
  if (pii.email && pii.phone) {
    return short
      ? `Email ${email} or call ${phone}.`
      : faker.helpers.arrayElement([
          `You can reach me at ${email} or on ${phone} if that is easier.`,
          `My email is ${email} and my cell is ${phone}.`,
        ]);
  }
  if (pii.email) {
    return short
      ? `Email me at ${email}.`
      : `My email is ${email}, if you could send the details there.`;
  }
  return short ? `Call me on ${phone}.` : `My direct line is ${phone}, feel free to call.`;
}

function plantedValues(persona: BuyerPersona, pii: PiiKinds): string[] {
  const values: string[] = [];
  if (pii.email) values.push(persona.email);
  if (pii.phone) values.push(persona.phone);
  return values;
}
