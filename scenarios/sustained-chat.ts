import { buyerMessage, defineScenario } from 'launchproof';
import { chatSlo, reliabilitySlo } from '../thresholds/launch-ready.ts';

/**
 * Sustained buyer chat at a planned rate: a ramp to 8 chats/s, then 20 s held, from 60
 * visitors on their own loopback addresses (so per-IP limits see 60 browsers, not one).
 * Override with --rate and --duration to find the highest rate that still meets the SLO.
 */
export default defineScenario({
  name: 'sustained-chat',
  description: 'a ramp to a steady chat rate, held; p95 time to first token under 500 ms',
  seed: 11,
  thresholds: { ...chatSlo, ...reliabilitySlo },
  flows: [
    {
      name: 'buyers',
      load: {
        executor: 'ramping-arrival-rate',
        startRate: 1,
        stages: [
          { duration: '5s', target: 8 },
          { duration: '20s', target: 8 },
        ],
        preAllocatedVUs: 100,
        spacing: 'poisson',
      },
      identities: { count: 60, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '10s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
      checks: { 'status is 200': { status: 200 } },
    },
  ],
});
