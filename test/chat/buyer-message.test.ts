import { en, Faker } from '@faker-js/faker';
import { describe, expect, it } from 'vitest';
import {
  buyerMessage,
  countWords,
  DEFAULT_LENGTH_WEIGHTS,
  MESSAGE_LENGTH_WORDS,
} from '../../src/chat/buyer-message.ts';
import type { BuyerIntent } from '../../src/chat/buyer-phrases.ts';
import { BUYER_INTENTS } from '../../src/chat/buyer-phrases.ts';
import { SERVICE_BUSINESSES } from '../../src/chat/service-catalog.ts';

function seeded(seed: number): Faker {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  return faker;
}

describe('a single buyer message', () => {
  it('is the same for the same seed, and differs for another', () => {
    const a = buyerMessage(seeded(99), { plantPii: true });

    expect(buyerMessage(seeded(99), { plantPii: true })).toEqual(a);
    expect(buyerMessage(seeded(100), { plantPii: true }).text).not.toBe(a.text);
  });

  it('takes the intent and the length it is given', () => {
    const faker = seeded(4);
    for (const intent of BUYER_INTENTS) {
      const message = buyerMessage(faker, { intent, length: 'medium' });
      const words = countWords(message.text);

      expect(message.intent).toBe(intent);
      expect(message.length).toBe('medium');
      expect(words).toBeGreaterThanOrEqual(MESSAGE_LENGTH_WORDS.medium.min);
      expect(words).toBeLessThanOrEqual(MESSAGE_LENGTH_WORDS.medium.max);
    }
  });

  it('draws lengths by the default weights, measured on the text itself', () => {
    const faker = seeded(2026);
    const tally = { short: 0, medium: 0, long: 0 };
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const words = countWords(buyerMessage(faker).text);
      if (words <= MESSAGE_LENGTH_WORDS.short.max) tally.short++;
      else if (words <= MESSAGE_LENGTH_WORDS.medium.max) tally.medium++;
      else tally.long++;
    }

    // Three standard deviations of a binomial share at n = 3000 are under 0.03.
    expect(Math.abs(tally.short / n - DEFAULT_LENGTH_WEIGHTS.short)).toBeLessThan(0.03);
    expect(Math.abs(tally.medium / n - DEFAULT_LENGTH_WEIGHTS.medium)).toBeLessThan(0.03);
    expect(Math.abs(tally.long / n - DEFAULT_LENGTH_WEIGHTS.long)).toBeLessThan(0.03);
  });

  it('covers every intent and every business over many buyers', () => {
    const faker = seeded(17);
    const intents = new Set<BuyerIntent>();
    const services = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const message = buyerMessage(faker, { length: 'long' });
      intents.add(message.intent);
      for (const business of SERVICE_BUSINESSES) {
        if (business.services.some((service) => message.text.includes(service))) {
          services.add(business.name);
        }
      }
    }

    expect([...intents].sort()).toEqual([...BUYER_INTENTS].sort());
    expect(services.size).toBe(SERVICE_BUSINESSES.length);
  });

  it('reads as a buyer writes: sentences, no placeholders, no lorem ipsum', () => {
    const faker = seeded(8);
    for (let i = 0; i < 500; i++) {
      const { text } = buyerMessage(faker, { plantPii: i % 3 === 0 });

      expect(text).toMatch(/^[A-Z"'(]/);
      expect(text).toMatch(/[.?!]$/);
      expect(text).not.toMatch(/lorem|ipsum|undefined|\[object|\$\{| {2}/i);
      expect(text).not.toMatch(/\bNaN\b/);
    }
  });

  it('introduces the buyer by name or company in a longer opening message', () => {
    const faker = seeded(31);
    for (let i = 0; i < 50; i++) {
      const { text } = buyerMessage(faker, { length: 'long' });
      expect(text).toMatch(/^(Hi|Hello|Good morning|Hey)\b/);
    }
  });

  it('plants the contact details when asked, and lists them verbatim', () => {
    const message = buyerMessage(seeded(12), { plantPii: true, length: 'short' });

    expect(message.planted).toHaveLength(2);
    for (const value of message.planted) expect(message.text).toContain(value);
    expect(buyerMessage(seeded(12), { length: 'short' }).planted).toEqual([]);
  });
});
