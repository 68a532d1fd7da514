import { buyerMessage, defineScenario } from 'launchproof';

/**
 * Bill shock: sixteen addresses, each chatting at just past its limit for a sustained
 * window, as a small botnet would. The rate limit must hold for every one of them, and the
 * cost verifier projects what it costs when it does: per abusive address per hour and per
 * day, and for a thousand of them. About 16 s. The limit declared is the embedded demo's
 * (20 chats per 60 s per address); the price is the demo's model's (gpt-4o-mini).
 */
export default defineScenario({
  name: 'bill-shock',
  description: 'sixteen addresses at their chat limit; projected spend per address and for 1000',
  seed: 13,
  thresholds: { provider_cost_usd: ['count<0.50'] },
  rateLimit: {
    name: 'ip',
    key: 'ip',
    limit: 20,
    window: '60s',
    route: 'POST /api/chat',
    abuser: 'botnet',
  },
  cost: {
    model: 'gpt-4o-mini',
    identities: 1000,
    // A limit that holds keeps one address at 20 chats a minute: about $1.10 a day on the
    // demo's short answers. A limit that leaks lets it run at its full send rate.
    budget: { perIdentityPerDay: 2 },
  },
  flows: [
    {
      name: 'botnet',
      // 24 chats/s spread over 16 addresses (127.0.0.2-17) for 16 s: 24 each, 4 past the limit.
      load: { executor: 'constant-arrival-rate', rate: 24, duration: '16s', maxVUs: 80 },
      identities: { count: 16, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '10s' },
      expectedStatuses: [200, 429],
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
    },
  ],
});
