/**
 * The demo's flaw switches. Each one breaks exactly one safeguard, so that every check of
 * the suite can be shown to fail on a target that lacks what it checks.
 */
export const DEMO_FLAWS = [
  'no-rate-limit',
  'trust-xff',
  'session-only-limit',
  'no-fallback',
  'slow-fallback',
  'retry-storm',
  'no-abort',
  'slow',
  'no-auth',
  'no-input-limit',
] as const;

/** The name of one flaw switch. */
export type DemoFlaw = (typeof DEMO_FLAWS)[number];

/** What each flaw breaks, in the words `--help` and the docs show. */
export const DEMO_FLAW_DESCRIPTIONS: Record<DemoFlaw, string> = {
  'no-rate-limit': 'no rate limits at all, per IP or per session',
  'trust-xff': 'the per-IP limit is keyed on a client-sent X-Forwarded-For when present',
  'session-only-limit': 'no per-IP limit on chat: rotating sessions from one IP bypasses it',
  'no-fallback': 'waits on the provider with no timeout; provider errors pass through as 5xx',
  'slow-fallback': 'the fallback answer comes only after a long extra delay',
  'retry-storm': 'retries the provider many times, without backoff, on an error or timeout',
  'no-abort': 'keeps reading the provider stream after the client has left',
  slow: 'adds latency that grows with the number of requests in flight',
  'no-auth': 'history is readable without a session token',
  'no-input-limit': 'no message length, message count or body size limit',
};

/** True when `name` is one of the flaw switches. */
export function isDemoFlaw(name: string): name is DemoFlaw {
  return (DEMO_FLAWS as readonly string[]).includes(name);
}
