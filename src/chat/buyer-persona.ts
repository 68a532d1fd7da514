import type { Faker } from '@faker-js/faker';
import type { ServiceBusiness, Slots } from './service-catalog.ts';
import { BUYER_TITLES, MEETING_TIMES, SERVICE_BUSINESSES } from './service-catalog.ts';

/** One simulated buyer: who they are, whom they write to, and their contact details. */
export interface BuyerPersona {
  business: ServiceBusiness;
  firstName: string;
  lastName: string;
  jobTitle: string;
  company: string;
  city: string;
  teamSize: number;
  service: string;
  otherService: string;
  budget: string;
  /** A work email on a reserved `.example` domain (RFC 2606), so it can belong to no one. */
  email: string;
  /** A US number in the 555-0100 to 555-0199 range, reserved for fiction. */
  phone: string;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAY_MS = 86_400_000;
/** How far ahead a buyer proposes dates, in days. */
const DATE_HORIZON_DAYS = 21;

/** Draws a buyer from `faker`: a business, a company, a person and their contact details. */
export function createPersona(faker: Faker): BuyerPersona {
  const business = faker.helpers.arrayElement(SERVICE_BUSINESSES);
  const [service, otherService] = faker.helpers.arrayElements(business.services, 2) as [
    string,
    string,
  ];
  const firstName = faker.person.firstName();
  const lastName = faker.person.lastName();
  const company = faker.company.name();
  const [sizeMin, sizeMax] = business.teamSize;
  const [priceMin, priceMax, priceStep] = business.price;
  const amount = faker.number.int({ min: priceMin, max: priceMax, multipleOf: priceStep });

  return {
    business,
    firstName,
    lastName,
    jobTitle: faker.helpers.arrayElement(BUYER_TITLES),
    company,
    city: faker.location.city(),
    teamSize: faker.number.int({
      min: sizeMin,
      max: sizeMax,
      multipleOf: sizeMin >= 1000 ? 100 : 1,
    }),
    service,
    otherService,
    budget: business.priceFormat.replace('#', amount.toLocaleString('en-US')),
    email: faker.internet.email({ firstName, lastName, provider: `${slug(company)}.example` }),
    phone: fictionalPhone(faker),
  };
}

/**
 * The slots of one message: the persona's facts, plus a date, weekday and time drawn for this
 * message within three weeks of `referenceDate` (weekdays only: buyers book business days).
 */
export function messageSlots(faker: Faker, persona: BuyerPersona, referenceDate: Date): Slots {
  const offsetDays = faker.number.int({ min: 1, max: DATE_HORIZON_DAYS });
  let day = new Date(referenceDate.getTime() + offsetDays * DAY_MS);
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day = new Date(day.getTime() + DAY_MS);
  const weekday = WEEKDAYS[day.getUTCDay()] as string;

  return {
    firstName: persona.firstName,
    jobTitle: persona.jobTitle,
    company: persona.company,
    city: persona.city,
    teamSize: persona.teamSize.toLocaleString('en-US'),
    sizeNoun: persona.business.sizeNoun,
    business: persona.business.name,
    service: persona.service,
    otherService: persona.otherService,
    budget: persona.budget,
    date: `${weekday}, ${MONTHS[day.getUTCMonth()]} ${day.getUTCDate()}`,
    weekday,
    time: faker.helpers.arrayElement(MEETING_TIMES),
    month: MONTHS[day.getUTCMonth()] as string,
  };
}

function fictionalPhone(faker: Faker): string {
  const area = faker.number.int({ min: 201, max: 989 });
  const line = `01${faker.string.numeric(2)}`;
  return faker.helpers.arrayElement([
    `(${area}) 555-${line}`,
    `${area}-555-${line}`,
    `+1 ${area} 555 ${line}`,
  ]);
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
