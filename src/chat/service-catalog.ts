/**
 * The B2B service businesses a simulated buyer writes to, with what a buyer of each would
 * ask about. Sentences are functions of the conversation's slots, so every one of them reads
 * naturally with the buyer's company, city, dates and numbers filled in.
 */

/** The facts of one conversation that sentences are written from. */
export interface Slots {
  firstName: string;
  jobTitle: string;
  company: string;
  city: string;
  /** The buyer's size in the business's own unit (`teamSize` `sizeNoun`), formatted. */
  teamSize: string;
  sizeNoun: string;
  business: string;
  service: string;
  otherService: string;
  /** A budget already formatted with its unit, e.g. `$2,400 a month`. */
  budget: string;
  /** A day in the coming weeks, e.g. `Thursday, March 12`. */
  date: string;
  weekday: string;
  time: string;
  month: string;
}

export type Sentence = (slots: Slots) => string;

export interface ServiceBusiness {
  /** What the business is, as a buyer names it ("a managed IT provider"). */
  name: string;
  services: readonly string[];
  sizeNoun: string;
  teamSize: readonly [min: number, max: number];
  /** Typical price range and step: the buyer's budget is drawn from it. */
  price: readonly [min: number, max: number, step: number];
  /** How a price reads, `#` standing for the amount ("$# per user per month"). */
  priceFormat: string;
  /** Questions about the service itself, short enough for a short message. */
  questions: readonly Sentence[];
  /** Context a buyer of this business gives, one sentence each. */
  details: readonly Sentence[];
}

export const SERVICE_BUSINESSES: readonly ServiceBusiness[] = [
  {
    name: 'managed IT provider',
    services: [
      'help desk support',
      'Microsoft 365 administration',
      'network monitoring',
      'laptop setup for new hires',
    ],
    sizeNoun: 'employees',
    teamSize: [8, 250],
    price: [60, 180, 5],
    priceFormat: '$# per user per month',
    questions: [
      () => 'Do you support Macs as well as Windows laptops?',
      () => 'Is after-hours support included?',
      () => 'Do you handle backups and security patching?',
      (s) => `Can you take over ${s.otherService} from our current vendor?`,
    ],
    details: [
      () => 'Right now one of our developers handles IT on the side, which is not sustainable.',
      (s) => `We have around ${s.teamSize} ${s.sizeNoun}, mostly remote, plus a small office.`,
      () => 'We had a phishing incident last quarter and our insurer is asking questions.',
      () => 'Most of our stack is Google Workspace, Slack and a few SaaS tools.',
    ],
  },
  {
    name: 'commercial cleaning company',
    services: ['nightly office cleaning', 'a deep clean', 'carpet shampooing', 'window cleaning'],
    sizeNoun: 'square feet',
    teamSize: [1500, 40000],
    price: [400, 4500, 50],
    priceFormat: '$# a month',
    questions: [
      () => 'Do you bring your own supplies and equipment?',
      () => 'Are your cleaners insured and background checked?',
      () => 'Do you use eco-friendly products?',
      (s) => `Can you also do ${s.otherService} once a quarter?`,
    ],
    details: [
      (s) => `Our office is about ${s.teamSize} ${s.sizeNoun} on two floors in ${s.city}.`,
      () => 'We need the work done after 6 pm so it does not disturb the team.',
      () => 'There is a kitchen, two bathrooms and a reception area that gets a lot of traffic.',
      () => 'Our last cleaning crew kept missing days, so reliability matters most to us.',
    ],
  },
  {
    name: 'bookkeeping firm',
    services: [
      'monthly bookkeeping',
      'payroll processing',
      'year-end tax preparation',
      'accounts payable',
    ],
    sizeNoun: 'employees',
    teamSize: [3, 120],
    price: [300, 2500, 50],
    priceFormat: '$# a month',
    questions: [
      () => 'Do you work in QuickBooks Online or Xero?',
      () => 'Can you clean up books that are a few months behind?',
      () => 'Do you file sales tax in more than one state?',
      (s) => `Is ${s.otherService} something you offer as well?`,
    ],
    details: [
      () => 'We are about four months behind on reconciliations, to be honest.',
      () => 'Our accountant retired and we need someone before the quarter closes.',
      (s) => `We run payroll for ${s.teamSize} people every two weeks.`,
      () => 'Most of our revenue comes through Stripe and a few large invoices.',
    ],
  },
  {
    name: 'digital marketing agency',
    services: ['paid search management', 'SEO', 'LinkedIn ads', 'a website content refresh'],
    sizeNoun: 'employees',
    teamSize: [5, 300],
    price: [1500, 12000, 250],
    priceFormat: '$# a month',
    questions: [
      () => 'Do you have experience with B2B software companies?',
      () => 'Is ad spend included in your fee or billed separately?',
      () => 'What kind of reporting do we get each month?',
      (s) => `Do you bundle ${s.otherService} with ongoing retainers?`,
    ],
    details: [
      () => 'Our pipeline has been flat for two quarters and we want more qualified demos.',
      () => 'We currently spend some money on Google Ads but nobody really owns it.',
      (s) => `Our sales team is ${s.teamSize} people and they need more inbound leads.`,
      () => 'We tried a freelancer last year and the results were mixed.',
    ],
  },
  {
    name: 'commercial HVAC contractor',
    services: [
      'a preventive maintenance plan',
      'a rooftop unit inspection',
      'an air quality assessment',
      'emergency repairs',
    ],
    sizeNoun: 'square feet',
    teamSize: [2000, 60000],
    price: [250, 3000, 50],
    priceFormat: '$# per visit',
    questions: [
      () => 'Do you service Carrier and Trane rooftop units?',
      () => 'Do you offer 24/7 emergency callouts?',
      () => 'How often do you recommend filter changes for an office?',
      (s) => `Does the maintenance plan cover ${s.otherService}?`,
    ],
    details: [
      (s) => `The building is roughly ${s.teamSize} ${s.sizeNoun} with three rooftop units.`,
      () => 'The second floor is always too warm in the afternoon.',
      () => 'Our lease makes us responsible for maintenance from next month.',
      () => 'One of the units is making a grinding noise since last week.',
    ],
  },
  {
    name: 'corporate catering company',
    services: [
      'a team lunch',
      'catering for an all-hands',
      'a client breakfast',
      'weekly office lunches',
    ],
    sizeNoun: 'guests',
    teamSize: [12, 400],
    price: [18, 65, 1],
    priceFormat: '$# per person',
    questions: [
      () => 'Can you handle vegan, halal and gluten-free meals?',
      () => 'Do you provide staff to serve, or is it drop-off only?',
      () => 'How far in advance do you need the final headcount?',
      (s) => `Could you also quote ${s.otherService} for next quarter?`,
    ],
    details: [
      (s) => `We are expecting around ${s.teamSize} ${s.sizeNoun} at our office in ${s.city}.`,
      () => 'About a fifth of the group is vegetarian and a few people have nut allergies.',
      () => 'We would need everything set up by 11:30 and cleared by 2.',
      () => 'It is our annual kickoff, so presentation matters.',
    ],
  },
  {
    name: 'recruiting agency',
    services: [
      'contract staffing',
      'a permanent placement',
      'executive search',
      'temporary warehouse staff',
    ],
    sizeNoun: 'employees',
    teamSize: [10, 500],
    price: [15, 25, 1],
    priceFormat: '#% of first-year salary',
    questions: [
      () => 'Is there a replacement guarantee if a hire leaves early?',
      () => 'Do you recruit for engineering roles?',
      () => 'How long does a typical search take?',
      (s) => `Do you also offer ${s.otherService}?`,
    ],
    details: [
      () => 'We need to fill three roles this quarter and our internal recruiter just left.',
      (s) => `We are a company of ${s.teamSize} and growing quickly.`,
      () => 'Two of the roles are senior and have been open for months.',
      () => 'Ideally candidates would be within commuting distance of our office.',
    ],
  },
  {
    name: 'web design studio',
    services: [
      'a website redesign',
      'a landing page',
      'Webflow development',
      'ongoing site maintenance',
    ],
    sizeNoun: 'employees',
    teamSize: [4, 200],
    price: [4000, 40000, 500],
    priceFormat: '$# for the project',
    questions: [
      () => 'Do you build on Webflow, WordPress or custom code?',
      () => 'Is copywriting part of the package?',
      () => 'Who hosts the site once it is live?',
      (s) => `Can ${s.otherService} be added after launch?`,
    ],
    details: [
      () => 'Our current site was built five years ago and looks dated.',
      () => 'We need it live before a trade show, so timing is tight.',
      () => 'Marketing wants to be able to edit pages without a developer.',
      () => 'We have brand guidelines already, just no design resources.',
    ],
  },
  {
    name: 'business law firm',
    services: [
      'contract review',
      'a trademark filing',
      'an employment agreement template',
      'a commercial lease review',
    ],
    sizeNoun: 'employees',
    teamSize: [2, 150],
    price: [250, 650, 25],
    priceFormat: '$# an hour',
    questions: [
      () => 'Do you offer flat fees for standard contracts?',
      () => 'Do you work with startups on retainer?',
      () => 'Is the first consultation free?',
      (s) => `Could you also help with ${s.otherService}?`,
    ],
    details: [
      () => 'A large customer sent us their paper and it has an unlimited liability clause.',
      () => 'We want to protect our product name before we launch in Europe.',
      (s) => `We are ${s.teamSize} people and have never had outside counsel.`,
      () => 'The other side wants a signed agreement by the end of the month.',
    ],
  },
  {
    name: 'office moving company',
    services: [
      'an office relocation',
      'furniture installation',
      'IT equipment packing',
      'secure document shredding',
    ],
    sizeNoun: 'desks',
    teamSize: [10, 300],
    price: [3000, 45000, 500],
    priceFormat: '$# for the move',
    questions: [
      () => 'Do you move over a weekend so we lose no workdays?',
      () => 'Do you disconnect and reconnect computers?',
      () => 'Are you insured for damage in transit?',
      (s) => `Can you add ${s.otherService} to the quote?`,
    ],
    details: [
      (s) => `We are moving about ${s.teamSize} ${s.sizeNoun} across ${s.city}.`,
      () => 'The new building has a freight elevator that must be booked in advance.',
      () => 'Our lease ends soon, so the date cannot slip.',
      () => 'There are a few large printers and a server rack to move as well.',
    ],
  },
];

/** Job titles of the people who buy these services. */
export const BUYER_TITLES: readonly string[] = [
  'office manager',
  'operations manager',
  'head of operations',
  'COO',
  'founder',
  'facilities coordinator',
  'finance director',
  'executive assistant',
  'HR manager',
  'marketing lead',
];

/** Times a buyer proposes for a call or a visit. */
export const MEETING_TIMES: readonly string[] = [
  '9:00 am',
  '9:30 am',
  '10:00 am',
  '11:15 am',
  '1:00 pm',
  '2:30 pm',
  '3:00 pm',
  '4:15 pm',
];
