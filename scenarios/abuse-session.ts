import { buyerMessage, defineScenario, type RequestBuilder } from 'launchproof';

/**
 * One session over its chat limit, then many sessions rotated from one IP: the per-session
 * limit must trip for the one, and the per-IP limit must still hold for the many (a limiter
 * keyed on the session alone lets one script open a fresh session whenever it is cut off).
 * About 4 s. The limits declared are the embedded demo's (10 chats per 60 s per session,
 * 20 per address); set them to your target's, or leave them out to read its headers.
 *
 * Sessions are made the way a widget makes them: each identity first calls the target's
 * `POST /api/session` and sends the token it gets as a bearer token. The last probe sends
 * bare session ids in `x-session-id`, as widgets that mint their own ids do.
 */
const chat: RequestBuilder = (ctx) => ({
  method: 'POST',
  path: '/api/chat',
  json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
});

const stream = { format: 'vercel-ai', idleTimeout: '10s' } as const;
const viaSessionRoute = { in: 'bearer', setup: { path: '/api/session', pick: 'token' } } as const;

export default defineScenario({
  name: 'abuse-session',
  description: 'one session past its chat limit, then sessions rotated from one IP',
  seed: 12,
  thresholds: { provider_cost_usd: ['count<0.50'] },
  rateLimit: [
    {
      name: 'session',
      key: 'session',
      limit: 10,
      window: '60s',
      route: 'POST /api/chat',
      abuser: 'one-session',
    },
    {
      name: 'ip',
      key: 'ip',
      limit: 20,
      window: '60s',
      route: 'POST /api/chat',
      probes: ['rotating-sessions', 'rotating-session-ids'],
    },
  ],
  cost: { identities: 100 },
  flows: [
    {
      name: 'one-session',
      // 18 chats in 3 s on one session: requests 11 to 18 must get 429 (and stay under the
      // per-address limit of 20, so the session limiter is the one answering).
      load: { executor: 'constant-arrival-rate', rate: 6, duration: '3s', maxVUs: 20 },
      identities: { count: 1, sourceAddresses: ['127.0.0.30'], session: viaSessionRoute },
      stream,
      expectedStatuses: [200, 429],
      request: chat,
    },
    {
      name: 'rotating-sessions',
      // Eight sessions from one address, 30 chats: under 10 per session, past 20 per address.
      load: { executor: 'constant-arrival-rate', rate: 10, duration: '3s', maxVUs: 30 },
      identities: { count: 8, sourceAddresses: ['127.0.0.31'], session: viaSessionRoute },
      stream,
      expectedStatuses: [200, 429],
      request: chat,
    },
    {
      name: 'rotating-session-ids',
      load: { executor: 'constant-arrival-rate', rate: 10, duration: '3s', maxVUs: 30 },
      identities: {
        count: 8,
        sourceAddresses: ['127.0.0.32'],
        session: { in: 'header', name: 'x-session-id' },
      },
      stream,
      expectedStatuses: [200, 429],
      request: chat,
    },
  ],
});
