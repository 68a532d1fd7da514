import { en, Faker } from '@faker-js/faker';
import { z } from 'zod';
import { LaunchproofError } from '../errors.ts';
import { formatIssues } from '../scenario/format-issues.ts';
import { placeholderReply } from './assistant-placeholder.ts';
import type { LengthWeights, MessageLength, PiiKinds } from './buyer-message.ts';
import {
  composeMessage,
  DEFAULT_REFERENCE_DATE,
  drawLength,
  resolvePii,
  resolveWeights,
} from './buyer-message.ts';
import { createPersona, messageSlots } from './buyer-persona.ts';
import type { BuyerIntent } from './buyer-phrases.ts';

const weight = z.number().min(0).max(1_000_000);

/** The options of a seeded conversation, as a scenario gives them. */
export const conversationOptionsSchema = z.strictObject({
  /** The same seed gives the same conversation, turn for turn. */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** User turns: a fixed count, or a range drawn per conversation (both ends included). */
  turns: z.union([
    z.number().int().min(1).max(100),
    z
      .strictObject({
        min: z.number().int().min(1).max(100),
        max: z.number().int().min(1).max(100),
      })
      .refine((range) => range.min <= range.max, {
        message: 'turns.min must not exceed turns.max',
      }),
  ]),
  /** Relative weights of short, medium and long messages; absent ones weigh 0. */
  lengths: z
    .strictObject({ short: weight, medium: weight, long: weight })
    .partial()
    .refine((w) => (w.short ?? 0) + (w.medium ?? 0) + (w.long ?? 0) > 0, {
      message: 'at least one length needs a weight above 0',
    })
    .optional(),
  /** Plant the buyer's email and phone number in one turn (`true`), or only the kinds named. */
  plantPii: z
    .union([z.boolean(), z.strictObject({ email: z.boolean(), phone: z.boolean() }).partial()])
    .optional(),
  /** The day proposed dates count from. Default 2026-03-02, fixed so seeds reproduce. */
  referenceDate: z.date().optional(),
});

export type ConversationOptions = z.input<typeof conversationOptionsSchema>;

/** One message of the history a chat widget sends. */
export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/**
 * A buyer's multi-turn conversation, replayed the way chat widgets do it: each request
 * carries every message so far, the assistant's replies included.
 */
export interface Conversation {
  /** User turns in this conversation. */
  readonly turns: number;
  /** User messages handed out so far. */
  readonly turn: number;
  /** True when every user turn has been handed out. */
  readonly done: boolean;
  /**
   * The next user message, appended to the history. If the previous turn's reply was never
   * recorded, a placeholder reply is recorded first, so roles keep alternating.
   * Throws LP_ERR_ENGINE when no turn is left.
   */
  nextUserMessage(): string;
  /**
   * Records the assistant's reply to the last user message: the streamed text when the
   * engine has it, or a placeholder of plausible length when `text` is absent or empty.
   * Throws LP_ERR_ENGINE when no user message awaits a reply.
   */
  recordAssistant(text?: string): void;
  /** A copy of the history so far, oldest first: the body of the next request. */
  messages(): ChatMessage[];
  /** The personal data sent so far, verbatim (grows as turns are handed out). */
  readonly planted: readonly string[];
}

interface PlannedTurn {
  user: string;
  planted: readonly string[];
  placeholder: string;
}

// A conversation opens with a question, follows up, and most often ends by booking, the way
// a prospect moves from "what does it cost" to "when can you start".
const FIRST_INTENTS = [
  { value: 'pricing', weight: 35 },
  { value: 'service-question', weight: 35 },
  { value: 'availability', weight: 20 },
  { value: 'booking', weight: 10 },
] as const satisfies ReadonlyArray<{ value: BuyerIntent; weight: number }>;
const MIDDLE_INTENTS = [
  { value: 'pricing', weight: 30 },
  { value: 'service-question', weight: 35 },
  { value: 'availability', weight: 35 },
] as const satisfies ReadonlyArray<{ value: BuyerIntent; weight: number }>;
const LAST_INTENTS = [
  { value: 'booking', weight: 60 },
  { value: 'availability', weight: 25 },
  { value: 'pricing', weight: 15 },
] as const satisfies ReadonlyArray<{ value: BuyerIntent; weight: number }>;

let sharedFaker: Faker | undefined;

/**
 * Creates a seeded buyer conversation. Every turn is written up front from one seeded faker
 * pass, so the user's messages never depend on what the target answered, and the same seed
 * gives the same conversation whatever the target did:
 * 1. seed faker with `seed`; draw the persona (business, company, person, contact details);
 * 2. draw the number of turns, then each turn's intent: an opening question (pricing, the
 *    service, availability), follow-ups, and a last turn that is most often a booking;
 * 3. draw each turn's length by the weights and write it to that length's word budget;
 * 4. plant the contact details, when asked, in the first booking turn (else the last);
 * 5. write a placeholder reply per turn, used only when the engine has no reply text.
 * Throws LP_ERR_SCENARIO_INVALID for invalid options, naming the field.
 */
export function createConversation(options: ConversationOptions): Conversation {
  const parsed = conversationOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new LaunchproofError('LP_ERR_SCENARIO_INVALID', 'conversation options are invalid', {
      details: formatIssues(parsed.error, 'conversation'),
    });
  }

  const { seed, turns, lengths, plantPii, referenceDate } = parsed.data;
  return new SeededConversation(
    planTurns(seed, turns, resolveWeights(lengths), resolvePii(plantPii), referenceDate),
  );
}

function planTurns(
  seed: number,
  turns: number | { min: number; max: number },
  weights: LengthWeights,
  pii: PiiKinds | undefined,
  referenceDate: Date = DEFAULT_REFERENCE_DATE,
): PlannedTurn[] {
  sharedFaker ??= new Faker({ locale: [en] });
  const faker = sharedFaker;
  // Both halves of the seed, so seeds that differ only above 2^32 still differ.
  faker.seed([seed >>> 0, Math.floor(seed / 2 ** 32)]);

  const persona = createPersona(faker);
  const count = typeof turns === 'number' ? turns : faker.number.int(turns);
  const intents: BuyerIntent[] = [];
  for (let i = 0; i < count; i++) {
    if (i === 0) intents.push(faker.helpers.weightedArrayElement(FIRST_INTENTS));
    else if (i === count - 1) intents.push(faker.helpers.weightedArrayElement(LAST_INTENTS));
    else intents.push(faker.helpers.weightedArrayElement(MIDDLE_INTENTS));
  }
  // Buyers give their contact details when they book: the first booking turn carries them.
  const bookingTurn = intents.indexOf('booking');
  const piiTurn = pii === undefined ? -1 : bookingTurn >= 0 ? bookingTurn : count - 1;

  return intents.map((intent, i) => {
    const length: MessageLength = drawLength(faker, weights);
    const slots = messageSlots(faker, persona, referenceDate);
    const message = composeMessage(faker, {
      persona,
      slots,
      intent,
      length,
      opening: i === 0,
      pii: i === piiTurn ? pii : undefined,
    });
    return {
      user: message.text,
      planted: message.planted,
      placeholder: placeholderReply(faker, slots, intent),
    };
  });
}

class SeededConversation implements Conversation {
  readonly #plan: readonly PlannedTurn[];
  readonly #history: ChatMessage[] = [];
  readonly #planted: string[] = [];
  #turn = 0;
  #awaitingReply = false;

  constructor(plan: readonly PlannedTurn[]) {
    this.#plan = plan;
  }

  get turns(): number {
    return this.#plan.length;
  }

  get turn(): number {
    return this.#turn;
  }

  get done(): boolean {
    return this.#turn >= this.#plan.length;
  }

  get planted(): readonly string[] {
    return this.#planted;
  }

  nextUserMessage(): string {
    const planned = this.#plan[this.#turn];
    if (planned === undefined) {
      throw new LaunchproofError(
        'LP_ERR_ENGINE',
        `conversation has no turns left: all ${this.#plan.length} user turns were handed out`,
        { hint: 'check `done` before asking for the next message' },
      );
    }

    if (this.#awaitingReply) this.recordAssistant();
    this.#history.push({ role: 'user', content: planned.user });
    this.#planted.push(...planned.planted);
    this.#turn++;
    this.#awaitingReply = true;
    return planned.user;
  }

  recordAssistant(text?: string): void {
    const planned = this.#plan[this.#turn - 1];
    if (!this.#awaitingReply || planned === undefined) {
      throw new LaunchproofError(
        'LP_ERR_ENGINE',
        'recordAssistant was called with no user message awaiting a reply',
      );
    }

    const content = text === undefined || text === '' ? planned.placeholder : text;
    this.#history.push({ role: 'assistant', content });
    this.#awaitingReply = false;
  }

  messages(): ChatMessage[] {
    return this.#history.slice();
  }
}
