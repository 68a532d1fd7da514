import type { z } from 'zod';
import type { Flow, ResponseView } from '../scenario/schema.ts';

type Check = Flow['checks'][string];

/**
 * Evaluates one per-response check. A predicate that throws fails the check (as in k6), and a
 * declarative check passes only when every condition it names holds.
 */
export function evaluateCheck(check: Check, response: ResponseView): boolean {
  if (typeof check === 'function') {
    try {
      return check(response) === true;
    } catch {
      return false;
    }
  }

  if (check.status !== undefined) {
    const allowed = Array.isArray(check.status) ? check.status : [check.status];
    if (!allowed.includes(response.status)) return false;
  }
  if (check.header !== undefined) {
    const value = response.headers[check.header.name.toLowerCase()];
    if (value === undefined) return false;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (check.header.pattern !== undefined && !check.header.pattern.test(text)) return false;
  }
  if (check.body !== undefined) {
    let parsed: unknown;
    try {
      parsed = response.json();
    } catch {
      return false;
    }
    if (!(check.body as z.ZodType).safeParse(parsed).success) return false;
  }
  return true;
}
