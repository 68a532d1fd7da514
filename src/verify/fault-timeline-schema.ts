import { z } from 'zod';
import { type FaultRule, faultRuleSchema } from '../provider/fault-rules.ts';
import { isDuration, parseDurationMs } from '../util/duration.ts';

// Durations are parsed here rather than with the scenario schema's own, which imports this
// file: the two modules would otherwise need each other while they load.
const duration = z
  .union([z.string(), z.number()])
  .refine(isDuration, { message: "expected a duration such as '500ms', '30s' or '2m'" })
  .transform((value) => parseDurationMs(value));

const TAG_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Faults that break an answer after it started streaming (the rest replace it or slow it). */
export const MID_STREAM_KINDS: ReadonlySet<FaultRule['kind']> = new Set([
  'stall',
  'error-event',
  'truncate',
  'reset',
]);

const windowSchema = z
  .strictObject({
    /**
     * The window's name: the value of the `fault` tag on every metric of requests sent around
     * it (`latency{fault:provider-timeout,phase:during}`). Defaults to the first rule's kind.
     */
    name: z.string().regex(TAG_VALUE, { message: 'expected letters, digits, _ . or -' }).optional(),
    /** When the fault starts, from the run's start. */
    at: duration,
    /** How long it stays in force. */
    for: duration.refine((ms) => ms > 0, { message: 'expected a duration longer than 0s' }),
    /** The provider fault (or several at once), as the mock provider's control API takes it. */
    fault: z.union([faultRuleSchema, z.array(faultRuleSchema).min(1)]),
    /**
     * Share of provider calls the fault applies to, 0..1, set on every rule of the window
     * (which then may not give its own `fraction`).
     */
    fraction: z.number().min(0).max(1).optional(),
  })
  .superRefine((window, ctx) => {
    if (window.fraction === undefined) return;
    const rules = Array.isArray(window.fault) ? window.fault : [window.fault];
    if (rules.some((rule) => rule.fraction !== 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['fraction'],
        message: 'expected the fraction once: on the window or on its rules, not both',
      });
    }
  });

/**
 * A scenario's fault timeline: provider faults applied at `at` and cleared after `for`,
 * through the mock provider's control API. Windows may not overlap (one window can carry
 * several rules instead); names are unique, and a missing name becomes the first rule's kind
 * (`hang`, `hang-2`, …).
 */
export const faultTimelineSchema = z
  .array(windowSchema)
  .superRefine((windows, ctx) => {
    const order = windows
      .map((window, i) => ({ window, i }))
      .sort((a, b) => a.window.at - b.window.at);
    for (let k = 1; k < order.length; k++) {
      const previous = order[k - 1] as (typeof order)[number];
      const current = order[k] as (typeof order)[number];
      const previousEndMs = previous.window.at + previous.window.for;
      if (current.window.at < previousEndMs) {
        ctx.addIssue({
          code: 'custom',
          path: [current.i, 'at'],
          message:
            `expected a start at or after ${previousEndMs} ms, when window ${previous.i} ends ` +
            `(windows may not overlap; put several rules in one window instead)`,
        });
      }
    }
    const seen = new Set<string>();
    windows.forEach((window, i) => {
      if (window.name === undefined) return;
      if (seen.has(window.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `expected a unique name, received "${window.name}" again`,
        });
      }
      seen.add(window.name);
    });
  })
  .transform((windows) => {
    const taken = new Set(windows.flatMap((window) => (window.name ? [window.name] : [])));
    return windows
      .map((window) => {
        const given = Array.isArray(window.fault) ? window.fault : [window.fault];
        const rules: FaultRule[] = given.map((rule) =>
          window.fraction === undefined ? rule : { ...rule, fraction: window.fraction },
        );
        return {
          name: window.name ?? freeName((rules[0] as FaultRule).kind, taken),
          atMs: window.at,
          forMs: window.for,
          rules,
        };
      })
      .sort((a, b) => a.atMs - b.atMs);
  });

/** One window of a timeline, validated: its rules carry their fractions. */
export type FaultWindowSpec = z.output<typeof faultTimelineSchema>[number];

/** A timeline as a scenario writes it. */
export type FaultTimelineInput = z.input<typeof faultTimelineSchema>;

/** `kind`, or `kind-2`, `kind-3`, … when that name is already taken. */
function freeName(kind: string, taken: Set<string>): string {
  let name = kind;
  for (let n = 2; taken.has(name); n++) name = `${kind}-${n}`;
  taken.add(name);
  return name;
}

/** One line for a window's rules: `hang (all calls)`, `server-error 503 (50% of calls)`. */
export function describeRules(rules: readonly FaultRule[]): string {
  return rules
    .map((rule) => {
      const share = rule.fraction === 1 ? 'all calls' : `${round(rule.fraction * 100)}% of calls`;
      return `${rule.kind}${ruleDetail(rule)} (${share})`;
    })
    .join(' + ');
}

function ruleDetail(rule: FaultRule): string {
  switch (rule.kind) {
    case 'server-error':
      return ` ${rule.status}`;
    case 'rate-limit':
      return ` retry-after ${rule.retryAfterS} s`;
    case 'latency':
    case 'slow-first-token':
      return ` ${rule.delayMs} ms`;
    case 'slow-tokens':
      return ` ${rule.tokensPerSec} tokens/s`;
    case 'hang-then-close':
      return ` ${rule.afterMs} ms`;
    case 'stall':
    case 'error-event':
    case 'truncate':
    case 'reset':
      return ` after ${rule.afterTokens} tokens`;
    case 'hang':
      return '';
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
