import type { Faker } from '@faker-js/faker';
import { countWords } from './buyer-message.ts';
import type { BuyerIntent } from './buyer-phrases.ts';
import type { Sentence, Slots } from './service-catalog.ts';

/** The word count of a placeholder reply, inclusive: what a chatbot typically answers. */
export const PLACEHOLDER_WORDS = { min: 30, max: 140 } as const;

const ANSWERS: Record<BuyerIntent, readonly Sentence[]> = {
  pricing: [
    (s) => `Thanks for asking about ${s.service}!`,
    (s) =>
      `For ${s.teamSize} ${s.sizeNoun}, most clients pay about ${s.budget}, depending on scope.`,
    () => 'There is no setup fee on our standard plans, and you can change plans at any time.',
    () => 'I can put together an exact quote once I know a little more about your setup.',
  ],
  availability: [
    (s) => `We do have openings on ${s.date}, and a few more later that week.`,
    (s) => `Our team is in ${s.city} most days, so an on-site visit is easy to arrange.`,
    () => 'Most engagements can start within two weeks of signing.',
  ],
  booking: [
    (s) => `Great, I have pencilled you in for ${s.date} at ${s.time}.`,
    () => 'You will get a confirmation email with a calendar invite shortly.',
    () => 'If anything changes, just reply here and we will find another slot.',
  ],
  'service-question': [
    (s) => `Good question. ${capitalize(s.service)} is one of our most requested services.`,
    () => 'Everything is covered by a clear service agreement, with response times spelled out.',
    () => 'Your account manager is your single point of contact throughout.',
  ],
};

const GENERAL: readonly Sentence[] = [
  () => 'Our clients usually start with a short discovery call so we can understand their needs.',
  () => 'We have worked with many companies of a similar size.',
  () => 'All of our staff are fully insured and background checked.',
  () => 'If you share a few details, I can tailor the proposal to you.',
  (s) => `We already work with several businesses in ${s.city}.`,
  (s) => `Many of our clients also add ${s.otherService} after the first few months.`,
  () => 'Pricing is transparent, and we put everything in writing before any work starts.',
];

const CLOSINGS: readonly string[] = [
  'Is there anything else I can help you with?',
  'Would you like me to book a quick call?',
  'Shall I send over a proposal?',
  'Would that work for you?',
];

/**
 * A stand-in for the assistant's reply when the engine has no text for it (the stream
 * failed, or its text was not captured), so the history replayed on the next turn is as
 * long as a real one would be. It answers the buyer's intent in 30 to 140 words.
 */
export function placeholderReply(faker: Faker, slots: Slots, intent: BuyerIntent): string {
  const target = faker.number.int(PLACEHOLDER_WORDS);
  const parts: string[] = [];
  let words = 0;

  const pool = [...ANSWERS[intent], ...faker.helpers.shuffle([...GENERAL])];
  for (const sentence of pool) {
    if (words >= target) break;
    const text = sentence(slots);
    const added = countWords(text);
    if (words + added > PLACEHOLDER_WORDS.max) continue;
    parts.push(text);
    words += added;
  }

  const closing = faker.helpers.arrayElement(CLOSINGS);
  if (words + countWords(closing) <= PLACEHOLDER_WORDS.max) parts.push(closing);
  return parts.join(' ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
