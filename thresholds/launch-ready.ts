import type { ThresholdsInput } from '../src/index.ts';

/**
 * The launch-ready SLOs of the checklist our users start from ("p95 API latency under
 * 500 ms"), as k6 thresholds. They are split by what a scenario sends, because a threshold
 * with no samples fails (launchproof refuses to pass on no evidence): import the sets that
 * match your flows, or `launchReady` when the scenario has both chat and plain API flows.
 *
 * Every sample carries `kind: chat` (a flow with `stream`) or `kind: http` (any other).
 */

/** Plain API routes (health, leads, history): p95 under 500 ms from the intended send time. */
export const apiSlo = {
  'latency{kind:http}': ['p(95)<500'],
} satisfies ThresholdsInput;

/**
 * Chat routes: the answer must start within 500 ms at p95 (time to the first token, from the
 * intended send time, so a generator or queue delay is not hidden). The whole answer takes as
 * long as the model writes, which is not an API latency.
 */
export const chatSlo = {
  chat_ttft: ['p(95)<500'],
  chat_stream_failed: ['rate<0.01'],
} satisfies ThresholdsInput;

/** Every route: under 1% failed requests (errors and unexpected statuses) and checks held. */
export const reliabilitySlo = {
  http_req_failed: ['rate<0.01'],
} satisfies ThresholdsInput;

/** All of the above, for a scenario with both chat and plain API flows. */
export const launchReady = { ...apiSlo, ...chatSlo, ...reliabilitySlo } satisfies ThresholdsInput;

export default launchReady;
