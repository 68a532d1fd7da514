import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LaunchproofError } from '../errors.ts';
import { formatIssue } from '../scenario/format-issues.ts';

/**
 * One command-line option. The same definition validates the value (`schema`) and renders
 * `--help` (description, unit, default), so the two never drift apart.
 */
export interface OptionDef<T = unknown> {
  /** `boolean` flags take no value; `string` flags take one (or several when `multiple`). */
  kind: 'string' | 'boolean';
  description: string;
  schema: z.ZodType<T>;
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in help, such as `URL` or `N`. */
  valueName?: string;
  /** The unit of the value, spelled out in help (`requests/s`, `ms`). */
  unit?: string;
  /** The default as help shows it; absent means "none". */
  defaultText?: string;
}

export type OptionDefs = Record<string, OptionDef>;

export type ParsedOptions<D extends OptionDefs> = {
  [K in keyof D]: D[K] extends OptionDef<infer T> ? T : never;
};

export interface ParsedArgs<D extends OptionDefs> {
  options: ParsedOptions<D>;
  positionals: string[];
}

/** Builds a string option. */
export function stringOption<T>(def: Omit<OptionDef<T>, 'kind'>): OptionDef<T> {
  return { kind: 'string', ...def };
}

/**
 * A number given on the command line: the text must be a plain decimal number, so that
 * `--rate fast` is refused by name rather than read as NaN.
 */
export function numberText(what: 'a number' | 'a whole number') {
  const pattern = what === 'a whole number' ? /^\d+$/ : /^-?\d+(\.\d+)?$/;
  return z
    .string()
    .refine((text) => pattern.test(text.trim()), {
      error: (issue) => `expected ${what}, received ${JSON.stringify(issue.input)}`,
    })
    .transform((text) => Number(text));
}

/** Builds a boolean flag (absent means false). */
export function flagOption(description: string, short?: string): OptionDef<boolean> {
  return {
    kind: 'boolean',
    description,
    schema: z.boolean().default(false),
    ...(short ? { short } : {}),
    defaultText: 'off',
  };
}

/**
 * Parses argv against the definitions: unknown flags, missing values and invalid values are
 * LP_ERR_USAGE errors that name the flag, what was expected and what was received.
 */
export function parseOptions<D extends OptionDefs>(
  command: string,
  argv: readonly string[],
  defs: D,
): ParsedArgs<D> {
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> =
    {};
  for (const [name, def] of Object.entries(defs)) {
    config[name] = {
      type: def.kind,
      ...(def.multiple ? { multiple: true } : {}),
      ...(def.short ? { short: def.short } : {}),
    };
  }

  let raw: ReturnType<typeof parseArgs>;
  try {
    raw = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw new LaunchproofError('LP_ERR_USAGE', describeParseError(error), {
      hint: `see launchproof ${command} --help`,
    });
  }

  const problems: string[] = [];
  const options: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(defs)) {
    const result = def.schema.safeParse(raw.values[name], { reportInput: true });
    if (result.success) {
      options[name] = result.data;
      continue;
    }
    for (const issue of result.error.issues) problems.push(formatIssue(issue, `--${name}`));
  }
  if (problems.length > 0) {
    throw new LaunchproofError('LP_ERR_USAGE', problems[0] as string, {
      details: problems.slice(1),
      hint: `see launchproof ${command} --help`,
    });
  }

  return { options: options as ParsedOptions<D>, positionals: raw.positionals };
}

/** Renders the options table of `--help`, one option a line group, wrapped near 90 columns. */
export function renderOptionsHelp(defs: OptionDefs): string {
  const rows = Object.entries(defs).map(([name, def]) => {
    const flag = `${def.short ? `-${def.short}, ` : '    '}--${name}`;
    const value = def.kind === 'string' ? ` ${def.valueName ?? 'VALUE'}` : '';
    const facts = [
      def.unit ? `unit: ${def.unit}` : undefined,
      `default: ${def.defaultText ?? 'none'}`,
      def.multiple ? 'repeatable' : undefined,
    ].filter((fact) => fact !== undefined);
    return { left: `  ${flag}${value}`, right: `${def.description} (${facts.join('; ')})` };
  });
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  return rows.map((row) => wrapRow(row.left.padEnd(width), row.right, width)).join('\n');
}

function wrapRow(left: string, text: string, indent: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && indent + line.length + word.length + 1 > 92) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((text, i) => (i === 0 ? left : ' '.repeat(indent)) + text).join('\n');
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^']+)' argument missing/.exec(message);
  if (missing) return `option ${missing[1]?.split(',').pop()?.trim()} needs a value`;
  return message.split('. ')[0] ?? message;
}
