import type { Sentence } from './service-catalog.ts';

/** What a buyer's message is about. */
export type BuyerIntent = 'pricing' | 'availability' | 'booking' | 'service-question';

export const BUYER_INTENTS: readonly BuyerIntent[] = [
  'pricing',
  'availability',
  'booking',
  'service-question',
];

/** The question itself, short enough for a short message (at most 11 words). */
export const SHORT_ASKS: Record<BuyerIntent, readonly Sentence[]> = {
  pricing: [
    (s) => `How much is ${s.service}?`,
    (s) => `What do you charge for ${s.service}?`,
    (s) => `Rough price for ${s.service}?`,
    (s) => `What would ${s.service} cost for ${s.teamSize} ${s.sizeNoun}?`,
    () => 'Do you publish your prices anywhere?',
  ],
  availability: [
    (s) => `Any availability on ${s.weekday}?`,
    (s) => `Are you free on ${s.date}?`,
    () => 'How soon could you start?',
    (s) => `Do you cover ${s.city}?`,
    (s) => `Could someone come by ${s.weekday} morning?`,
    (s) => `Any openings in ${s.month}?`,
  ],
  booking: [
    (s) => `Can I book ${s.service} for ${s.date}?`,
    (s) => `Please book us in for ${s.weekday} at ${s.time}.`,
    (s) => `I'd like to schedule a call on ${s.weekday}.`,
    () => "Let's set up a consultation.",
    (s) => `Can we lock in ${s.date} at ${s.time}?`,
  ],
  'service-question': [
    () => 'Do you work with companies our size?',
    () => 'Is there a minimum contract length?',
    () => 'Do you have references we could call?',
  ],
};

/** The question as a fuller sentence or two, for medium and long messages. */
export const FULL_ASKS: Record<BuyerIntent, readonly Sentence[]> = {
  pricing: [
    (s) => `Could you give me a ballpark price for ${s.service} for ${s.teamSize} ${s.sizeNoun}?`,
    (s) =>
      `We are trying to budget for ${s.service} and I'd love a rough range before we go further.`,
    (s) =>
      `What would ${s.service} typically cost for a company like ours, and are there setup fees?`,
    (s) => `Our budget is roughly ${s.budget}. Is that realistic for ${s.service}?`,
    (s) => `Do you have standard packages for ${s.service}, or is everything quoted case by case?`,
  ],
  availability: [
    (s) => `Do you have any availability on ${s.date}, ideally around ${s.time}?`,
    (s) => `How far out are you booking at the moment? We were hoping to start in ${s.month}.`,
    (s) => `Would someone be able to come out to ${s.city} on ${s.weekday} to take a look?`,
    (s) => `Is there any chance of getting started before ${s.date}?`,
  ],
  booking: [
    (s) => `I'd like to book a consultation for ${s.date} at ${s.time} if that slot is still open.`,
    (s) => `Let's go ahead. Can we put ${s.service} on the calendar for ${s.date}?`,
    (s) =>
      `Could you book a call with your team on ${s.weekday} at ${s.time}? A colleague will join.`,
    (s) => `We are ready to move forward with ${s.service}. What do you need from us to book it?`,
  ],
  'service-question': [
    (s) => `Can you walk me through how ${s.service} works in practice, from the first week on?`,
    (s) => `What is included in ${s.service}, and what would count as extra?`,
    (s) => `How do you usually handle it when something goes wrong with ${s.service}?`,
  ],
};

/** Context that goes with each intent. */
export const INTENT_CONTEXT: Record<BuyerIntent, readonly Sentence[]> = {
  pricing: [
    () => 'We are comparing a few providers and price is a big factor.',
    (s) => `Our budget is around ${s.budget}, but there is some flexibility.`,
    () => 'I need to put a number in front of our finance team this week.',
    () => 'Please include any setup or onboarding fees.',
  ],
  availability: [
    () => 'Mornings are usually easier for us than afternoons.',
    (s) => `We would like this sorted before the end of ${s.month}.`,
    () => 'We are flexible on timing, but sooner is better.',
  ],
  booking: [
    (s) => `${capitalize(s.time)} works for me, by video call or phone.`,
    () => 'Please send a calendar invite once it is confirmed.',
    () => 'If that slot is gone, the next business day is fine too.',
  ],
  'service-question': [
    () => 'We have been burned by vague contracts before, so I want to understand the details.',
    () => 'It would help to see an example of what you delivered for a similar client.',
  ],
};

/** Context any buyer might add. */
export const GENERAL_CONTEXT: readonly Sentence[] = [
  (s) => `We are based in ${s.city}.`,
  (s) => `${s.company} has grown a lot this year and things are stretched.`,
  () => 'I found you through a colleague who recommended your team.',
  () => 'My manager asked me to collect a couple of quotes this week.',
  () => 'We have not worked with an outside provider for this before.',
  () => 'Ideally we want one point of contact rather than a ticket queue.',
  (s) => `I am looking into ${s.otherService} as well, in case you do both.`,
  () => 'Happy to jump on a short call if that is easier.',
  () => 'Sorry if this is a basic question, I am new to this.',
  () => 'We would want a contract we can cancel with a month of notice.',
  () => 'Clear communication matters more to us than the lowest price.',
];

/** How a first message opens, before the question. */
export const INTRODUCTIONS: readonly Sentence[] = [
  (s) => `Hi, I'm ${s.firstName}, the ${s.jobTitle} at ${s.company}.`,
  (s) => `Hello, this is ${s.firstName} from ${s.company}.`,
  (s) => `Good morning, I'm the ${s.jobTitle} at ${s.company} in ${s.city}.`,
  (s) => `Hi there, ${s.firstName} here, ${s.jobTitle} at ${s.company}.`,
  (s) => `Hey, I run operations for ${s.company}.`,
];

/** How a later message opens, after the assistant's answer. */
export const FOLLOW_UPS: readonly string[] = [
  'Thanks, that helps.',
  'Got it, thank you.',
  'Okay, makes sense.',
  'Thanks for the quick reply.',
  'Great.',
  'Appreciate it.',
  'Perfect, one more thing.',
];

export const SIGN_OFFS: readonly string[] = [
  'Thanks!',
  'Thanks in advance.',
  'Looking forward to hearing from you.',
  'Appreciate your help.',
  'Thank you.',
];

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
