import { z } from 'zod';
import { LaunchproofError } from '../errors.ts';
import { parseDurationMs } from '../util/duration.ts';
import { parseGoFloat } from './go-float.ts';

/**
 * The comparison of a threshold. k6 also accepts `===`, which means the same as `==` on
 * numbers; it parses to `'=='` (the expression keeps the text as written).
 */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** What a threshold reads from its metric: a statistic of a trend, a counter, rate or gauge. */
export type ThresholdAggregation =
  | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' }
  | { kind: 'percentile'; p: number };

/** One threshold expression of a thresholds record, parsed and checked against k6's grammar. */
export interface ParsedThreshold {
  /** The metric key normalised: `name`, or `name{tag:value,...}` without spaces or quotes. */
  metric: string;
  /** The metric name without its sub-metric tags. */
  metricName: string;
  /** The sub-metric's tags, in the order written (a repeated tag keeps its last value). */
  tags: Record<string, string>;
  /** The expression as written, trimmed (`'p(95)<500'`). */
  expression: string;
  aggregation: ThresholdAggregation;
  operator: ThresholdOperator;
  limit: number;
  /** Stop the run as soon as this threshold fails (after `delayAbortEvalMs`). */
  abortOnFail: boolean;
  /** How long into the run a failure of this threshold may not yet abort it; 0 when unset. */
  delayAbortEvalMs: number;
}

const EXPECTED_LONG_KEYS = 'expected threshold, abortOnFail or delayAbortEval';

const longFormSchema = z.strictObject(
  {
    threshold: z.string({ error: 'expected a threshold expression such as "p(95)<500"' }),
    abortOnFail: z.boolean({ error: 'expected true or false' }).optional(),
    delayAbortEval: z
      .union([z.string(), z.number()], { error: "expected a duration such as '30s'" })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')}: ${EXPECTED_LONG_KEYS}`
        : undefined,
  },
);

const entrySchema = z.union([z.string(), longFormSchema], {
  error: 'expected a threshold expression string or { threshold, abortOnFail, delayAbortEval }',
});

const shapeSchema = z.record(
  z.string(),
  z.array(entrySchema, { error: 'expected an array of threshold expressions' }),
  { error: 'expected an object of metric names to arrays of threshold expressions' },
);

/**
 * The thresholds record exactly as k6's `options.thresholds` takes it: metric (or sub-metric)
 * key to an array of expressions, each a string or `{ threshold, abortOnFail, delayAbortEval }`.
 * Embeddable in the scenario schema: besides the shape it checks every key and expression
 * against the grammar, reporting each problem at its path (`["latency", 0]`) with the
 * offending text as the issue's input.
 */
export const thresholdsInputSchema = shapeSchema.superRefine((input, ctx) => {
  for (const problem of collectThresholds(input).problems) {
    ctx.addIssue({
      code: 'custom',
      path: problem.path,
      message: problem.message,
      input: problem.received,
    });
  }
});

/** A thresholds record as scenarios write it. */
export type ThresholdsInput = z.infer<typeof thresholdsInputSchema>;

/** A sub-metric key split into its name and tags. */
export interface MetricKey {
  /** The key normalised: `name` or `name{tag:value,...}`. */
  metric: string;
  metricName: string;
  tags: Record<string, string>;
}

/**
 * Parses a thresholds record (checked for shape first, since it may come from a file) into
 * one `ParsedThreshold` per expression, in the order written. Every problem is collected
 * before it throws LP_ERR_THRESHOLD_INVALID: the message names the first, `details` all.
 */
export function parseThresholds(input: unknown): ParsedThreshold[] {
  const shape = shapeSchema.safeParse(input, { reportInput: true });
  if (shape.success) {
    const { parsed, problems } = collectThresholds(shape.data);
    if (problems.length > 0) throw invalid(problems.map(formatProblem));
    return parsed;
  }

  // Report the grammar problems of the well-formed entries too, each in its place.
  const shapeProblems = shape.error.issues.map((issue) => ({
    path: issue.path,
    line: formatZodIssue(issue),
  }));
  const grammarProblems = isRecord(input)
    ? collectThresholds(input).problems.map((problem) => ({
        path: problem.path,
        line: formatProblem(problem),
      }))
    : [];
  const keys = isRecord(input) ? Object.keys(input) : [];
  const order = (path: readonly PropertyKey[]) => {
    const entry = path[1];
    return keys.indexOf(String(path[0])) * 1e9 + (typeof entry === 'number' ? entry + 1 : 0);
  };
  const all = [...shapeProblems, ...grammarProblems].sort((a, b) => order(a.path) - order(b.path));
  throw invalid(all.map((problem) => problem.line));
}

/**
 * Parses a metric key the way k6 does (`ParseMetricName`, then `AddSubmetric`):
 * 1. No brace at all: the whole key is the metric name.
 * 2. Otherwise the key must hold a `{` and end with its last `}`; the name is what comes
 *    before the first `{`, the tags are what lies between it and the last `}`.
 * 3. Tags split on `,`; each needs a `:` with text after it. Key and value are trimmed of
 *    spaces, then of surrounding `"` and `'`; the value may itself hold `:` or braces.
 * 4. The name must be a valid k6 metric name (`^[a-zA-Z_][a-zA-Z0-9_]{1,128}$`).
 * Stricter than k6 in one way: an empty tag key or value (`{a: }`, `{:b}`) is refused, since
 * it would match no tag a sample carries. Throws LP_ERR_THRESHOLD_INVALID.
 */
export function parseMetricKey(key: string): MetricKey {
  const result = readMetricKey(key);
  if ('problem' in result) throw invalid([formatProblem({ path: [key], ...result.problem })]);
  return result;
}

// --- internals -------------------------------------------------------------------------------

interface Problem {
  path: (string | number)[];
  message: string;
  /** The text at fault, shown as "received …". */
  received: string;
}

type Outcome<T> = T | { problem: Omit<Problem, 'path'> };

/** k6 scans for operators in this order, so the longer of two sharing a prefix wins. */
const OPERATOR_TOKENS = ['<=', '<', '>=', '>', '===', '==', '!='] as const;

type PlainAggregation = Exclude<ThresholdAggregation['kind'], 'percentile'>;
const PLAIN_AGGREGATIONS: ReadonlySet<string> = new Set<PlainAggregation>([
  'avg',
  'min',
  'max',
  'med',
  'count',
  'rate',
  'value',
]);

/** k6's metric name rule (`metrics/registry.go`). */
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{1,128}$/;
const SURROUNDING_QUOTES = /^["']+|["']+$/g;

const EXPECTED_AGGREGATION =
  'expected an aggregation such as avg, min, max, med, p(95), count, rate or value';
const EXPECTED_OPERATOR = 'expected an operator <, <=, >, >=, == or != before the number';
const HINT =
  "write thresholds as k6 does: { latency: ['p(95)<500'] }, { 'name{tag:value}': [...] }";
const EXPECTED_EXPRESSION = 'expected aggregation, operator and number, such as "p(95)<500"';
const EXPECTED_SUBMETRIC = 'expected name or name{tag:value,...}';
const EXPECTED_NAME =
  'expected a metric name of 2 to 129 ASCII letters, digits or underscores, ' +
  'not starting with a digit';

function collectThresholds(input: Record<string, unknown>): {
  parsed: ParsedThreshold[];
  problems: Problem[];
} {
  const parsed: ParsedThreshold[] = [];
  const problems: Problem[] = [];

  for (const [key, entries] of Object.entries(input)) {
    const metricKey = readMetricKey(key);
    if ('problem' in metricKey) problems.push({ path: [key], ...metricKey.problem });
    if (!Array.isArray(entries)) continue;

    entries.forEach((entry: unknown, index) => {
      const threshold = readEntry(entry);
      if (threshold === undefined) return; // a shape problem, reported by the schema
      const path = [key, index];

      const expression = readExpression(threshold.text);
      if ('problem' in expression) problems.push({ path, ...expression.problem });

      let delayAbortEvalMs = 0;
      if (threshold.delayAbortEval !== undefined) {
        try {
          delayAbortEvalMs = parseDurationMs(threshold.delayAbortEval);
        } catch {
          problems.push({
            path: [...path, 'delayAbortEval'],
            message: "invalid delayAbortEval: expected a duration such as '10s' or '1m30s'",
            received: String(threshold.delayAbortEval),
          });
        }
      }

      if ('problem' in metricKey || 'problem' in expression) return;
      parsed.push({
        ...metricKey,
        expression: threshold.text.trim(),
        ...expression,
        abortOnFail: threshold.abortOnFail,
        delayAbortEvalMs,
      });
    });
  }

  return { parsed, problems };
}

function readEntry(
  entry: unknown,
): { text: string; abortOnFail: boolean; delayAbortEval?: string | number } | undefined {
  if (typeof entry === 'string') return { text: entry, abortOnFail: false };
  const long = longFormSchema.safeParse(entry);
  if (!long.success) return undefined;
  return {
    text: long.data.threshold,
    abortOnFail: long.data.abortOnFail ?? false,
    delayAbortEval: long.data.delayAbortEval,
  };
}

function readMetricKey(key: string): Outcome<MetricKey> {
  const open = key.indexOf('{');
  const close = key.lastIndexOf('}');
  const fail = (why: string, received = key) => ({
    problem: { message: `invalid metric: ${EXPECTED_SUBMETRIC}, but ${why}`, received },
  });

  if (open === -1 && close === -1) return checkName(key, {});
  if (open === -1) return fail('"}" has no opening "{"');
  if (close === -1) return fail('"{" is not closed by "}"');
  if (close < open) return fail('"}" comes before "{"');
  if (close !== key.length - 1) return fail('text follows the closing "}"');

  const inner = key.slice(open + 1, close);
  if (inner.trim() === '') return fail('the braces hold no tag');
  const tags: Record<string, string> = {};
  for (const part of inner.split(',')) {
    const colon = part.indexOf(':');
    if (colon === -1 || colon === part.length - 1) {
      return fail(part === '' ? 'a tag is missing between commas' : 'a tag has no ":value"', part);
    }
    const tagKey = unquote(part.slice(0, colon));
    const tagValue = unquote(part.slice(colon + 1));
    if (tagKey === '') return fail('a tag has an empty key', part);
    if (tagValue === '') return fail('a tag has an empty value', part);
    tags[tagKey] = tagValue;
  }
  return checkName(key.slice(0, open), tags);
}

function checkName(metricName: string, tags: Record<string, string>): Outcome<MetricKey> {
  if (!METRIC_NAME.test(metricName)) {
    return {
      problem: { message: `invalid metric name: ${EXPECTED_NAME}`, received: metricName },
    };
  }
  const entries = Object.entries(tags);
  const metric =
    entries.length === 0
      ? metricName
      : `${metricName}{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`;
  return { metric, metricName, tags };
}

/** As k6: `strings.Trim(strings.TrimSpace(s), "\"'")`. */
function unquote(text: string): string {
  return text.trim().replace(SURROUNDING_QUOTES, '');
}

/**
 * Parses `aggregation operator number` as k6's `parseThresholdExpression` does:
 * 1. Split at the first operator found, trying them in k6's order; trim both sides.
 * 2. The left side is one of k6's aggregation words, or `p(N)` with N a number.
 * 3. The right side is a number as Go's `strconv.ParseFloat` reads it.
 * Stricter than k6 where k6 would go wrong later: a bare `p` (k6 reads it as p(0)), a
 * percentile outside 0 to 100 (k6 panics on it), and a limit that is not finite.
 */
function readExpression(
  text: string,
): Outcome<Pick<ParsedThreshold, 'aggregation' | 'operator' | 'limit'>> {
  const expression = text.trim();
  const fail = (expected: string, received: string) => ({
    problem: { message: `invalid threshold "${expression}": ${expected}`, received },
  });

  if (expression === '') return fail(EXPECTED_EXPRESSION, text);
  const token = OPERATOR_TOKENS.find((op) => text.includes(op));
  if (token === undefined) return fail(EXPECTED_OPERATOR, expression);
  const at = text.indexOf(token);
  const left = text.slice(0, at).trim();
  const right = text.slice(at + token.length).trim();

  let aggregation: ThresholdAggregation;
  if (isPlainAggregation(left)) {
    aggregation = { kind: left };
  } else if (left.startsWith('p(') && left.endsWith(')')) {
    const p = parseGoFloat(left.slice(2, -1));
    if (p === undefined || !(p >= 0 && p <= 100)) {
      return fail('expected a percentile from p(0) to p(100), such as p(95) or p(99.9)', left);
    }
    aggregation = { kind: 'percentile', p };
  } else {
    return fail(EXPECTED_AGGREGATION, left);
  }

  const limit = parseGoFloat(right);
  if (limit === undefined) return fail(`expected a number after "${token}"`, right);
  if (!Number.isFinite(limit)) return fail(`expected a finite number after "${token}"`, right);

  return { aggregation, operator: token === '===' ? '==' : token, limit };
}

function isPlainAggregation(text: string): text is PlainAggregation {
  return PLAIN_AGGREGATIONS.has(text);
}

function formatProblem(problem: Problem): string {
  const received = JSON.stringify(problem.received);
  return `${formatPath(problem.path)}: ${problem.message}, received ${received}`;
}

function formatZodIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys' || !('input' in issue)) return `${path}: ${issue.message}`;
  return `${path}: ${issue.message}, received ${describeValue(issue.input)}`;
}

/** `thresholds["latency"][0].delayAbortEval`: metric keys always bracketed, they hold braces. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = 'thresholds';
  path.forEach((key, index) => {
    if (typeof key === 'number') out += `[${key}]`;
    else if (index === 0) out += `[${JSON.stringify(String(key))}]`;
    else out += `.${String(key)}`;
  });
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function invalid(lines: string[]): LaunchproofError {
  const first = lines[0] ?? 'thresholds: invalid';
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : '';
  return new LaunchproofError('LP_ERR_THRESHOLD_INVALID', `${first}${more}`, {
    details: lines,
    hint: HINT,
  });
}
