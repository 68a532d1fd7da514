import type { ResponseRecord } from '../engine/flow-runtime.ts';
import type { RunEnd, RunExtension, RunStart } from '../engine/run-extension.ts';
import { LaunchproofError } from '../errors.ts';
import type { Verification } from '../report/summary-schema.ts';
import type { Flow, Scenario } from '../scenario/schema.ts';
import {
  bypassCheck,
  type CheckClock,
  collateralCheck,
  headersCheck,
  leaksCheck,
  type ProbeVector,
  type ResolvedLimit,
  recoveryCheck,
  rulesOf,
  tripPointCheck,
} from './rate-limit-checks.ts';
import { type RateLimitDeclaration, rateLimitDeclarations } from './rate-limit-config.ts';
import { countWindows, groupByKey, type LimitSample, outcomeOf } from './rate-limit-windows.ts';
import { RATE_LIMIT_FORMS, readRateLimitHeaders, readRetryAfter } from './ratelimit-headers.ts';

/** What the cost verifier learns from this one: each limit, and whether it held. */
export interface LimitOutcome {
  resolved: ResolvedLimit;
  /** No leak in any window of the abuser (or of every probe, without an abuser). */
  held: boolean;
}

type Role = 'abuser' | 'recovery' | 'probe' | 'visitor';

/**
 * The rate-limit verifier: reads every response of the flows a scenario's `rateLimit` names
 * and, after the run, turns each declaration into verifications (trip point, leaks, headers,
 * recovery, a bypass check per probe, collateral), each with its evidence.
 */
export class RateLimitVerifier implements RunExtension {
  readonly name = 'rate-limit';
  readonly #scenario: Scenario;
  readonly #declarations: RateLimitDeclaration[];
  readonly #flows: Map<string, Flow>;
  /** Samples per declaration index and role. */
  readonly #samples: Array<Record<Role, LimitSample[]>>;
  readonly #roles = new Map<string, Array<{ index: number; role: Role }>>();
  readonly #setupFailures = new Map<string, number>();
  #clock: CheckClock = { t0Us: 0, wallMsAt: (us) => us / 1_000 };
  /** Filled by `finish`, read by the cost verifier, which finishes after this one. */
  outcomes: LimitOutcome[] = [];

  constructor(scenario: Scenario) {
    this.#scenario = scenario;
    this.#declarations = rateLimitDeclarations(scenario.rateLimit);
    this.#flows = new Map(scenario.flows.map((flow) => [flow.name, flow]));
    this.#samples = this.#declarations.map(() => ({
      abuser: [],
      recovery: [],
      probe: [],
      visitor: [],
    }));
    this.#declarations.forEach((declaration, index) => {
      const add = (flow: string | undefined, role: Role, path: string) => {
        if (flow === undefined) return;
        if (!this.#flows.has(flow))
          throw unknownFlow(scenario, flow, `rateLimit${this.#at(index)}.${path}`);
        const list = this.#roles.get(flow) ?? [];
        list.push({ index, role });
        this.#roles.set(flow, list);
      };
      add(declaration.abuser, 'abuser', 'abuser');
      add(declaration.recovery, 'recovery', 'recovery');
      for (const [i, flow] of declaration.probes.entries()) add(flow, 'probe', `probes.${i}`);
      for (const [i, flow] of declaration.visitors.entries()) add(flow, 'visitor', `visitors.${i}`);
    });
  }

  start(run: RunStart): void {
    // t0 is fixed only after every extension has started: read it when it is needed.
    const anchorUs = run.nowUs();
    const anchorWallMs = Date.now();
    this.#clock = {
      get t0Us() {
        return run.t0Us;
      },
      wallMsAt: (us) => anchorWallMs + (us - anchorUs) / 1_000,
    };
  }

  observe(record: ResponseRecord): void {
    const roles = this.#roles.get(record.flow);
    if (roles === undefined) return;
    const credentials = record.identity.credentials;
    if (credentials?.setupError !== undefined) {
      this.#setupFailures.set(record.flow, (this.#setupFailures.get(record.flow) ?? 0) + 1);
    }
    for (const { index, role } of roles) {
      const declaration = this.#declarations[index] as RateLimitDeclaration;
      (this.#samples[index] as Record<Role, LimitSample[]>)[role].push(
        sampleOf(record, declaration),
      );
    }
  }

  finish(_run: RunEnd): { verifications: Verification[]; notes: string[] } {
    const verifications: Verification[] = [];
    const notes: string[] = [];
    this.outcomes = [];

    this.#declarations.forEach((declaration, index) => {
      const samples = this.#samples[index] as Record<Role, LimitSample[]>;
      const name = declaration.name ?? declaration.key;
      const resolved = resolveLimit(
        declaration,
        name,
        [...samples.abuser, ...samples.probe],
        this.#clock,
      );
      if (!('limit' in resolved)) {
        verifications.push({
          name: `rate-limit ${name}: limit`,
          ok: false,
          evidence: resolved.evidence,
        });
        return;
      }

      if (declaration.abuser !== undefined) {
        verifications.push(tripPointCheck(resolved, samples.abuser, this.#clock));
        verifications.push(leaksCheck(resolved, samples.abuser, this.#clock));
        verifications.push(headersCheck(resolved, samples.abuser, this.#clock));
      }
      if (declaration.recovery !== undefined) {
        verifications.push(recoveryCheck(resolved, samples.abuser, samples.recovery, this.#clock));
      } else if (declaration.abuser !== undefined) {
        notes.push(
          `rate-limit ${name}: recovery not checked (no recovery flow; one needs a startTime past the ${resolved.windowMs / 1_000} s window)`,
        );
      }
      for (const flow of declaration.probes) {
        const probeSamples = samples.probe.filter((s) => s.flow === flow);
        const vector = probeVector(this.#flows.get(flow) as Flow, declaration);
        const abuserHeld =
          declaration.abuser === undefined ? undefined : held(resolved, samples.abuser);
        verifications.push(bypassCheck(resolved, flow, vector, probeSamples, abuserHeld));
      }
      if (declaration.visitors.length > 0) {
        const attack = declaration.abuser !== undefined ? samples.abuser : samples.probe;
        verifications.push(collateralCheck(resolved, attack, samples.visitor, this.#clock));
      }
      const judged = declaration.abuser !== undefined ? samples.abuser : samples.probe;
      this.outcomes.push({ resolved, held: held(resolved, judged) });
    });

    for (const [flow, count] of this.#setupFailures) {
      notes.push(
        `flow ${flow}: ${count} requests went out without a session (its setup step failed)`,
      );
    }
    return { verifications, notes };
  }

  #at(index: number): string {
    return Array.isArray(this.#scenario.rateLimit) ? `.${index}` : '';
  }
}

function held(resolved: ResolvedLimit, judged: readonly LimitSample[]): boolean {
  for (const [, group] of groupByKey(judged)) {
    if (countWindows(group, rulesOf(resolved)).some((w) => w.leaks > 0)) return false;
  }
  return true;
}

/** A record as the verifier keeps it, keyed by what the declaration's limiter counts. */
function sampleOf(record: ResponseRecord, declaration: RateLimitDeclaration): LimitSample {
  const { identity } = record;
  let key: string;
  let keyLabel: string;
  switch (declaration.key) {
    case 'ip':
      key = identity.sourceAddress ?? 'default';
      keyLabel = identity.sourceAddress ?? 'the default local address';
      break;
    case 'session': {
      const session = identity.credentials?.session;
      key = session === undefined ? 'none' : `s:${session}`;
      keyLabel =
        session === undefined
          ? 'no session'
          : `session of ${record.flow} identity ${identity.index}`;
      break;
    }
    case 'key': {
      const value = identity.credentials?.key;
      key = value === undefined ? 'none' : `k:${value}`;
      keyLabel =
        value === undefined ? 'no key' : `key of ${record.flow} identity ${identity.index}`;
      break;
    }
  }
  return {
    flow: record.flow,
    status: record.status,
    intendedUs: record.intendedUs,
    startUs: record.startUs,
    headersUs: record.headersUs,
    endUs: record.endUs,
    firstContentUs: record.firstContentUs,
    headers: record.headers,
    key,
    keyLabel,
    identityIndex: identity.index,
    setupFailed: identity.credentials?.setupError !== undefined,
  };
}

/**
 * The declared limit and window, or what the target's headers say when one is left out:
 * the most common limit any form states, and the window a policy states, else the longest
 * reset or Retry-After seen (the first request of a fixed window sees the whole window).
 */
export function resolveLimit(
  declaration: RateLimitDeclaration,
  name: string,
  samples: readonly LimitSample[],
  clock: CheckClock,
): ResolvedLimit | { evidence: string[] } {
  if (declaration.limit !== undefined && declaration.window !== undefined) {
    return {
      declaration,
      name,
      limit: declaration.limit,
      windowMs: declaration.window,
      discovered: undefined,
    };
  }

  const limits = new Map<number, number>();
  const windows = new Map<number, number>();
  const forms = new Set<string>();
  let longestWaitS = 0;
  for (const sample of samples) {
    const nowMs = clock.wallMsAt(sample.headersUs);
    for (const reading of readRateLimitHeaders(sample.headers, nowMs)) {
      forms.add(RATE_LIMIT_FORMS[reading.form]);
      if (reading.limit !== undefined)
        limits.set(reading.limit, (limits.get(reading.limit) ?? 0) + 1);
      if (reading.windowS !== undefined)
        windows.set(reading.windowS, (windows.get(reading.windowS) ?? 0) + 1);
      if (reading.resetS !== undefined) longestWaitS = Math.max(longestWaitS, reading.resetS);
    }
    if (outcomeOf(sample) === 'limited') {
      const retry = readRetryAfter(sample.headers, nowMs);
      if (retry !== undefined && 'seconds' in retry)
        longestWaitS = Math.max(longestWaitS, retry.seconds);
    }
  }

  const limit = declaration.limit ?? mostCommon(limits);
  const policyWindowS = mostCommon(windows);
  const seenWindowS = policyWindowS ?? (longestWaitS > 0 ? longestWaitS : undefined);
  const windowMs =
    declaration.window ?? (seenWindowS === undefined ? undefined : seenWindowS * 1_000);
  if (limit === undefined || windowMs === undefined) {
    const missing = [limit === undefined ? 'limit' : '', windowMs === undefined ? 'window' : '']
      .filter(Boolean)
      .join(' and ');
    return {
      evidence: [
        `no ${missing} declared, and none discoverable from the target's headers ` +
          `(${forms.size === 0 ? 'no RateLimit headers seen' : `seen: ${[...forms].join(', ')}`})`,
        'declare rateLimit.limit and rateLimit.window, or have the target send RateLimit headers',
      ],
    };
  }
  const how = [
    declaration.limit === undefined ? 'the limit headers' : '',
    declaration.window === undefined
      ? policyWindowS !== undefined
        ? 'the policy window'
        : 'the longest reset seen'
      : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return { declaration, name, limit, windowMs, discovered: how };
}

function mostCommon(counts: Map<number, number>): number | undefined {
  let best: number | undefined;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}

const CANONICAL_HEADERS: Record<string, string> = {
  'x-forwarded-for': 'X-Forwarded-For',
  'x-real-ip': 'X-Real-IP',
  forwarded: 'Forwarded',
  'cf-connecting-ip': 'CF-Connecting-IP',
};

/**
 * What a probe rotates across its identities, besides the key the limit counts by: claimed
 * address headers, sessions, keys, or (for a session or key limit) real addresses.
 */
export function probeVector(flow: Flow, declaration: RateLimitDeclaration): ProbeVector {
  const ids = flow.identities;
  const shorts: string[] = [];
  const longs: string[] = [];
  if (ids.count > 1 && ids.claimedAddresses !== undefined) {
    const names = ids.claimedAddresses.headers;
    shorts.push(names.join('+'));
    longs.push(
      `${names.map((n) => CANONICAL_HEADERS[n] ?? n).join(' and ')} (${ids.count} claimed addresses)`,
    );
  }
  for (const kind of ['session', 'key'] as const) {
    const credential = ids[kind];
    if (ids.count <= 1 || credential === undefined || declaration.key === kind) continue;
    const where = placement(credential.in, credential.name);
    const distinct =
      credential.values === undefined ? ids.count : Math.min(ids.count, credential.values.length);
    shorts.push(`${kind} ${where}`);
    longs.push(`${distinct} ${kind}s (${where})`);
  }
  if (declaration.key !== 'ip' && Array.isArray(ids.sourceAddresses)) {
    const distinct = new Set(ids.sourceAddresses).size;
    if (distinct > 1) {
      shorts.push('source address');
      longs.push(`${distinct} real source addresses`);
    }
  } else if (declaration.key !== 'ip' && ids.sourceAddresses === 'loopback' && ids.count > 1) {
    shorts.push('source address');
    longs.push(`${ids.count} real source addresses`);
  }
  if (shorts.length === 0) {
    return {
      short: 'nothing',
      long: 'nothing (give the probe claimed addresses, sessions or keys over several identities)',
    };
  }
  return { short: shorts.join(', '), long: longs.join(' and ') };
}

function placement(
  where: 'header' | 'cookie' | 'bearer' | 'body',
  name: string | undefined,
): string {
  switch (where) {
    case 'header':
      return `header ${name}`;
    case 'cookie':
      return `cookie ${name}`;
    case 'bearer':
      return 'Authorization bearer token';
    case 'body':
      return `body field ${name}`;
  }
}

function unknownFlow(scenario: Scenario, flow: string, path: string): LaunchproofError {
  const names = scenario.flows.map((f) => f.name).join(', ');
  return new LaunchproofError(
    'LP_ERR_SCENARIO_INVALID',
    `${path}: expected the name of one of the scenario's flows (${names}), received "${flow}"`,
  );
}
