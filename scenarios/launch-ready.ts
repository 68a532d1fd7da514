import { buyerMessage, defineScenario, type RequestBuilder } from 'launchproof';
import { apiSlo, reliabilitySlo } from '../thresholds/launch-ready.ts';

/**
 * The launch-ready suite: the checklist's scorecard as one run of about 15 s.
 * - Buyers chat at a steady rate from 20 addresses: answers start within 500 ms at p95.
 * - The health route stays fast.
 * - Auth is enforced: chat history without a session token is refused, never served.
 * - Input is validated: an oversized message is refused (400 or 413), never a 500.
 * - Rate limits hold: one address hammering the chat route trips the per-IP limit at its
 *   declared count, leaks nothing, and a spoofed X-Forwarded-For does not reset it; the
 *   provider spend that got through is counted and projected.
 * - The provider fails for 2 s, then hangs for 3 s: buyers still get a marked fallback (a way
 *   to book) within the provider timeout plus 500 ms, nothing answers 5xx, and no request
 *   storms the provider with retries.
 * `npm start` runs it against the embedded demo. For a staging API, point its provider base
 * URL at a `launchproof provider` and run with `--target URL --provider URL`.
 */
const chat: RequestBuilder = (ctx) => ({
  method: 'POST',
  path: '/api/chat',
  json: { messages: [{ role: 'user', content: buyerMessage(ctx.faker).text }] },
});

const stream = { format: 'vercel-ai', idleTimeout: '10s' } as const;

export default defineScenario({
  name: 'launch-ready',
  description: 'the launch checklist as one run: speed, auth, input, rate limits, fallbacks',
  seed: 2026,
  thresholds: {
    ...apiSlo,
    ...reliabilitySlo,
    // Answers start fast while the provider is healthy; during its hang, the fallback rules.
    'chat_ttft{flow:buyers,phase:before}': ['p(95)<500'],
    'chat_stream_failed{flow:buyers}': ['rate<0.01'],
    checks: ['rate==1'],
    provider_cost_usd: ['count<0.50'],
  },
  flows: [
    {
      name: 'buyers',
      load: { executor: 'constant-arrival-rate', rate: 4, duration: '14s', preAllocatedVUs: 60 },
      identities: { count: 20, sourceAddresses: 'loopback' },
      stream,
      fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
      timeouts: { request: '8s' },
      request: chat,
      checks: { 'chat answers 200': { status: 200 } },
    },
    {
      name: 'health',
      load: { executor: 'constant-arrival-rate', rate: 2, duration: '14s' },
      request: { method: 'GET', path: '/health' },
      checks: { 'health answers 200': { status: 200 } },
    },
    {
      name: 'auth-boundary',
      load: { executor: 'constant-arrival-rate', rate: 1, duration: '14s' },
      // Refusal is the expected answer here, so it does not count as a failed request.
      expectedStatuses: [401, 403],
      request: { method: 'GET', path: '/api/history', name: 'history without a token' },
      checks: { 'history needs a session token': { status: [401, 403] } },
    },
    {
      name: 'input-limits',
      load: { executor: 'constant-arrival-rate', rate: 1, duration: '14s' },
      identities: { count: 1, sourceAddresses: ['127.0.9.2'] },
      expectedStatuses: [400, 413],
      request: (ctx) => ({
        method: 'POST',
        path: '/api/chat',
        name: 'oversized message',
        json: { messages: [{ role: 'user', content: ctx.faker.lorem.paragraphs(60) }] },
      }),
      checks: { 'oversized input is refused': { status: [400, 413] } },
    },
    {
      name: 'abuser',
      // 40 chats in 5 s from one address, before the provider's fault: 21 to 40 must be 429.
      load: { executor: 'constant-arrival-rate', rate: 8, duration: '5s', maxVUs: 40 },
      identities: { count: 1, sourceAddresses: ['127.0.9.3'] },
      stream,
      expectedStatuses: [200, 429],
      request: chat,
    },
    {
      name: 'xff-probe',
      // 30 chats from one address, each claiming another in X-Forwarded-For.
      load: { executor: 'constant-arrival-rate', rate: 6, duration: '5s', maxVUs: 30 },
      identities: {
        count: 10,
        sourceAddresses: ['127.0.9.4'],
        claimedAddresses: { headers: ['x-forwarded-for'], from: '198.51.100.1' },
      },
      stream,
      expectedStatuses: [200, 429],
      request: chat,
    },
  ],
  rateLimit: {
    name: 'ip',
    key: 'ip',
    limit: 20,
    window: '60s',
    route: 'POST /api/chat',
    abuser: 'abuser',
    probes: ['xff-probe'],
    visitors: ['buyers'],
  },
  cost: { identities: 100, maxOutputTokens: 256 },
  faults: [
    { name: 'provider-errors', at: '4s', for: '2s', fault: { kind: 'server-error', status: 500 } },
    { name: 'provider-timeout', at: '8s', for: '3s', fault: { kind: 'hang' } },
  ],
  resilience: {
    // Every flow that reaches the provider counts in calls per request; the fault only
    // overlaps the buyers, so the fallback checks read them alone.
    flows: ['buyers', 'abuser', 'xff-probe'],
    fallbackEngages: { minShare: 0.95 },
    fallbackFast: { deadline: '2.5s' },
    noServerErrors: true,
    noRetryStorm: { maxCallsPerRequest: 1.5 },
  },
});
