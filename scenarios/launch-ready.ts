import { buyerMessage, defineScenario } from 'launchproof';
import { launchReady } from '../thresholds/launch-ready.ts';

/**
 * The launch-ready suite: the checklist's scorecard as one run against the chatbot API.
 * - buyers chat at a steady rate from many addresses: answers start within 500 ms at p95;
 * - the health route stays fast;
 * - auth is enforced: chat history without a session token is refused (401), never served;
 * - input is validated: an oversized message is refused (400 or 413), never a 500;
 * - every check must hold (checks rate 100%), so one broken safeguard fails the run.
 * `npm start` runs it against the embedded demo; `--target` points it at a staging API.
 */
export default defineScenario({
  name: 'launch-ready',
  description: 'the launch checklist as one run: chat speed, auth boundary, input limits',
  seed: 2026,
  thresholds: { ...launchReady, checks: ['rate==1'] },
  flows: [
    {
      name: 'buyers',
      load: { executor: 'constant-arrival-rate', rate: 4, duration: '10s', preAllocatedVUs: 40 },
      identities: { count: 20, sourceAddresses: 'loopback' },
      stream: { format: 'vercel-ai', idleTimeout: '10s' },
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      tags: { check: 'chat' },
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
      }),
      checks: { 'chat answers 200': { status: 200 } },
    },
    {
      name: 'health',
      load: { executor: 'constant-arrival-rate', rate: 2, duration: '10s' },
      request: { method: 'GET', path: '/health' },
      checks: { 'health answers 200': { status: 200 } },
    },
    {
      name: 'auth-boundary',
      load: { executor: 'constant-arrival-rate', rate: 1, duration: '10s' },
      // Refusal is the expected answer here, so it does not count as a failed request.
      expectedStatuses: [401, 403],
      request: { method: 'GET', path: '/api/history', name: 'history without a token' },
      checks: { 'history needs a session token': { status: [401, 403] } },
    },
    {
      name: 'input-limits',
      load: { executor: 'constant-arrival-rate', rate: 1, duration: '10s' },
      identities: { count: 1, sourceAddresses: ['127.0.2.2'] },
      expectedStatuses: [400, 413],
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        name: 'oversized message',
        json: { messages: [{ role: 'user', content: ctx.faker.lorem.paragraphs(60) }] },
      }),
      checks: { 'oversized input is refused': { status: [400, 413] } },
    },
  ],
});
