import { buyerMessage, defineScenario, type RequestContext } from 'launchproof';

/** A buyer's question to the chat widget. */
const ask = (ctx: RequestContext) => ({
  method: 'POST' as const,
  path: '/api/chat',
  json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
});

/**
 * The provider breaks answers mid-stream: for 3 s every stream stalls after three tokens,
 * then for 3 s every stream ends in an error event after two. Each visitor must still get an
 * answer that ends properly (the marked fallback, cut short politely) before the widget's
 * idle timeout. Alongside, visitors who close the widget 150 ms into an answer: the target
 * must abort the provider stream at once, so an answer nobody reads stops billing.
 */
export default defineScenario({
  name: 'stream-stall',
  description: 'stalls and error events mid-stream, and clients who leave mid-answer',
  seed: 9,
  thresholds: {
    'chat_stream_failed{flow:visitors}': ['rate<0.01'],
    'fallback{flow:visitors,phase:during}': ['rate>=0.95'],
    chat_abandoned: ['count>=10'],
  },
  flows: [
    {
      name: 'visitors',
      load: {
        executor: 'constant-arrival-rate',
        rate: 6,
        duration: '16s',
        preAllocatedVUs: 40,
        gracefulStop: '4s',
      },
      identities: { count: 12, sourceAddresses: 'loopback' },
      // The widget waits 3 s in silence (the demo's own idle timeout is 2 s).
      stream: { format: 'vercel-ai', idleTimeout: '3s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      request: ask,
    },
    {
      name: 'leavers',
      load: { executor: 'constant-arrival-rate', rate: 2, duration: '16s', preAllocatedVUs: 10 },
      identities: { count: 12, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '3s', abandonAfter: '150ms' },
      request: ask,
    },
  ],
  faults: [
    { name: 'stream-stall', at: '4s', for: '3s', fault: { kind: 'stall', afterTokens: 3 } },
    { name: 'stream-error', at: '7s', for: '3s', fault: { kind: 'error-event', afterTokens: 2 } },
  ],
  resilience: {
    flows: ['visitors'],
    fallbackEngages: { minShare: 0.95 },
    brokenStreamsEnd: true,
    recovery: { within: '3s' },
    // Judged before the faults and from 3 s after them: a fault aborts streams of its own.
    abandonedStreamsStop: { within: '1s', settle: '3s' },
  },
});
