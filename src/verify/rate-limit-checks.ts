import type { Verification } from '../report/summary-schema.ts';
import type { RateLimitDeclaration } from './rate-limit-config.ts';
import {
  type CountWindow,
  countWindows,
  formatMs,
  formatPositions,
  groupByKey,
  type LimitSample,
  outcomeOf,
  percentile,
  seconds,
  type WindowRules,
} from './rate-limit-windows.ts';
import {
  RATE_LIMIT_FORMS,
  type RateLimitForm,
  readRateLimitHeaders,
  readRetryAfter,
} from './ratelimit-headers.ts';

/** A declaration with its limit and window known (declared or discovered). */
export interface ResolvedLimit {
  declaration: RateLimitDeclaration;
  name: string;
  limit: number;
  windowMs: number;
  /** How the limit was found when it was not declared. */
  discovered: string | undefined;
}

/** What the checks need besides the samples: where t = 0 is, and the wall clock at it. */
export interface CheckClock {
  t0Us: number;
  /** Wall-clock milliseconds at engine microsecond `us` (for epoch resets, HTTP dates). */
  wallMsAt(us: number): number;
}

/** Groups shown one line each before the rest are summed up. */
const MAX_GROUP_LINES = 5;

export function rulesOf(resolved: ResolvedLimit): WindowRules {
  return {
    limit: resolved.limit,
    windowMs: resolved.windowMs,
    tolerance: resolved.declaration.tolerance,
    edgeToleranceMs: resolved.declaration.edgeTolerance,
  };
}

/** `limit 20 per 60 s (declared)` for the evidence. */
export function describeLimit(resolved: ResolvedLimit): string {
  const route = resolved.declaration.route ? ` on ${resolved.declaration.route}` : '';
  const how = resolved.discovered === undefined ? '' : ` (discovered from ${resolved.discovered})`;
  return `limit ${resolved.limit} per ${formatMs(resolved.windowMs)} per ${keyWord(resolved)}${route}${how}`;
}

function keyWord(resolved: ResolvedLimit, count = 1): string {
  const word = { ip: 'address', session: 'session', key: 'key' }[resolved.declaration.key];
  return count === 1 ? word : `${word}${word.endsWith('s') ? 'es' : 's'}`;
}

/**
 * Trip point: in each key's first window, the first 429 must come at request `limit + 1`
 * (± tolerance). A key that never sent past the limit proves nothing and fails as such.
 */
export function tripPointCheck(
  resolved: ResolvedLimit,
  samples: readonly LimitSample[],
  clock: CheckClock,
): Verification {
  const name = `rate-limit ${resolved.name}: trip point`;
  const rules = rulesOf(resolved);
  const expected = resolved.limit + 1;
  const lines: KeyLine[] = [];
  let ok = samples.length > 0;
  let conclusive = 0;

  for (const [, group] of groupByKey(samples)) {
    const first = countWindows(group, rules)[0] as CountWindow;
    const label = (group[0] as LimitSample).keyLabel;
    const sent = first.samples.length;
    const retry = firstRetryAfter(first, clock);
    if (sent <= resolved.limit + rules.tolerance) {
      ok = false;
      lines.push({
        ok: false,
        text: `${label}: only ${sent} requests in its first window, not past the limit: inconclusive`,
      });
      continue;
    }
    conclusive++;
    if (first.limited === 0) {
      ok = false;
      lines.push({
        ok: false,
        text: `${label}: no 429 in ${sent} requests within ${formatMs(resolved.windowMs)}; expected the first at request ${expected}`,
      });
      continue;
    }
    const off = first.tripAt - expected;
    const keyOk = Math.abs(off) <= rules.tolerance;
    if (!keyOk) ok = false;
    const verdict = off === 0 ? '' : off < 0 ? ` (${-off} early)` : ` (${off} late)`;
    const order =
      first.firstLimitedInSendOrder === first.tripAt
        ? ''
        : `; in send order the first 429 was request ${first.firstLimitedInSendOrder} (some reached the target out of send order)`;
    lines.push({
      ok: keyOk,
      text:
        `${label}: first 429 at request ${first.tripAt} of ${sent}${verdict}: ${first.admitted} let through, ` +
        `${first.limited} refused${retry === undefined ? '' : `; Retry-After ${retry} s`}; ${first.leaks} leaks${order}`,
    });
  }

  return {
    name,
    ok: ok && conclusive > 0,
    evidence: [
      `${describeLimit(resolved)}; expected the first 429 at request ${expected}` +
        `${rules.tolerance > 0 ? ` ± ${rules.tolerance}` : ''}`,
      ...summarise(lines),
      ...(samples.length === 0 ? ['no requests from the abuser flow'] : []),
    ],
  };
}

/** Leaks: requests let through past the limit within their window, in every window of every key. */
export function leaksCheck(
  resolved: ResolvedLimit,
  samples: readonly LimitSample[],
  clock: CheckClock,
): Verification {
  const name = `rate-limit ${resolved.name}: leaks`;
  const rules = rulesOf(resolved);
  const lines: KeyLine[] = [];
  let leaks = 0;
  let pastLimit = 0;
  let edge = 0;

  for (const [, group] of groupByKey(samples)) {
    const label = (group[0] as LimitSample).keyLabel;
    for (const window of countWindows(group, rules)) {
      const over = Math.max(0, window.admitted + window.limited - resolved.limit - rules.tolerance);
      pastLimit += over;
      edge += window.edgeAdmitted;
      if (window.leaks === 0) continue;
      leaks += window.leaks;
      lines.push({
        ok: false,
        text:
          `${label}: ${window.leaks} of ${over} requests past the limit were let through (send-order requests ` +
          `${formatPositions(window.leakPositions)} of the window opened at ${seconds(window.startUs - clock.t0Us)})`,
      });
    }
  }

  const evidence = [
    `${leaks} of ${pastLimit} requests past the limit were let through within their window; must be 0`,
    ...summarise(lines),
  ];
  if (edge > 0)
    evidence.push(
      `${edge} let through within ${formatMs(rules.edgeToleranceMs)} of a window's end, not counted`,
    );
  if (pastLimit === 0)
    evidence.push('no request went past the limit within a window: inconclusive');
  return { name, ok: leaks === 0 && pastLimit > 0, evidence };
}

/**
 * Headers: every 429 carries a Retry-After within the window; the RateLimit headers parse
 * in whichever forms the target sends, agree with each other and with the declared limit,
 * say 0 remaining on a 429, and their remaining count falls with every request let through:
 * within a window, each pass shows its own remaining value, none at or above the limit. (The
 * values are compared as a set, not in send order, which a busy client does not keep.)
 */
export function headersCheck(
  resolved: ResolvedLimit,
  samples: readonly LimitSample[],
  clock: CheckClock,
): Verification {
  const name = `rate-limit ${resolved.name}: headers`;
  const rules = rulesOf(resolved);
  const windowS = resolved.windowMs / 1_000;
  const problems = new Map<string, number>();
  const problem = (text: string) => problems.set(text, (problems.get(text) ?? 0) + 1);
  const forms = new Set<RateLimitForm>();
  let withHeaders = 0;
  let answered = 0;
  let limited = 0;
  let retryMin = Number.POSITIVE_INFINITY;
  let retryMax = 0;
  let retryCount = 0;

  for (const sample of samples) {
    const outcome = outcomeOf(sample);
    if (sample.status === 0) continue;
    answered++;
    const nowMs = clock.wallMsAt(sample.headersUs);
    const readings = readRateLimitHeaders(sample.headers, nowMs);
    if (readings.length > 0) withHeaders++;
    for (const reading of readings) {
      forms.add(reading.form);
      for (const text of reading.problems) problem(text);
      const form = RATE_LIMIT_FORMS[reading.form];
      // On a pass the headers speak for this limit; a 429 may come from another limiter.
      if (
        outcome === 'passed' &&
        reading.limit !== undefined &&
        resolved.discovered === undefined &&
        reading.limit !== resolved.limit
      ) {
        problem(`${form} says limit ${reading.limit}, the declared limit is ${resolved.limit}`);
      }
      if (reading.windowS !== undefined && Math.abs(reading.windowS - windowS) > 1) {
        problem(`${form} policy window ${reading.windowS} s, the limit's window is ${windowS} s`);
      }
      if (outcome === 'limited' && reading.remaining !== undefined && reading.remaining > 0) {
        problem(`${form} says ${reading.remaining} remaining on a 429`);
      }
    }
    if (outcome !== 'limited') continue;
    limited++;
    const retry = readRetryAfter(sample.headers, nowMs);
    if (retry === undefined) problem('a 429 without Retry-After');
    else if ('problem' in retry) problem(retry.problem);
    else {
      retryCount++;
      retryMin = Math.min(retryMin, retry.seconds);
      retryMax = Math.max(retryMax, retry.seconds);
      if (retry.seconds > windowS + 1)
        problem(`Retry-After ${retry.seconds} s is past the ${windowS} s window`);
    }
  }

  const falling = remainingFalls(samples, rules, clock);
  for (const text of falling.problems) problem(text);

  const evidence: string[] = [];
  evidence.push(
    forms.size === 0
      ? `no RateLimit headers in any form on any of the ${answered} responses`
      : `${withHeaders} of ${answered} responses carried ${[...forms].map((f) => RATE_LIMIT_FORMS[f]).join(' and ')}`,
  );
  if (limited > 0) {
    evidence.push(
      retryCount === 0
        ? `Retry-After on none of ${limited} 429s`
        : `Retry-After on ${retryCount} of ${limited} 429s, ${retryMin}–${retryMax} s (window ${windowS} s)`,
    );
  } else {
    evidence.push('no 429 to read Retry-After from');
  }
  if (falling.series > 0) {
    evidence.push(
      `remaining fell with each pass in ${falling.series - falling.problems.length} of ${falling.series} series (key × window × form)`,
    );
  }
  for (const [text, count] of [...problems].slice(0, 8)) {
    evidence.push(count > 1 ? `${text} (${count} times)` : text);
  }

  const missingHeaders = resolved.declaration.requireHeaders && forms.size === 0;
  return {
    name,
    ok: problems.size === 0 && !missingHeaders && limited > 0,
    evidence,
  };
}

/**
 * Remaining must fall with each pass: within a window of a key, form by form, the passes'
 * remaining values are all different and all below the limit.
 */
function remainingFalls(
  samples: readonly LimitSample[],
  rules: WindowRules,
  clock: CheckClock,
): { series: number; problems: string[] } {
  const problems: string[] = [];
  let series = 0;
  for (const [, group] of groupByKey(samples)) {
    const label = (group[0] as LimitSample).keyLabel;
    for (const window of countWindows(group, rules)) {
      const byForm = new Map<RateLimitForm, { values: number[]; limit: number | undefined }>();
      for (const sample of window.samples) {
        if (outcomeOf(sample) !== 'passed') continue;
        const nowMs = clock.wallMsAt(sample.headersUs);
        for (const reading of readRateLimitHeaders(sample.headers, nowMs)) {
          if (reading.remaining === undefined) continue;
          const entry = byForm.get(reading.form) ?? { values: [], limit: reading.limit };
          entry.values.push(reading.remaining);
          byForm.set(reading.form, entry);
        }
      }
      for (const [form, { values, limit }] of byForm) {
        if (values.length < 2) continue;
        series++;
        const name = RATE_LIMIT_FORMS[form];
        const distinct = new Set(values).size;
        const top = Math.max(...values);
        if (distinct < values.length) {
          const repeated = values.length - distinct;
          problems.push(
            `${label}: ${name} remaining did not fall with each pass: ${values.length} passes showed ` +
              `${distinct} values (${repeated} repeated; highest ${top}, lowest ${Math.min(...values)})`,
          );
        } else if (limit !== undefined && top >= limit) {
          problems.push(`${label}: ${name} remaining ${top} on a pass: the pass was not counted`);
        }
      }
    }
  }
  return { series, problems };
}

/**
 * Recovery: after the abuser's last 429 and its Retry-After, the recovery flow (same key)
 * must pass again, up to the limit.
 */
export function recoveryCheck(
  resolved: ResolvedLimit,
  abuser: readonly LimitSample[],
  recovery: readonly LimitSample[],
  clock: CheckClock,
): Verification {
  const name = `rate-limit ${resolved.name}: recovery`;
  const abuserByKey = groupByKey(abuser);
  const lines: KeyLine[] = [];
  let ok = recovery.length > 0;

  for (const [key, group] of groupByKey(recovery)) {
    const sorted = [...group].sort((a, b) => a.startUs - b.startUs);
    const first = sorted[0] as LimitSample;
    const label = first.keyLabel;
    const limitedBefore = (abuserByKey.get(key) ?? []).filter(
      (s) => outcomeOf(s) === 'limited' && s.startUs < first.startUs,
    );
    if (limitedBefore.length === 0) {
      ok = false;
      lines.push({
        ok: false,
        text: `${label}: the abuser was never rate-limited from this key, so there was nothing to recover from`,
      });
      continue;
    }
    let deadlineUs = 0;
    let retryS: number | undefined;
    for (const sample of limitedBefore) {
      const retry = readRetryAfter(sample.headers, clock.wallMsAt(sample.headersUs));
      const waitS =
        retry !== undefined && 'seconds' in retry ? retry.seconds : resolved.windowMs / 1_000;
      if (retry !== undefined && 'seconds' in retry) retryS = retry.seconds;
      deadlineUs = Math.max(deadlineUs, sample.headersUs + waitS * 1_000_000);
    }
    const at = (us: number) => seconds(us - clock.t0Us);
    if (first.startUs < deadlineUs) {
      ok = false;
      lines.push({
        ok: false,
        text: `${label}: the recovery flow's first request at ${at(first.startUs)} came before the wait ended at ${at(deadlineUs)}: give it a later startTime`,
      });
      continue;
    }
    const judged = sorted.slice(0, resolved.limit);
    const passed = judged.filter((s) => outcomeOf(s) === 'passed').length;
    const limited = judged.filter((s) => outcomeOf(s) === 'limited').length;
    if (passed < judged.length) ok = false;
    lines.push({
      ok: passed === judged.length,
      text:
        `${label}: after the wait${retryS === undefined ? '' : ` (Retry-After ${retryS} s)`} ended at ${at(deadlineUs)}, ` +
        `${passed} of ${judged.length} requests from ${at(first.startUs)} passed` +
        `${limited > 0 ? `, ${limited} still got 429` : ''}`,
    });
  }

  if (recovery.length === 0) lines.push({ ok: false, text: 'the recovery flow sent no request' });
  return { name, ok, evidence: [describeLimit(resolved), ...summarise(lines)] };
}

/** What a probe flow rotates, for the evidence and the verification's name. */
export interface ProbeVector {
  /** Short, for the name: `x-forwarded-for`, `session header x-session-id`. */
  short: string;
  /** In a sentence: `X-Forwarded-For (10 claimed addresses)`. */
  long: string;
}

/**
 * Bypass: a probe sends past the limit from one key while rotating something else. The
 * count must not reset: in each key's first window, no more than `limit + tolerance` pass.
 */
export function bypassCheck(
  resolved: ResolvedLimit,
  flow: string,
  vector: ProbeVector,
  samples: readonly LimitSample[],
  /** Whether the abuser, rotating nothing, was held to the limit (undefined: no abuser). */
  abuserHeld: boolean | undefined,
): Verification {
  const name = `rate-limit ${resolved.name}: bypass by ${vector.short}`;
  const rules = rulesOf(resolved);
  const lines: KeyLine[] = [];
  let bypassed = false;
  let conclusive = 0;

  for (const [, group] of groupByKey(samples)) {
    const first = countWindows(group, rules)[0] as CountWindow;
    const label = (group[0] as LimitSample).keyLabel;
    const sent = first.samples.length;
    const identities = new Set(first.samples.map((s) => s.identityIndex)).size;
    if (sent <= resolved.limit + rules.tolerance) {
      lines.push({
        ok: false,
        text: `${label}: only ${sent} requests in the first window, not past the limit: inconclusive`,
      });
      continue;
    }
    conclusive++;
    const from = `${sent} requests from one ${keyWord(resolved)} (${label}) rotating ${vector.long} over ${identities} identities`;
    if (first.leaks > 0 && abuserHeld === false) {
      bypassed = true;
      lines.push({
        ok: false,
        text:
          `${from}; ${first.admitted} let through: the limit does not hold even without rotation ` +
          '(see leaks), so nothing here is specific to the rotated value',
      });
    } else if (first.leaks > 0) {
      bypassed = true;
      lines.push({
        ok: false,
        text:
          `BYPASS by ${vector.long}: ${from}; ${first.admitted} let through, ` +
          `${first.limited === 0 ? 'none was rate-limited' : `${first.limited} refused`}` +
          ` — the limiter counts by the rotated ${vector.short}, not the ${keyWord(resolved)}`,
      });
    } else {
      lines.push({
        ok: true,
        text: `${from}: the count did not reset; first 429 at request ${first.tripAt}, 0 leaks`,
      });
    }
  }

  if (samples.length === 0)
    lines.push({ ok: false, text: `the probe flow ${flow} sent no request` });
  return {
    name,
    ok: !bypassed && conclusive > 0,
    evidence: [describeLimit(resolved), ...summarise(lines)],
    subject: flow,
  };
}

/**
 * Collateral: while the abuser is limited, ordinary visitors from other keys are never
 * limited, and their p95 time to first content (chat) or to headers stays under the
 * threshold.
 */
export function collateralCheck(
  resolved: ResolvedLimit,
  attack: readonly LimitSample[],
  visitors: readonly LimitSample[],
  clock: CheckClock,
): Verification {
  const name = `rate-limit ${resolved.name}: collateral`;
  const thresholdMs = resolved.declaration.collateralLatency;
  const limited = attack.filter((s) => outcomeOf(s) === 'limited');
  const span = limited.length > 0 ? limited : attack;
  const fromUs = Math.min(...span.map((s) => s.startUs));
  const toUs = Math.max(...span.map((s) => s.endUs));
  const during = visitors.filter((s) => s.intendedUs >= fromUs && s.intendedUs <= toUs);
  const visitorLimited = during.filter((s) => outcomeOf(s) === 'limited').length;
  const waits = during
    .filter((s) => s.status !== 0)
    .map((s) => ((s.firstContentUs ?? s.headersUs) - s.intendedUs) / 1_000);
  const p95 = percentile(waits, 95);
  const keys = new Set(during.map((s) => s.key)).size;
  const at = (us: number) => seconds(us - clock.t0Us);

  const evidence = [
    attack.length === 0
      ? 'no abuser requests to compare with'
      : `${during.length} visitor requests from ${keys} ${keyWord(resolved, keys)} while the abuser was ` +
        `${limited.length > 0 ? 'rate-limited' : 'sending (it was never limited)'} (${at(fromUs)}–${at(toUs)})`,
    `${visitorLimited} visitor requests rate-limited; must be 0`,
    p95 === undefined
      ? 'no visitor answers to time'
      : `visitors' p95 time to first content ${p95.toFixed(0)} ms (threshold ${formatMs(thresholdMs)})`,
  ];
  const ok =
    attack.length > 0 &&
    during.length > 0 &&
    visitorLimited === 0 &&
    p95 !== undefined &&
    p95 <= thresholdMs;
  return { name, ok, evidence };
}

function firstRetryAfter(window: CountWindow, clock: CheckClock): number | undefined {
  for (const sample of window.samples) {
    if (outcomeOf(sample) !== 'limited') continue;
    const retry = readRetryAfter(sample.headers, clock.wallMsAt(sample.headersUs));
    if (retry !== undefined && 'seconds' in retry) return retry.seconds;
  }
  return undefined;
}

/** One key's line of evidence, and whether that key passed. */
interface KeyLine {
  text: string;
  ok: boolean;
}

/** The per-key lines, failing keys first; past a few, the rest are counted. */
function summarise(lines: readonly KeyLine[]): string[] {
  const ordered = [...lines.filter((l) => !l.ok), ...lines.filter((l) => l.ok)];
  if (ordered.length <= MAX_GROUP_LINES) return ordered.map((l) => l.text);
  const rest = ordered.slice(MAX_GROUP_LINES);
  const failing = rest.filter((l) => !l.ok).length;
  return [
    ...ordered.slice(0, MAX_GROUP_LINES).map((l) => l.text),
    `… and ${rest.length} more keys (${failing === 0 ? 'all alike' : `${failing} failing`})`,
  ];
}
