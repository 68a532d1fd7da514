import { buyerMessage, defineScenario } from 'launchproof';

/**
 * The model provider hangs for 9 s in the middle of sustained chat traffic. Every visitor
 * must still get the marked fallback (a way to book) within the provider timeout plus
 * 500 ms, nothing may answer 5xx, the breaker must shed load and probe once after its reset
 * interval, and normal answers must come back once the provider does.
 *
 * The figures fit the embedded demo (provider timeout 2 s, breaker reset 10 s); for your
 * own target, set `fallbackFast.deadline`, `circuitOpens.probeAfter` and `recovery.within`
 * from its settings, and run it with `--provider URL` pointing at the `launchproof provider`
 * your staging chatbot calls.
 */
export default defineScenario({
  name: 'provider-timeout',
  description: 'the provider hangs mid-traffic: fast marked fallbacks, no 5xx, breaker, recovery',
  seed: 7,
  thresholds: {
    'fallback{fault:provider-timeout,phase:during}': ['rate>=0.95'],
    'chat_ttft{fault:provider-timeout,phase:during}': ['p(99)<2500'],
    'http_req_failed{fault:provider-timeout}': ['rate<0.01'],
  },
  flows: [
    {
      name: 'visitors',
      load: {
        executor: 'constant-arrival-rate',
        rate: 8,
        duration: '19s',
        preAllocatedVUs: 60,
        gracefulStop: '3s',
      },
      // 16 visitors on their own loopback addresses keep under the demo's per-IP limit.
      identities: { count: 16, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '5s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      // A widget gives up after 6 s: a hung answer ends as a timeout, not a stuck run.
      timeouts: { request: '6s' },
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
    },
  ],
  faults: [{ name: 'provider-timeout', at: '1s', for: '9s', fault: { kind: 'hang' } }],
  resilience: {
    fallbackEngages: { minShare: 0.95 },
    fallbackFast: { deadline: '2.5s' },
    noServerErrors: true,
    // The breaker stays open for its reset interval after the provider is back.
    recovery: { within: '8s' },
    noRetryStorm: { maxCallsPerRequest: 1.5 },
    // Hung calls fail only at the 2 s timeout, so the breaker trips about 5 s in.
    circuitOpens: { within: '7s', maxCallsPerRequest: 0.2, probeAfter: '10s' },
  },
});
