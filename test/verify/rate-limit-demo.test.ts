import { afterEach, describe, expect, it } from 'vitest';
import type { DemoFlaw, DemoStack } from '../../src/demo/index.ts';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import {
  CHAT,
  evidenceOf,
  STREAM,
  startSmallDemo,
  type VerifiedRun,
  verifiedRun,
} from './helpers.ts';

/**
 * One scenario, every verification: an abuser over the demo's per-IP limit (5 per 3 s here),
 * a recovery flow from the same address after the wait (3 s windows), a probe rotating X-Forwarded-For and
 * a probe rotating session ids (each from one real address), and visitors from other
 * addresses. It runs against the healthy demo and against each flaw that breaks a part.
 */
function limitsScenario(withRecovery: boolean): ScenarioInput {
  const burst = {
    executor: 'constant-arrival-rate',
    rate: 20,
    duration: '600ms',
    maxVUs: 20,
  } as const;
  const probe = { stream: STREAM, expectedStatuses: [200, 429], request: CHAT };
  const recoveryFlow: ScenarioInput['flows'][number] = {
    name: 'recovery',
    // The abuser's last 429 says to wait up to 3 s more (Retry-After rounds up).
    load: { executor: 'constant-arrival-rate', rate: 5, duration: '600ms', startTime: '5s' },
    identities: { sourceAddresses: ['127.0.0.50'] },
    ...probe,
  };
  return {
    name: 'limits',
    rateLimit: {
      name: 'ip',
      key: 'ip',
      limit: 5,
      window: '3s',
      route: 'POST /api/chat',
      abuser: 'abuser',
      ...(withRecovery ? { recovery: 'recovery' } : {}),
      probes: ['probe-xff', 'probe-sessions'],
      visitors: ['visitors'],
      // The machine is shared: visitors are judged on being let through, and on a latency
      // no overloaded two-core box misses.
      collateralLatency: '3s',
    },
    flows: [
      { name: 'abuser', load: burst, identities: { sourceAddresses: ['127.0.0.50'] }, ...probe },
      ...(withRecovery ? [recoveryFlow] : []),
      {
        name: 'probe-xff',
        load: burst,
        identities: {
          count: 6,
          sourceAddresses: ['127.0.0.51'],
          claimedAddresses: { headers: ['x-forwarded-for'] },
        },
        ...probe,
      },
      {
        name: 'probe-sessions',
        load: burst,
        identities: {
          count: 6,
          sourceAddresses: ['127.0.0.52'],
          session: { in: 'header', name: 'x-session-id' },
        },
        ...probe,
      },
      {
        name: 'visitors',
        load: { executor: 'constant-arrival-rate', rate: 10, duration: '800ms', maxVUs: 10 },
        identities: { count: 4, sourceAddresses: 'loopback' },
        ...probe,
      },
    ],
  };
}

let stack: DemoStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The recovery flow waits out a window, so only the healthy run has it. */
async function runOn(flaws: DemoFlaw[]): Promise<VerifiedRun> {
  stack = await startSmallDemo({ flaws });
  return verifiedRun(limitsScenario(flaws.length === 0), { stack });
}

const NAMES = [
  'rate-limit ip: trip point',
  'rate-limit ip: leaks',
  'rate-limit ip: headers',
  'rate-limit ip: recovery',
  'rate-limit ip: bypass by x-forwarded-for',
  'rate-limit ip: bypass by session header x-session-id',
  'rate-limit ip: collateral',
];

describe('the rate-limit verifier against the demo', () => {
  it('passes every verification on the healthy demo, with the trip point at request 6', async () => {
    const run = await runOn([]);
    expect(run.summary.verifications.map((v) => v.name)).toEqual(NAMES);
    for (const name of NAMES)
      expect(run.verification(name).ok, evidenceOf(run.verification(name))).toBe(true);

    expect(evidenceOf(run.verification('rate-limit ip: trip point'))).toMatch(
      /127\.0\.0\.50: first 429 at request 6 of 12: 5 let through, 7 refused; Retry-After [123] s; 0 leaks/,
    );
    expect(evidenceOf(run.verification('rate-limit ip: leaks'))).toContain(
      '0 of 7 requests past the limit',
    );
    const headers = evidenceOf(run.verification('rate-limit ip: headers'));
    expect(headers).toContain('X-RateLimit-* and RateLimit-Limit/-Remaining/-Reset (draft 6)');
    expect(headers).toMatch(/Retry-After on 7 of 7 429s/);
    expect(evidenceOf(run.verification('rate-limit ip: recovery'))).toMatch(
      /3 of 3 requests from 5\.\d s passed/,
    );
    expect(evidenceOf(run.verification('rate-limit ip: collateral'))).toContain(
      '0 visitor requests rate-limited',
    );
    expect(run.summary.verdict).toBe('pass');
  });

  it('fails the trip point and leaks without any rate limit, counting every request let through', async () => {
    const run = await runOn(['no-rate-limit']);
    const trip = run.verification('rate-limit ip: trip point');
    expect(trip.ok).toBe(false);
    expect(evidenceOf(trip)).toContain(
      '127.0.0.50: no 429 in 12 requests within 3 s; expected the first at request 6',
    );
    const leaks = run.verification('rate-limit ip: leaks');
    expect(leaks.ok).toBe(false);
    expect(evidenceOf(leaks)).toContain('7 of 7 requests past the limit were let through');
    expect(run.verification('rate-limit ip: headers').ok).toBe(false);
    // Without a limit at all, rotation bypasses nothing in particular: the evidence says so.
    expect(evidenceOf(run.verification('rate-limit ip: bypass by x-forwarded-for'))).toContain(
      'the limit does not hold even without rotation',
    );
    expect(run.summary.verdict).toBe('fail');
  });

  it('names X-Forwarded-For when the limiter trusts it, and passes the rest', async () => {
    const run = await runOn(['trust-xff']);
    const bypass = run.verification('rate-limit ip: bypass by x-forwarded-for');
    expect(bypass.ok).toBe(false);
    expect(evidenceOf(bypass)).toContain(
      'BYPASS by X-Forwarded-For (6 claimed addresses): 12 requests from one address (127.0.0.51)',
    );
    expect(evidenceOf(bypass)).toContain('12 let through, none was rate-limited');
    for (const name of NAMES.filter((n) => n !== bypass.name && !n.endsWith('recovery'))) {
      expect(run.verification(name).ok, `${name}: ${evidenceOf(run.verification(name))}`).toBe(
        true,
      );
    }
  });

  it('names the rotated session when only sessions are limited', async () => {
    const run = await runOn(['session-only-limit']);
    const bypass = run.verification('rate-limit ip: bypass by session header x-session-id');
    expect(bypass.ok).toBe(false);
    expect(evidenceOf(bypass)).toContain('BYPASS by 6 sessions (header x-session-id)');
    expect(evidenceOf(bypass)).toContain('12 let through, none was rate-limited');
    // The anonymous abuser is still limited per address under this flaw.
    expect(run.verification('rate-limit ip: trip point').ok).toBe(true);
    expect(run.verification('rate-limit ip: bypass by x-forwarded-for').ok).toBe(true);
  });
});
