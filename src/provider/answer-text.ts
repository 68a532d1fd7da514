import type { Random } from './random.ts';

/**
 * Sentences a B2B service business's assistant might say. Answers are drawn from them so
 * that the text reads like a real answer (word lengths, punctuation) without a model.
 */
const SENTENCES: readonly string[] = [
  'Thanks for reaching out, happy to help with that.',
  'Our standard plan starts at $490 per month and includes onboarding.',
  'Most projects take between two and four weeks from kickoff to delivery.',
  'I can book a call with one of our consultants this week.',
  'Could you share your company size and the timeline you have in mind?',
  'We work with teams in logistics, healthcare, finance and retail.',
  'The discovery session is free and lasts about forty-five minutes.',
  'Pricing depends on scope, but a typical engagement is a fixed fee.',
  'You can also leave your email and we will send a short proposal.',
  'Our support hours are Monday to Friday, nine to six Central European Time.',
  'Yes, we sign a data processing agreement before any work begins.',
  'The next available slot is Tuesday at 10:30 or Thursday at 14:00.',
  'Every plan includes a dedicated account manager and monthly reporting.',
  'If you need it sooner, we offer an expedited option for a small surcharge.',
  'Here is a quick summary: audit, roadmap, implementation, then review.',
  'Many clients start with a pilot and expand after the first quarter.',
  "I don't have that detail, but a specialist can confirm it on the call.",
  'We are certified for ISO 27001 and can share our security overview.',
  'Would you prefer a video call or a phone call?',
  'Great, I have noted that down for the team.',
];

const TOKEN = /[A-Za-z0-9$']+(?:[:-][A-Za-z0-9]+)*|[^\sA-Za-z0-9$']/g;

/** Every sentence cut into tokens the way a BPE tokenizer roughly cuts English. */
const SENTENCE_TOKENS: readonly (readonly string[])[] = SENTENCES.map((sentence) => {
  const parts = sentence.match(TOKEN) ?? [];
  return parts.map((part, i) => (i === 0 || !/^[A-Za-z$0-9]/.test(part) ? part : ` ${part}`));
});

/**
 * The distinct tokens answers are made of. Streams refer to tokens by index into this list,
 * so the JSON of each token is escaped once for the provider's whole life.
 */
export const VOCABULARY: readonly string[] = [...new Set(SENTENCE_TOKENS.flat())].flatMap(
  (token) => (token.startsWith(' ') ? [token] : [token, ` ${token}`]),
);

const INDEX = new Map(VOCABULARY.map((token, i) => [token, i]));

/**
 * Draws an answer of exactly `length` tokens, as indexes into VOCABULARY: whole sentences
 * in a seeded order, joined with a space, cut at `length`.
 */
export function drawAnswer(length: number, random: Random): Uint16Array {
  const out = new Uint16Array(length);
  let filled = 0;
  while (filled < length) {
    const sentence = SENTENCE_TOKENS[Math.floor(random() * SENTENCE_TOKENS.length)] ?? [];
    for (let i = 0; i < sentence.length && filled < length; i++) {
      const token = sentence[i] as string;
      const spaced = i === 0 && filled > 0 && !token.startsWith(' ') ? ` ${token}` : token;
      out[filled++] = INDEX.get(spaced) ?? 0;
    }
  }
  return out;
}

/** The text of an answer drawn by drawAnswer. */
export function answerText(tokens: Uint16Array): string {
  let text = '';
  for (const index of tokens) text += VOCABULARY[index] ?? '';
  return text;
}
