import { describe, expect, it } from 'vitest';
import { PLACEHOLDER_WORDS } from '../../src/chat/assistant-placeholder.ts';
import { countWords, MESSAGE_LENGTH_WORDS } from '../../src/chat/buyer-message.ts';
import type { Conversation } from '../../src/chat/conversation.ts';
import { createConversation } from '../../src/chat/conversation.ts';
import { LaunchproofError } from '../../src/errors.ts';

const EMAIL = /[^\s@]+@[^\s@]+\.[a-z]+/i;
const PHONE = /\(?\d{3}\)?[ -]\d{3}[ -]\d{4}|\+1 \d{3} \d{3} \d{4}/;

/** Plays a conversation to its end with placeholder replies; answers every user message. */
function playOut(conversation: Conversation): string[] {
  const sent: string[] = [];
  while (!conversation.done) {
    sent.push(conversation.nextUserMessage());
    conversation.recordAssistant();
  }
  return sent;
}

describe('a seeded conversation', () => {
  it('is the same, turn for turn, for the same seed', () => {
    const a = createConversation({ seed: 42, turns: 5, plantPii: true });
    const b = createConversation({ seed: 42, turns: 5, plantPii: true });
    playOut(a);
    playOut(b);

    expect(b.messages()).toEqual(a.messages());
    expect(b.planted).toEqual(a.planted);
  });

  it('differs for a different seed, including seeds that differ only above 2^32', () => {
    const first = playOut(createConversation({ seed: 42, turns: 3 }));

    expect(playOut(createConversation({ seed: 43, turns: 3 }))).not.toEqual(first);
    expect(playOut(createConversation({ seed: 42 + 2 ** 32, turns: 3 }))).not.toEqual(first);
  });

  it('writes the same user messages whatever the target answered', () => {
    const withPlaceholders = playOut(createConversation({ seed: 7, turns: 4 }));
    const real = createConversation({ seed: 7, turns: 4 });
    const sent: string[] = [];
    while (!real.done) {
      sent.push(real.nextUserMessage());
      real.recordAssistant('Sorry, our assistant is unavailable. Call us on the number below.');
    }

    expect(sent).toEqual(withPlaceholders);
  });

  it('replays the whole history on every turn, assistant replies included', () => {
    const conversation = createConversation({ seed: 3, turns: 3 });
    const replies = ['Our plans start at $400 a month.', 'Yes, Thursday works.', 'Booked!'];

    for (let turn = 0; turn < 3; turn++) {
      const message = conversation.nextUserMessage();
      const history = conversation.messages();

      expect(history).toHaveLength(2 * turn + 1);
      expect(history.at(-1)).toEqual({ role: 'user', content: message });
      expect(history.map((m) => m.role)).toEqual(
        history.map((_, i) => (i % 2 === 0 ? 'user' : 'assistant')),
      );
      expect(history.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(
        replies.slice(0, turn),
      );
      conversation.recordAssistant(replies[turn]);
    }
    expect(conversation.done).toBe(true);
    expect(conversation.turn).toBe(3);
  });

  it('stands in a reply of plausible length when the reply text is missing', () => {
    const conversation = createConversation({ seed: 11, turns: 2 });
    conversation.nextUserMessage();
    conversation.recordAssistant('');
    conversation.nextUserMessage();
    conversation.recordAssistant();

    for (const reply of conversation.messages().filter((m) => m.role === 'assistant')) {
      expect(countWords(reply.content)).toBeGreaterThanOrEqual(PLACEHOLDER_WORDS.min);
      expect(countWords(reply.content)).toBeLessThanOrEqual(PLACEHOLDER_WORDS.max);
    }
  });

  it('keeps roles alternating when a turn’s reply was never recorded', () => {
    const conversation = createConversation({ seed: 5, turns: 2 });
    conversation.nextUserMessage();
    conversation.nextUserMessage();

    expect(conversation.messages().map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('hands out a copy of the history, not its own list', () => {
    const conversation = createConversation({ seed: 5, turns: 2 });
    conversation.nextUserMessage();
    const before = conversation.messages();
    conversation.recordAssistant('Hello!');

    expect(before).toHaveLength(1);
  });

  it('refuses a turn past the last, and a reply nobody asked for', () => {
    const conversation = createConversation({ seed: 1, turns: 1 });

    expect(() => conversation.recordAssistant('too early')).toThrow(
      'recordAssistant was called with no user message awaiting a reply',
    );
    playOut(conversation);
    expect(() => conversation.nextUserMessage()).toThrow(LaunchproofError);
    expect(() => conversation.nextUserMessage()).toThrow(
      'conversation has no turns left: all 1 user turns were handed out',
    );
  });

  it('draws its number of turns from a range, every count in it reachable', () => {
    const counts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      counts.add(createConversation({ seed, turns: { min: 2, max: 5 } }).turns);
    }

    expect([...counts].sort()).toEqual([2, 3, 4, 5]);
  });
});

describe('conversation message lengths', () => {
  it.each(['short', 'medium', 'long'] as const)(
    'keeps every %s message within its word bounds, with PII planted or not',
    (length) => {
      const { min, max } = MESSAGE_LENGTH_WORDS[length];
      for (let seed = 0; seed < 300; seed++) {
        const plantPii = seed % 2 === 0;
        for (const message of playOut(
          createConversation({ seed, turns: 3, lengths: { [length]: 1 }, plantPii }),
        )) {
          const words = countWords(message);
          expect(words, message).toBeGreaterThanOrEqual(min);
          expect(words, message).toBeLessThanOrEqual(max);
        }
      }
    },
  );

  it('follows the weights it is given', () => {
    const tally = { short: 0, medium: 0, long: 0 };
    for (let seed = 0; seed < 1000; seed++) {
      const conversation = createConversation({
        seed,
        turns: 3,
        lengths: { short: 1, medium: 0, long: 3 },
      });
      for (const message of playOut(conversation)) tally[classify(countWords(message))]++;
    }

    expect(tally.medium).toBe(0);
    expect(tally.long / 3000).toBeGreaterThan(0.72);
    expect(tally.long / 3000).toBeLessThan(0.78);
  });
});

describe('planted PII', () => {
  it('puts the buyer’s email and phone into one turn, verbatim, when asked', () => {
    for (let seed = 0; seed < 100; seed++) {
      const conversation = createConversation({ seed, turns: 4, plantPii: true });
      const text = playOut(conversation).join('\n');
      const [email, phone] = conversation.planted;

      expect(conversation.planted).toHaveLength(2);
      expect(email).toMatch(/^[^\s@]+@[a-z0-9-]+\.example$/);
      expect(phone).toMatch(/555[ -]01\d\d$/);
      expect(text).toContain(email);
      expect(text).toContain(phone);
    }
  });

  it('lists what was planted only once the turn carrying it is handed out', () => {
    const conversation = createConversation({ seed: 21, turns: 4, plantPii: true });
    const sent: string[] = [];
    while (!conversation.done) {
      sent.push(conversation.nextUserMessage());
      const carried = sent.some((message) => message.includes(conversation.planted[0] ?? '\0'));
      expect(conversation.planted.length > 0).toBe(carried);
      conversation.recordAssistant();
    }
  });

  it('plants only the kinds named', () => {
    const conversation = createConversation({ seed: 8, turns: 2, plantPii: { email: true } });
    const text = playOut(conversation).join('\n');

    expect(conversation.planted).toHaveLength(1);
    expect(conversation.planted[0]).toMatch(EMAIL);
    expect(text).not.toMatch(PHONE);
  });

  it('leaves every message, placeholders included, free of emails and phones otherwise', () => {
    for (let seed = 0; seed < 300; seed++) {
      const plantPii = seed % 2 === 0 ? false : undefined;
      const conversation = createConversation({ seed, turns: 4, plantPii });
      playOut(conversation);

      expect(conversation.planted).toEqual([]);
      for (const { content } of conversation.messages()) {
        expect(content).not.toMatch(EMAIL);
        expect(content).not.toMatch(PHONE);
      }
    }
  });
});

describe('conversation options', () => {
  it('are refused with the field path when invalid', () => {
    const attempt = (options: unknown) => {
      try {
        createConversation(options as Parameters<typeof createConversation>[0]);
      } catch (error) {
        return error;
      }
      return undefined;
    };

    const zeroTurns = attempt({ seed: 1, turns: 0 });
    expect(zeroTurns).toBeInstanceOf(LaunchproofError);
    expect((zeroTurns as LaunchproofError).code).toBe('LP_ERR_SCENARIO_INVALID');
    expect((zeroTurns as LaunchproofError).details.join('\n')).toContain('conversation.turns');

    const noWeight = attempt({ seed: 1, turns: 2, lengths: { short: 0, long: 0 } });
    expect((noWeight as LaunchproofError).details.join('\n')).toContain(
      'at least one length needs a weight above 0',
    );

    const badRange = attempt({ seed: 1, turns: { min: 4, max: 2 } });
    expect((badRange as LaunchproofError).details.join('\n')).toContain('conversation.turns');

    const typo = attempt({ seed: 1, turns: 2, plantPII: true });
    expect((typo as LaunchproofError).details.join('\n')).toContain('"plantPII"');
  });
});

function classify(words: number): 'short' | 'medium' | 'long' {
  if (words <= MESSAGE_LENGTH_WORDS.short.max) return 'short';
  return words <= MESSAGE_LENGTH_WORDS.medium.max ? 'medium' : 'long';
}
