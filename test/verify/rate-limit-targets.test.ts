import { afterEach, describe, expect, it } from 'vitest';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import {
  ASK,
  evidenceOf,
  startTinyLimiter,
  type TinyLimiter,
  type TinyLimiterOptions,
  verifiedRun,
} from './helpers.ts';

/**
 * Targets the demo has no flaw switch for, each a tiny node:http limiter: headers that lie,
 * a limit keyed on nothing, a ban that never lifts, and the draft-7 and structured header
 * forms a limit is discovered from.
 */
type Flow = ScenarioInput['flows'][number];

let target: TinyLimiter | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

const burst = {
  executor: 'constant-arrival-rate',
  rate: 40,
  duration: '300ms',
  maxVUs: 20,
} as const;

function scenario(rateLimit: Record<string, unknown>, extraFlows: ScenarioInput['flows'] = []) {
  return {
    name: 'tiny',
    rateLimit: { key: 'ip', abuser: 'abuser', ...rateLimit },
    flows: [
      {
        name: 'abuser',
        load: burst,
        identities: { sourceAddresses: ['127.0.0.60'] },
        expectedStatuses: [200, 429],
        request: ASK,
      },
      ...extraFlows,
    ],
  } as ScenarioInput;
}

async function start(options: TinyLimiterOptions) {
  target = await startTinyLimiter(options);
  return target;
}

describe('the rate-limit verifier against small targets', () => {
  it('fails the headers when the remaining count does not fall, and passes an honest one', async () => {
    const honest = await start({ limit: 5, windowMs: 3_000 });
    const good = await verifiedRun(scenario({ limit: 5, window: '3s' }), { url: honest.url });
    expect(good.verification('rate-limit ip: headers').ok).toBe(true);
    expect(evidenceOf(good.verification('rate-limit ip: headers'))).toContain(
      'remaining fell with each pass in 1 of 1 series',
    );
    await honest.close();

    const lying = await start({ limit: 5, windowMs: 3_000, remaining: 'stuck' });
    const run = await verifiedRun(scenario({ limit: 5, window: '3s' }), { url: lying.url });
    const headers = run.verification('rate-limit ip: headers');
    expect(headers.ok).toBe(false);
    expect(evidenceOf(headers)).toContain(
      '127.0.0.60: X-RateLimit-* remaining did not fall with each pass: 5 passes showed 1 values (4 repeated; highest 4, lowest 4)',
    );
    // The limit itself holds: only the headers lie.
    expect(run.verification('rate-limit ip: trip point').ok).toBe(true);
    expect(run.verification('rate-limit ip: leaks').ok).toBe(true);
  });

  it('fails collateral when visitors from other addresses are limited with the abuser', async () => {
    const visitors: Flow = {
      name: 'visitors',
      load: { executor: 'constant-arrival-rate', rate: 20, duration: '300ms' },
      identities: { count: 3, sourceAddresses: 'loopback' },
      expectedStatuses: [200, 429],
      request: ASK,
    };
    const global = await start({ limit: 5, windowMs: 3_000, keyBy: 'global' });
    const run = await verifiedRun(
      scenario({ limit: 5, window: '3s', visitors: ['visitors'], collateralLatency: '3s' }, [
        visitors,
      ]),
      { url: global.url },
    );
    const collateral = run.verification('rate-limit ip: collateral');
    expect(collateral.ok).toBe(false);
    // Every visitor sent while the abuser was refused was refused too.
    const during =
      /^(\d+) visitor requests from \d addresses while the abuser was rate-limited/.exec(
        evidenceOf(collateral),
      )?.[1];
    expect(Number(during)).toBeGreaterThan(0);
    expect(evidenceOf(collateral)).toContain(`${during} visitor requests rate-limited; must be 0`);
    await global.close();

    const perIp = await start({ limit: 5, windowMs: 3_000 });
    const fine = await verifiedRun(
      scenario({ limit: 5, window: '3s', visitors: ['visitors'], collateralLatency: '3s' }, [
        visitors,
      ]),
      { url: perIp.url },
    );
    expect(fine.verification('rate-limit ip: collateral').ok).toBe(true);
  });

  it('fails recovery when the target keeps refusing after Retry-After', async () => {
    const recovery: Flow = {
      name: 'recovery',
      load: { executor: 'constant-arrival-rate', rate: 5, duration: '400ms', startTime: '2.5s' },
      identities: { sourceAddresses: ['127.0.0.60'] },
      expectedStatuses: [200, 429],
      request: ASK,
    };
    const ban = await start({ limit: 5, windowMs: 1_000, recovers: false });
    const run = await verifiedRun(
      scenario({ limit: 5, window: '1s', recovery: 'recovery' }, [recovery]),
      {
        url: ban.url,
      },
    );
    const check = run.verification('rate-limit ip: recovery');
    expect(check.ok).toBe(false);
    expect(evidenceOf(check)).toMatch(
      /127\.0\.0\.60: after the wait \(Retry-After 1 s\) ended at \d\.\d s, 0 of 2 requests from 2\.\d s passed, 2 still got 429/,
    );
  });

  it('discovers the limit and window from structured RateLimit fields and checks against them', async () => {
    const structured = await start({ limit: 4, windowMs: 3_000, form: 'structured' });
    const run = await verifiedRun(scenario({}), { url: structured.url });
    const trip = run.verification('rate-limit ip: trip point');
    expect(trip.ok).toBe(true);
    expect(evidenceOf(trip)).toContain(
      'limit 4 per 3 s per address (discovered from the limit headers and the policy window); expected the first 429 at request 5',
    );
    expect(evidenceOf(run.verification('rate-limit ip: headers'))).toContain(
      'RateLimit/RateLimit-Policy structured fields (draft 8+)',
    );
  });

  it('reads the draft-7 dictionary form and fails a limit declared other than the target says', async () => {
    const draft7 = await start({ limit: 4, windowMs: 3_000, form: 'draft-7' });
    const run = await verifiedRun(scenario({ limit: 6, window: '3s' }), { url: draft7.url });
    const headers = run.verification('rate-limit ip: headers');
    expect(headers.ok).toBe(false);
    expect(evidenceOf(headers)).toContain(
      'RateLimit dictionary (draft 7) says limit 4, the declared limit is 6',
    );
    expect(evidenceOf(run.verification('rate-limit ip: trip point'))).toContain(
      'first 429 at request 5 of 12 (2 early)',
    );
  });

  it('fails with a reason when no limit is declared and the target sends no headers to read', async () => {
    const bare = await start({ limit: 5, windowMs: 3_000, form: 'none' });
    const run = await verifiedRun(scenario({}), { url: bare.url });
    const limit = run.verification('rate-limit ip: limit');
    expect(limit.ok).toBe(false);
    expect(evidenceOf(limit)).toContain(
      "no limit declared, and none discoverable from the target's headers (no RateLimit headers seen)",
    );
    expect(run.summary.verdict).toBe('fail');
  });

  it('calls a trip point inconclusive when the abuser never went past the limit', async () => {
    const roomy = await start({ limit: 100, windowMs: 3_000 });
    const run = await verifiedRun(scenario({ limit: 100, window: '3s' }), { url: roomy.url });
    const trip = run.verification('rate-limit ip: trip point');
    expect(trip.ok).toBe(false);
    expect(evidenceOf(trip)).toContain(
      'only 12 requests in its first window, not past the limit: inconclusive',
    );
    expect(evidenceOf(run.verification('rate-limit ip: leaks'))).toContain('inconclusive');
  });

  it('refuses a declaration that names a flow the scenario does not have', async () => {
    const url = (await start({ limit: 5, windowMs: 3_000 })).url;
    await expect(
      verifiedRun(scenario({ limit: 5, window: '3s', probes: ['nope'] }), { url }),
    ).rejects.toThrow(
      /rateLimit\.probes\.0: expected the name of one of the scenario's flows \(abuser\), received "nope"/,
    );
  });
});
