import { buyerMessage, defineScenario } from 'launchproof';
import { apiSlo, chatSlo, reliabilitySlo } from '../thresholds/launch-ready.ts';

/**
 * A short smoke load test for CI: the health route and a trickle of buyer chats, about 10 s.
 * Without --target it runs against the embedded demo.
 */
export default defineScenario({
  name: 'smoke',
  description: 'health checks and a few streamed buyer chats; fails the build on a breach',
  seed: 7,
  thresholds: { ...apiSlo, ...chatSlo, ...reliabilitySlo, checks: ['rate>0.99'] },
  flows: [
    {
      name: 'health',
      load: { executor: 'constant-arrival-rate', rate: 5, duration: '8s' },
      request: { method: 'GET', path: '/health' },
      checks: { 'status is 200': { status: 200 } },
    },
    {
      name: 'chat',
      load: { executor: 'constant-arrival-rate', rate: 2, duration: '8s', preAllocatedVUs: 20 },
      // Four visitors, each from its own loopback address, as distinct browsers would be.
      identities: { count: 4, sourceAddresses: 'loopback' },
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
