import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/**
 * Formats one zod issue as `path: expected …, received …`, with the path written the way a
 * user reads their scenario (`flows[1].load.rate`). `root` prefixes every path.
 */
export function formatIssue(issue: Issue, root = ''): string {
  const path = formatPath(root, issue.path);
  return `${path === '' ? '(scenario)' : path}: ${describe(issue)}`;
}

/** Formats every issue of a zod error, one line each. */
export function formatIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => formatIssue(issue, root));
}

export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key))
      out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function describe(issue: Issue): string {
  const received = 'input' in issue ? receivedText(issue.input) : undefined;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, received ${received ?? 'nothing'}`;
    case 'too_small':
      return `expected ${smallText(issue)}, received ${received ?? 'less'}`;
    case 'too_big':
      return `expected ${bigText(issue)}, received ${received ?? 'more'}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, received ${received}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      return issue.message.startsWith('Invalid')
        ? `expected a valid value, received ${received}`
        : issue.message;
    default:
      return received === undefined ? issue.message : `${issue.message}, received ${received}`;
  }
}

function smallText(issue: Extract<Issue, { code: 'too_small' }>): string {
  if (issue.origin === 'array') return `at least ${issue.minimum} item(s)`;
  if (issue.origin === 'string') return `at least ${issue.minimum} character(s)`;
  if (issue.minimum === 0 && !issue.inclusive) return 'a positive number';
  return `a number ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
}

function bigText(issue: Extract<Issue, { code: 'too_big' }>): string {
  if (issue.origin === 'array') return `at most ${issue.maximum} item(s)`;
  if (issue.origin === 'string') return `at most ${issue.maximum} character(s)`;
  return `a number ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
}

function receivedText(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (typeof input === 'string') return JSON.stringify(input);
  if (typeof input === 'function') return 'a function';
  if (Array.isArray(input)) return 'an array';
  if (input === null) return 'null';
  if (typeof input === 'object') return 'an object';
  return String(input);
}
