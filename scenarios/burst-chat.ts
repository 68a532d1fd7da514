import { buyerMessage, defineScenario } from 'launchproof';
import { chatSlo, reliabilitySlo } from '../thresholds/launch-ready.ts';

/**
 * A launch-day spike: 40 buyers open the widget at the same instant, then 40 more over 2 s,
 * each from their own address. The chatbot must start every answer fast and fail none.
 */
export default defineScenario({
  name: 'burst-chat',
  description: 'a burst of simultaneous chats, then a short spread burst',
  seed: 13,
  thresholds: { ...chatSlo, ...reliabilitySlo },
  flows: [
    {
      name: 'at-once',
      load: { executor: 'burst', count: 40 },
      identities: { count: 40, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '10s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
    },
    {
      name: 'spread',
      load: { executor: 'burst', count: 40, spread: '2s', spacing: 'poisson', startTime: '3s' },
      identities: {
        count: 40,
        sourceAddresses: ['127.0.1.2', '127.0.1.3', '127.0.1.4', '127.0.1.5'],
      },
      stream: { format: 'vercel-ai', idleTimeout: '10s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
    },
  ],
});
