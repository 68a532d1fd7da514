import { afterEach, describe, expect, it } from 'vitest';
import type { DemoStack } from '../../src/demo/index.ts';
import { CHAT, evidenceOf, STREAM, startSmallDemo, verifiedRun } from './helpers.ts';

let stack: DemoStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const burst = {
  executor: 'constant-arrival-rate',
  rate: 20,
  duration: '600ms',
  maxVUs: 20,
} as const;

describe('identities with sessions', () => {
  it('creates a session per identity through the session route and sends it as a cookie', async () => {
    stack = await startSmallDemo();
    const run = await verifiedRun(
      {
        name: 'cookie-session',
        rateLimit: { key: 'session', limit: 5, window: '3s', abuser: 'one-session' },
        flows: [
          {
            name: 'one-session',
            load: burst,
            identities: {
              sourceAddresses: ['127.0.0.80'],
              session: {
                in: 'cookie',
                name: 'lp_session',
                setup: { path: '/api/session', pick: 'cookie:lp_session' },
              },
            },
            stream: STREAM,
            expectedStatuses: [200, 429],
            request: CHAT,
          },
        ],
      },
      { stack },
    );
    // The demo's per-session limit (5 per 3 s) is what trips, so the cookie was its session.
    const trip = run.verification('rate-limit session: trip point');
    expect(trip.ok, evidenceOf(trip)).toBe(true);
    expect(evidenceOf(trip)).toContain(
      'session of one-session identity 0: first 429 at request 6 of 12',
    );
    expect(run.warnings).toEqual([]);
  });

  it('counts a failed setup as a warning and a note, and sends that identity without a session', async () => {
    stack = await startSmallDemo({ sessionCreateRateLimit: { max: 2, windowMs: 60_000 } });
    const run = await verifiedRun(
      {
        name: 'setup-fails',
        rateLimit: { key: 'session', limit: 5, window: '3s', abuser: 'sessions' },
        flows: [
          {
            name: 'sessions',
            load: { executor: 'constant-arrival-rate', rate: 10, duration: '400ms' },
            identities: {
              count: 4,
              sourceAddresses: ['127.0.0.81'],
              session: { in: 'bearer', setup: { path: '/api/session' } },
            },
            stream: STREAM,
            expectedStatuses: [200, 429],
            request: CHAT,
          },
        ],
      },
      { stack },
    );
    // Setups run at once, so which two of the four the limiter refuses is the server's call.
    expect(run.warnings).toHaveLength(2);
    for (const warning of run.warnings) {
      expect(warning).toMatch(
        /^flow sessions, identity [0-3]: setup POST \/api\/session answered 429$/,
      );
    }
    expect(run.summary.notes).toContain(
      'flow sessions: 2 requests went out without a session (its setup step failed)',
    );
    const trip = evidenceOf(run.verification('rate-limit session: trip point'));
    expect(trip).toContain('no session');
  });
});
