import { buyerMessage, defineScenario } from 'launchproof';

/**
 * The provider answers errors: first a flaky stretch (a fifth of calls get a 429, a fifth a
 * 500), then 3 s of nothing but 503s. No error may reach a visitor as a 5xx, every answer
 * while the provider is down must be the marked fallback, normal answers must be back within
 * 2 s, and the target must not retry its way into more provider calls than visitors sent
 * (a retry storm bills the provider while it is down, and keeps it down).
 */
export default defineScenario({
  name: 'provider-errors',
  description: '429s and 5xx from the provider: no 5xx leaks, marked fallbacks, no retry storm',
  seed: 8,
  thresholds: {
    'fallback{fault:provider-down,phase:during}': ['rate>=0.95'],
    'http_req_failed{phase:during}': ['rate<0.01'],
  },
  flows: [
    {
      name: 'visitors',
      load: {
        executor: 'constant-arrival-rate',
        rate: 8,
        duration: '14s',
        preAllocatedVUs: 40,
        gracefulStop: '3s',
      },
      identities: { count: 16, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '5s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      timeouts: { request: '6s' },
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
    },
  ],
  faults: [
    {
      name: 'provider-flaky',
      at: '2s',
      for: '3s',
      fault: [
        { kind: 'rate-limit', retryAfterS: 1, fraction: 0.2 },
        { kind: 'server-error', status: 500, fraction: 0.2 },
      ],
    },
    { name: 'provider-down', at: '8s', for: '3s', fault: { kind: 'server-error', status: 503 } },
  ],
  resilience: {
    fallbackEngages: { faults: 'provider-down', minShare: 0.95 },
    noServerErrors: true,
    recovery: { within: '2s' },
    noRetryStorm: { maxCallsPerRequest: 1.5 },
  },
});
