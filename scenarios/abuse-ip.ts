import { buyerMessage, defineScenario, type RequestBuilder } from 'launchproof';

/**
 * One IP hammers the chat route while ordinary visitors from other IPs keep chatting, and
 * four probes try to slip past the per-IP limit by claiming other addresses in headers.
 * About 15 s. The limit declared here is the embedded demo's (20 chats per 60 s per
 * address): for your own target, set `rateLimit.limit` and `window` to what it promises, or
 * leave them out to read them from its RateLimit headers.
 *
 * Real client addresses come from binding loopback source addresses (127.0.0.2 and up), so
 * the target must listen on loopback; against a remote target, list addresses you own.
 */
const chat: RequestBuilder = (ctx) => ({
  method: 'POST',
  path: '/api/chat',
  json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
});

const stream = { format: 'vercel-ai', idleTimeout: '10s' } as const;
const CLAIMED = ['x-forwarded-for', 'x-real-ip', 'forwarded', 'cf-connecting-ip'] as const;

/**
 * A probe: 30 chats in 7.5 s from one real address, each identity claiming another address.
 * Probes start when the abuser stops, so that the visitors are timed beside the abuser alone.
 */
const probe = (header: (typeof CLAIMED)[number], address: string) => ({
  name: `probe-${header}`,
  load: {
    executor: 'constant-arrival-rate',
    rate: 4,
    duration: '7.5s',
    startTime: '6s',
    maxVUs: 30,
  } as const,
  identities: {
    count: 10,
    sourceAddresses: [address],
    claimedAddresses: { headers: [header], from: '198.51.100.1' },
  },
  stream,
  expectedStatuses: [200, 429],
  request: chat,
});

export default defineScenario({
  name: 'abuse-ip',
  description: 'one IP over its chat limit, visitors beside it, and header-spoofing probes',
  seed: 11,
  thresholds: { provider_cost_usd: ['count<0.50'] },
  rateLimit: {
    name: 'ip',
    key: 'ip',
    limit: 20,
    window: '60s',
    route: 'POST /api/chat',
    abuser: 'abuser',
    probes: CLAIMED.map((header) => `probe-${header}`),
    visitors: ['visitors'],
  },
  cost: { identities: 100, maxOutputTokens: 256 },
  flows: [
    {
      name: 'abuser',
      // 48 chats in 6 s from one address: requests 21 to 48 must all get 429.
      load: { executor: 'constant-arrival-rate', rate: 8, duration: '6s', maxVUs: 40 },
      identities: { count: 1, sourceAddresses: ['127.0.0.10'] },
      stream,
      expectedStatuses: [200, 429],
      request: chat,
    },
    {
      name: 'visitors',
      // Eight visitors from 127.0.0.2-9, three chats each: never near their own limit.
      load: { executor: 'constant-arrival-rate', rate: 3, duration: '8s', maxVUs: 20 },
      identities: { count: 8, sourceAddresses: 'loopback' },
      stream,
      request: chat,
    },
    ...CLAIMED.map((header, i) => probe(header, `127.0.0.${20 + i}`)),
  ],
});
