import { describe, expect, it } from 'vitest';
import { checkAbandonedStreams, cleanStretches } from '../../src/verify/abandoned-streams.ts';
import { checkBrokenStreamsEnd } from '../../src/verify/broken-streams.ts';
import { checkCircuitOpens, findProbe } from '../../src/verify/circuit-opens.ts';
import { checkFallbackEngages } from '../../src/verify/fallback-engages.ts';
import { checkFallbackFast } from '../../src/verify/fallback-fast.ts';
import { nearestRank } from '../../src/verify/observed-run.ts';
import { checkRecovery, recoveryIndex } from '../../src/verify/recovery.ts';
import { callWindows, checkNoRetryStorm } from '../../src/verify/retry-storm.ts';
import { checkNoServerErrors } from '../../src/verify/server-errors.ts';
import { request, run, s, samples, spread, window } from './observed.ts';

const CHAT = new Set(['chat']);
const TIMED_OUT = { kind: 'timeout', phase: 'headers' } as const;

describe('nearest-rank percentiles', () => {
  it('picks the smallest value with at least p% of the values at or below it', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(nearestRank([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(nearestRank(hundred, 99)).toBe(99);
    expect(nearestRank(hundred, 99.5)).toBe(100);
    expect(nearestRank(hundred, 0.1)).toBe(1);
    expect(nearestRank([], 99)).toBeUndefined();
  });
});

describe('fallback engages', () => {
  const fault = window('provider-timeout', 2, 6);
  const during = spread(2, 6, 40, (at, i) =>
    i < 38 ? request(at, { fallback: true }) : request(at, { status: 0, failure: TIMED_OUT }),
  );

  it('passes when the marked share reaches the declared one, naming what the rest were', () => {
    const [result] = checkFallbackEngages(run(during, [fault]), [fault], CHAT, 0.95);

    expect(result?.ok).toBe(true);
    expect(result?.subject).toBe('provider-timeout');
    expect(result?.evidence[0]).toContain('38 of 40 answers');
    expect(result?.evidence[0]).toContain('95%, declared at least 95%');
    expect(result?.evidence[1]).toBe('the rest: 2 × timed out waiting for headers');
  });

  it('fails one marked answer short of the declared share', () => {
    const [result] = checkFallbackEngages(run(during, [fault]), [fault], CHAT, 0.96);
    expect(result?.ok).toBe(false);
  });

  it('fails when no request was sent during the fault, rather than passing on nothing', () => {
    const before = spread(0, 2, 10);
    const [result] = checkFallbackEngages(run(before, [fault]), [fault], CHAT, 0.5);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[0]).toContain('nothing to judge');
  });

  it('leaves out streams the client abandoned and requests the run stop cut', () => {
    const left = spread(2, 6, 10, (at) => request(at, { abandoned: true }));
    const cut = spread(2, 6, 10, (at) => request(at, { status: 0, failure: { kind: 'aborted' } }));
    const [result] = checkFallbackEngages(
      run([...during, ...left, ...cut], [fault]),
      [fault],
      CHAT,
      0.95,
    );

    expect(result?.ok).toBe(true);
    expect(result?.evidence[0]).toContain('38 of 40 answers');
  });
});

describe('fallback is fast', () => {
  const fault = window('provider-timeout', 0, 10);
  // 100 fallback answers whose first content came 10, 20, …, 1000 ms after the intended send.
  const answers = spread(0, 10, 100, (at, i) =>
    request(at, { fallback: true, firstContentUs: s(at) + (i + 1) * 10_000 }),
  );

  it('reads p99 by nearest rank and passes under the deadline', () => {
    const [result] = checkFallbackFast(run(answers, [fault]), [fault], CHAT, 1_000, 99);

    expect(result?.ok).toBe(true);
    expect(result?.evidence[0]).toBe(
      'p99 time to the fallback answer: 990 ms over 100 fallback answers (longest 1.00 s), ' +
        'declared under 1.00 s',
    );
  });

  it('fails when p99 reaches the deadline', () => {
    const [result] = checkFallbackFast(run(answers, [fault]), [fault], CHAT, 990, 99);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[1]).toContain(
      '1 of 100 requests sent during the fault waited past 990 ms',
    );
  });

  it('fails when one request hangs past the deadline with no answer at all', () => {
    const hung = request(5, {
      status: 0,
      headersUs: 0,
      firstContentUs: undefined,
      endUs: s(6.5),
      failure: TIMED_OUT,
    });
    const [result] = checkFallbackFast(run([...answers, hung], [fault]), [fault], CHAT, 1_000, 99);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[1]).toBe(
      '1 of 101 requests sent during the fault waited past 1.00 s (longest 1.50 s; 1 got no answer at all)',
    );
  });

  it('does not count a quick reset as a hang', () => {
    const reset = request(5, {
      status: 0,
      headersUs: 0,
      firstContentUs: undefined,
      endUs: s(5.01),
      failure: { kind: 'reset' },
    });
    const [result] = checkFallbackFast(run([...answers, reset], [fault]), [fault], CHAT, 1_000, 99);
    expect(result?.ok).toBe(true);
  });
});

describe('no server errors', () => {
  const fault = window('provider-errors', 0, 10);

  it('counts 5xx, resets and broken-off streams during the fault, and not timeouts', () => {
    const requests = [
      ...spread(0, 10, 20, (at) => request(at, { fallback: true })),
      request(1, { status: 502 }),
      request(2, { status: 0, failure: { kind: 'reset' } }),
      request(3, { failure: { kind: 'stream', reason: 'truncated' } }),
      request(4, { status: 0, failure: TIMED_OUT }),
    ];
    const [result] = checkNoServerErrors(run(requests, [fault]), [fault], CHAT);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[0]).toBe(
      '3 of 24 requests sent while provider-errors (0.00 s–10.00 s) was in force got a 5xx or a dropped connection',
    );
    expect(result?.evidence[2]).toBe('1 more timed out (judged by "fallback is fast")');
  });

  it('passes when every answer during the fault was a clean one', () => {
    const requests = spread(0, 10, 20, (at) => request(at, { fallback: true }));
    const [result] = checkNoServerErrors(run(requests, [fault]), [fault], CHAT);
    expect(result?.ok).toBe(true);
  });
});

describe('recovery', () => {
  const fault = window('provider-timeout', 2, 10);
  // Fallbacks until 14 s (the breaker still open), one stray normal answer at 11 s, then normal.
  const requests = [
    ...spread(10, 14, 40, (at) => request(at, { fallback: true })),
    request(11.05),
    ...spread(14, 20, 60),
  ];

  it('finds when normal answers came back to stay and passes within the declared time', () => {
    const [result] = checkRecovery(run(requests, [fault]), [fault], [fault], CHAT, 5_000, 0.95);

    expect(result?.ok).toBe(true);
    expect(result?.evidence[0]).toBe(
      'normal answers were back 4.00 s after provider-timeout cleared at 10.00 s: from 14.00 s on, ' +
        '60 of 60 answers were normal (100%, at least 95% needed); declared within 5.00 s',
    );
  });

  it('fails when they came back later than declared', () => {
    const [result] = checkRecovery(run(requests, [fault]), [fault], [fault], CHAT, 3_000, 0.95);
    expect(result?.ok).toBe(false);
  });

  it('fails when no normal answer came back before the run ended', () => {
    const stuck = spread(10, 20, 50, (at) => request(at, { fallback: true }));
    const [result] = checkRecovery(run(stuck, [fault]), [fault], [fault], CHAT, 5_000, 0.95);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[1]).toBe('they were: 50 × 200 fallback');
  });

  it('takes the earliest normal answer from which the declared share holds', () => {
    const N = request(0);
    const F = request(0, { fallback: true });
    // From index 1 on, 4 of 5 are normal; from index 3 on, 3 of 3.
    expect(recoveryIndex([F, N, F, N, N, N], 0.85)).toBe(3);
    expect(recoveryIndex([F, N, F, N, N, N], 0.8)).toBe(1);
    expect(recoveryIndex([F, F], 0.5)).toBeUndefined();
  });
});

describe('no retry storm', () => {
  // Ten requests a second for 10 s, sent at 0.05, 0.15, … s.
  const requests = spread(0.05, 10.05, 100);
  const calm = samples(0, 10.1, (at) => Math.min(100, Math.round(at * 10)));

  it('cuts windows on sample instants and counts the calls between them', () => {
    const windows = callWindows(calm, requests, 1_000_000);

    expect(windows).toHaveLength(10);
    expect(windows[0]).toEqual({ fromUs: 0, toUs: s(1), calls: 10, requests: 10 });
  });

  it('passes at one call per request', () => {
    const result = checkNoRetryStorm(run(requests, [], calm), CHAT, {
      maxCallsPerRequest: 1.5,
      windowMs: 1_000,
      minRequests: 5,
    });

    expect(result.ok).toBe(true);
    expect(result.evidence[0]).toBe(
      'over the whole run: 100 provider calls for 100 user requests = 1.00 per request, declared at most 1.5',
    );
  });

  it('fails when one second of eight calls per request is hidden in a calm run', () => {
    // 8 calls per request from 4 s to 5 s: 80 calls where 10 were due.
    const stormy = samples(0, 10.1, (at) => {
      const base = Math.min(100, Math.round(at * 10));
      return base + 7 * Math.max(0, Math.min(10, Math.round((at - 4) * 10)));
    });
    const result = checkNoRetryStorm(run(requests, [], stormy), CHAT, {
      maxCallsPerRequest: 1.5,
      windowMs: 1_000,
      minRequests: 5,
    });

    expect(result.ok).toBe(false);
    expect(result.evidence[0]).toContain(
      '170 provider calls for 100 user requests = 1.70 per request',
    );
    expect(result.evidence[1]).toBe(
      'busiest 1 s window (4.00 s–5.00 s): 80 calls for 10 requests = 8.00 per request; 1 of 10 windows over 1.5',
    );
  });
});

describe('circuit opens', () => {
  const fault = window('provider-timeout', 2, 12);
  const requests = spread(0.05, 20.05, 200);
  // One call per request until 4 s, none until a probe at 14 s, then one per request again.
  const breaker = samples(0, 20, (at) => {
    if (at <= 4) return Math.round(at * 10);
    if (at < 14) return 40;
    return 41 + Math.round((at - 14) * 10);
  });
  const options = {
    withinMs: 3_000,
    maxCallsPerRequest: 0.2,
    probeAfterMs: 10_000,
    probeToleranceMs: 1_500,
  };

  it('passes when calls fall off during the fault and the probe comes one reset interval later', () => {
    const [result] = checkCircuitOpens(run(requests, [fault], breaker), [fault], CHAT, options);

    expect(result?.ok).toBe(true);
    expect(result?.evidence[1]).toContain('0 calls for 70 requests (0.00 per request)');
    expect(result?.evidence[2]).toContain('came at 14.00 s, 10.00 s later');
    expect(findProbe(breaker, s(2), s(12))).toEqual({ quietUs: s(4), probeUs: s(14), calls: 1 });
  });

  it('fails when the probe comes at another interval than declared', () => {
    const [result] = checkCircuitOpens(run(requests, [fault], breaker), [fault], CHAT, {
      ...options,
      probeAfterMs: 5_000,
    });
    expect(result?.ok).toBe(false);
  });

  it('fails when calls keep coming through the whole fault', () => {
    const open = samples(0, 20, (at) => Math.round(at * 10));
    const [result] = checkCircuitOpens(run(requests, [fault], open), [fault], CHAT, options);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[1]).toContain('70 calls for 70 requests (1.00 per request)');
  });
});

describe('abandoned streams stop', () => {
  const leave = (at: number) => request(at, { flow: 'leavers', abandoned: true, endUs: s(at) });
  const options = {
    withinMs: 500,
    minShare: 1,
    settleMs: 3_000,
    abandonAfterMs: new Map([['leavers', 250]]),
  };
  const left = [1, 2, 3, 4, 12, 13].map(leave);

  it('matches each abandonment to an aborted stream the provider counted soon after', () => {
    // The provider counts each abort 0.1 s after the client left.
    const aborted = (at: number) => left.filter((r) => r.endUs + s(0.1) <= s(at) + 1).length;
    const result = checkAbandonedStreams(
      run(
        left,
        [],
        samples(0, 15, () => 0, aborted),
      ),
      new Set(['leavers']),
      options,
    );

    expect(result.ok).toBe(true);
    expect(result.evidence[2]).toContain('6 were aborted upstream within 100 ms');
  });

  it('fails when the provider never saw the streams aborted', () => {
    const result = checkAbandonedStreams(
      run(
        left,
        [],
        samples(0, 15, () => 0),
      ),
      new Set(['leavers']),
      options,
    );

    expect(result.ok).toBe(false);
    expect(result.evidence.slice(2)).toEqual([
      '6 of 6 were not aborted upstream within 500 ms: the target kept reading answers nobody would see',
      '0% stopped in time, declared at least 100%',
    ]);
  });

  it('tolerates the declared share of streams left just as they ended, and no more', () => {
    // The stream left at 13 s had ended upstream already: the provider counts no abort for it.
    const aborted = (at: number) =>
      left.filter((r) => r.endUs < s(13) && r.endUs + s(0.1) <= s(at) + 1).length;
    const observed = run(
      left,
      [],
      samples(0, 15, () => 0, aborted),
    );
    const lenient = checkAbandonedStreams(observed, new Set(['leavers']), {
      ...options,
      minShare: 0.8,
    });
    const strict = checkAbandonedStreams(observed, new Set(['leavers']), options);

    expect(lenient.ok).toBe(true);
    expect(lenient.evidence.at(-1)).toBe('83.3% stopped in time, declared at least 80%');
    expect(strict.ok).toBe(false);
  });

  it('leaves out abandonments during a fault window and its settle time', () => {
    const fault = window('stream-stall', 3.5, 8);
    const result = checkAbandonedStreams(
      run(
        left,
        [fault],
        samples(0, 15, () => 0),
      ),
      new Set(['leavers']),
      options,
    );
    // 1, 2 and 3 s before the window, 12 and 13 s after 8 + 3 s; 4 s is inside.
    expect(result.evidence[0]).toContain('5 of them lie clear of fault windows');
    expect(cleanStretches(run([], [fault]), 0, s(15), s(3))).toEqual([
      [0, s(3.5)],
      [s(11), s(15)],
    ]);
  });
});

describe('broken streams end', () => {
  const fault = window('stream-stall', 0, 10, [{ kind: 'stall', afterTokens: 3, fraction: 1 }]);
  const idle = new Map([['chat', 3_000]]);

  it('passes when every stream sent during the fault ended with its terminator', () => {
    const streams = spread(0, 10, 20, (at) => request(at, { fallback: true }));
    const [result] = checkBrokenStreamsEnd(run(streams, [fault]), [fault], idle);

    expect(result?.ok).toBe(true);
    expect(result?.evidence[0]).toContain('20 of 20 chat streams');
  });

  it('fails on a stream that stalled past the idle timeout or broke off', () => {
    const streams = [
      ...spread(0, 10, 18, (at) => request(at, { fallback: true })),
      request(4, { failure: { kind: 'stream', reason: 'stalled' } }),
      request(5, { failure: { kind: 'stream', reason: 'truncated' } }),
    ];
    const [result] = checkBrokenStreamsEnd(run(streams, [fault]), [fault], idle);

    expect(result?.ok).toBe(false);
    expect(result?.evidence[1]).toContain('1 × 200 then chat stream failed: stalled');
  });
});
