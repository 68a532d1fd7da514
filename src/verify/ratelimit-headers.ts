/**
 * Reading the rate-limit headers a target sends, in every form in use:
 * - legacy `X-RateLimit-Limit`, `-Remaining`, `-Reset` (reset in seconds from now, or an epoch
 *   time in seconds or milliseconds, as GitHub and others send it);
 * - draft-6 of the IETF draft: `RateLimit-Limit`, `-Remaining`, `-Reset` (seconds from now),
 *   with `RateLimit-Policy: 100;w=60`;
 * - draft-7: one `RateLimit: limit=100, remaining=50, reset=30` dictionary, same policy;
 * - draft-8 and later (the current draft): structured-field lists,
 *   `RateLimit-Policy: "default";q=100;w=60` and `RateLimit: "default";r=50;t=30`.
 */

/** The forms, as evidence lines name them. */
export const RATE_LIMIT_FORMS = {
  legacy: 'X-RateLimit-*',
  'draft-6': 'RateLimit-Limit/-Remaining/-Reset (draft 6)',
  'draft-7': 'RateLimit dictionary (draft 7)',
  structured: 'RateLimit/RateLimit-Policy structured fields (draft 8+)',
} as const;

export type RateLimitForm = keyof typeof RATE_LIMIT_FORMS;

/** What one form of one response says. */
export interface RateLimitReading {
  form: RateLimitForm;
  limit: number | undefined;
  remaining: number | undefined;
  /** Seconds until the quota resets. */
  resetS: number | undefined;
  /** The window a policy names, in seconds. */
  windowS: number | undefined;
  /** Values that are malformed or contradict each other, in words. */
  problems: string[];
}

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** An epoch time in seconds is past this; a delta in seconds never is. */
const EPOCH_S_FLOOR = 1_000_000_000;
const EPOCH_MS_FLOOR = 1_000_000_000_000;

/**
 * Every rate-limit form present in `headers` (lower-case names, as undici gives them), each
 * checked on its own: limit a positive integer, remaining within 0..limit, reset not negative
 * and within the policy's window. `nowMs` turns an epoch reset into seconds from now.
 */
export function readRateLimitHeaders(headers: HeaderBag, nowMs: number): RateLimitReading[] {
  const readings: RateLimitReading[] = [];
  const legacy = readTriple(headers, 'x-ratelimit', 'legacy', nowMs, true);
  if (legacy !== undefined) readings.push(legacy);

  const policyText = header(headers, 'ratelimit-policy');
  const combined = header(headers, 'ratelimit');
  const draft6 = readTriple(headers, 'ratelimit', 'draft-6', nowMs, false);
  if (draft6 !== undefined) {
    if (policyText !== undefined) applyOldPolicy(draft6, policyText);
    readings.push(draft6);
  }
  if (combined !== undefined) {
    const reading =
      /^\s*[a-z*][a-z0-9_.*-]*\s*=/.test(combined) && !/^\s*"/.test(combined)
        ? readDraft7(combined)
        : readStructured(combined, policyText);
    if (reading.form === 'draft-7' && policyText !== undefined) applyOldPolicy(reading, policyText);
    readings.push(reading);
  }

  for (const reading of readings) checkReading(reading);
  crossCheck(readings);
  return readings;
}

/**
 * `Retry-After` in seconds: a delay in whole seconds, or an HTTP date (RFC 9110). Undefined
 * when absent; a problem when it is neither.
 */
export function readRetryAfter(
  headers: HeaderBag,
  nowMs: number,
): { seconds: number } | { problem: string } | undefined {
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return { seconds: Number(text) };
  const dateMs = Date.parse(text);
  if (!Number.isNaN(dateMs) && /[a-z]/i.test(text)) {
    return { seconds: Math.max(0, Math.round((dateMs - nowMs) / 1_000)) };
  }
  return { problem: `Retry-After "${text.slice(0, 40)}" is neither seconds nor an HTTP date` };
}

/** One header's value; repeated headers are joined as a list, as HTTP allows. */
export function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

function readTriple(
  headers: HeaderBag,
  prefix: string,
  form: 'legacy' | 'draft-6',
  nowMs: number,
  epochReset: boolean,
): RateLimitReading | undefined {
  const limitText = header(headers, `${prefix}-limit`);
  const remainingText = header(headers, `${prefix}-remaining`);
  const resetText = header(headers, `${prefix}-reset`);
  if (limitText === undefined && remainingText === undefined && resetText === undefined) {
    return undefined;
  }
  const reading = emptyReading(form);
  const name = form === 'legacy' ? 'X-RateLimit' : 'RateLimit';
  reading.limit = integerField(reading, `${name}-Limit`, firstListItem(limitText));
  reading.remaining = integerField(reading, `${name}-Remaining`, remainingText);
  const reset = integerField(reading, `${name}-Reset`, resetText);
  if (reset !== undefined && epochReset && reset >= EPOCH_S_FLOOR) {
    const resetMs = reset >= EPOCH_MS_FLOOR ? reset : reset * 1_000;
    reading.resetS = Math.max(0, Math.round((resetMs - nowMs) / 1_000));
  } else {
    reading.resetS = reset;
  }
  return reading;
}

/** Draft 6 allowed `RateLimit-Limit: 100, 100;w=60`: the first item is the limit. */
function firstListItem(text: string | undefined): string | undefined {
  return text?.split(',')[0]?.split(';')[0]?.trim();
}

function readDraft7(text: string): RateLimitReading {
  const reading = emptyReading('draft-7');
  const members = parseMembers(text);
  if (members === undefined) {
    reading.problems.push(`RateLimit "${text.slice(0, 60)}" is not a dictionary`);
    return reading;
  }
  const field = (key: string) => members.find((member) => member.key === key)?.value;
  reading.limit = integerValue(reading, 'RateLimit limit', field('limit'));
  reading.remaining = integerValue(reading, 'RateLimit remaining', field('remaining'));
  reading.resetS = integerValue(reading, 'RateLimit reset', field('reset'));
  return reading;
}

/**
 * Draft 8+: `RateLimit` lists one item per policy (`r` remaining, `t` seconds to reset);
 * `RateLimit-Policy` lists the policies (`q` quota, `w` window). The most restrictive item
 * (fewest remaining) is the one read, with the policy of the same name.
 */
function readStructured(text: string, policyText: string | undefined): RateLimitReading {
  const reading = emptyReading('structured');
  const items = parseMembers(text);
  if (items === undefined || items.length === 0) {
    reading.problems.push(`RateLimit "${text.slice(0, 60)}" is not a structured-field list`);
    return reading;
  }
  let chosen = items[0] as Member;
  for (const item of items) {
    const r = item.params.r;
    const best = chosen.params.r;
    if (typeof r === 'number' && (typeof best !== 'number' || r < best)) chosen = item;
  }
  reading.remaining = integerValue(reading, 'RateLimit r', chosen.params.r);
  reading.resetS = integerValue(reading, 'RateLimit t', chosen.params.t);

  if (policyText !== undefined) {
    const policies = parseMembers(policyText);
    if (policies === undefined) {
      reading.problems.push(`RateLimit-Policy "${policyText.slice(0, 60)}" is not a list`);
      return reading;
    }
    const policy = policies.find((p) => p.value === chosen.value) ?? policies[0];
    if (policy !== undefined) {
      reading.limit = integerValue(reading, 'RateLimit-Policy q', policy.params.q);
      reading.windowS = integerValue(reading, 'RateLimit-Policy w', policy.params.w);
    }
  }
  return reading;
}

/** `RateLimit-Policy: 100;w=60` (drafts 6 and 7): the window of the limit in force. */
function applyOldPolicy(reading: RateLimitReading, text: string): void {
  const policies = parseMembers(text);
  if (policies === undefined) {
    reading.problems.push(`RateLimit-Policy "${text.slice(0, 60)}" is not a list`);
    return;
  }
  const policy = policies.find((p) => p.value === reading.limit) ?? policies[0];
  const w = policy?.params.w;
  if (typeof w === 'number' && Number.isInteger(w) && w > 0) reading.windowS = w;
  else if (w !== undefined)
    reading.problems.push(`RateLimit-Policy window w=${String(w)} is not a positive integer`);
}

function checkReading(reading: RateLimitReading): void {
  const { limit, remaining, resetS, windowS } = reading;
  const name = RATE_LIMIT_FORMS[reading.form];
  if (limit !== undefined && limit <= 0)
    reading.problems.push(`${name}: limit ${limit} is not positive`);
  if (remaining !== undefined && remaining < 0) {
    reading.problems.push(`${name}: remaining ${remaining} is negative`);
  }
  if (limit !== undefined && remaining !== undefined && remaining > limit) {
    reading.problems.push(`${name}: remaining ${remaining} exceeds the limit ${limit}`);
  }
  if (resetS !== undefined && windowS !== undefined && resetS > windowS + 1) {
    reading.problems.push(`${name}: reset in ${resetS} s is past the ${windowS} s window`);
  }
}

/** Two forms on one response must say the same thing. */
function crossCheck(readings: RateLimitReading[]): void {
  for (let i = 1; i < readings.length; i++) {
    const a = readings[0] as RateLimitReading;
    const b = readings[i] as RateLimitReading;
    for (const field of ['limit', 'remaining'] as const) {
      const x = a[field];
      const y = b[field];
      if (x !== undefined && y !== undefined && x !== y) {
        b.problems.push(
          `${RATE_LIMIT_FORMS[b.form]} says ${field} ${y}, ${RATE_LIMIT_FORMS[a.form]} says ${x}`,
        );
      }
    }
  }
}

function emptyReading(form: RateLimitForm): RateLimitReading {
  return {
    form,
    limit: undefined,
    remaining: undefined,
    resetS: undefined,
    windowS: undefined,
    problems: [],
  };
}

function integerField(
  reading: RateLimitReading,
  name: string,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  reading.problems.push(`${name} "${trimmed.slice(0, 40)}" is not an integer`);
  return undefined;
}

function integerValue(reading: RateLimitReading, name: string, value: BareItem | undefined) {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  reading.problems.push(`${name} ${JSON.stringify(value)} is not an integer`);
  return undefined;
}

type BareItem = string | number | boolean;

/** A list member `item;k=v` or a dictionary member `key=item;k=v` (RFC 8941, no inner lists). */
interface Member {
  key: string | undefined;
  value: BareItem;
  params: Record<string, BareItem>;
}

const KEY = /^[a-z*][a-z0-9_.*-]*/;
const TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*/;
const NUMBER = /^-?\d{1,15}(\.\d{1,3})?/;

/**
 * Parses a structured-field list or dictionary (RFC 8941) leniently: members separated by
 * commas, each an optional `key=`, a bare item, and `;key=value` parameters. Returns
 * undefined when the text does not parse.
 */
function parseMembers(text: string): Member[] | undefined {
  const members: Member[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    let key: string | undefined;
    const keyMatch = KEY.exec(rest);
    if (keyMatch !== null && rest[keyMatch[0].length] === '=') {
      key = keyMatch[0];
      rest = rest.slice(key.length + 1);
    }
    let value: BareItem = true;
    if (key === undefined || !rest.startsWith(';')) {
      const item = parseBareItem(rest);
      if (item === undefined) {
        if (key === undefined) return undefined;
      } else {
        value = item.value;
        rest = item.rest;
      }
    }
    const params: Record<string, BareItem> = {};
    while (rest.startsWith(';')) {
      rest = rest.slice(1).trimStart();
      const paramKey = KEY.exec(rest)?.[0];
      if (paramKey === undefined) return undefined;
      rest = rest.slice(paramKey.length);
      let paramValue: BareItem = true;
      if (rest.startsWith('=')) {
        const item = parseBareItem(rest.slice(1));
        if (item === undefined) return undefined;
        paramValue = item.value;
        rest = item.rest;
      }
      params[paramKey] = paramValue;
    }
    members.push({ key, value, params });
    rest = rest.trimStart();
    if (rest.length === 0) break;
    if (!rest.startsWith(',')) return undefined;
    rest = rest.slice(1).trimStart();
  }
  return members;
}

function parseBareItem(text: string): { value: BareItem; rest: string } | undefined {
  if (text.startsWith('"')) {
    let out = '';
    for (let i = 1; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (ch === '"') {
        return { value: out, rest: text.slice(i + 1) };
      } else {
        out += ch;
      }
    }
    return undefined;
  }
  if (text.startsWith(':')) {
    const end = text.indexOf(':', 1);
    return end < 0 ? undefined : { value: text.slice(1, end), rest: text.slice(end + 1) };
  }
  if (text.startsWith('?1') || text.startsWith('?0')) {
    return { value: text[1] === '1', rest: text.slice(2) };
  }
  const number = NUMBER.exec(text);
  if (number !== null) return { value: Number(number[0]), rest: text.slice(number[0].length) };
  const token = TOKEN.exec(text);
  if (token !== null) return { value: token[0], rest: text.slice(token[0].length) };
  return undefined;
}
