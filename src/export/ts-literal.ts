/** Values written as TypeScript source for the exported scripts. */

/**
 * A value as TypeScript literal source: strings in single quotes, keys quoted only when they
 * must be, and arrays or objects of a few plain values on one line.
 */
export function literal(value: unknown, indent: number): string {
  const inline = inlineLiteral(value);
  if (inline !== undefined && inline.length <= 72) return inline;

  const pad = '  '.repeat(indent + 1);
  const end = '  '.repeat(indent);
  if (Array.isArray(value)) {
    return `[\n${value.map((item) => `${pad}${literal(item, indent + 1)},`).join('\n')}\n${end}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    const rows = entries.map(
      ([key, item]) => `${pad}${propertyKey(key)}: ${literal(item, indent + 1)},`,
    );
    return `{\n${rows.join('\n')}\n${end}}`;
  }
  return inline ?? 'undefined';
}

/** The one-line form of a value, when it holds no object nested in an object. */
function inlineLiteral(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return quote(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (depth > 1) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => inlineLiteral(item, depth + 1));
    if (items.some((item) => item === undefined)) return undefined;
    return `[${items.join(', ')}]`;
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  if (entries.length === 0) return '{}';
  const parts: string[] = [];
  for (const [key, item] of entries) {
    if (typeof item === 'object' && item !== null) return undefined;
    parts.push(`${propertyKey(key)}: ${inlineLiteral(item, depth + 1)}`);
  }
  return `{ ${parts.join(', ')} }`;
}

/** A string as a single-quoted literal (JSON's escapes, which TypeScript reads the same). */
export function quote(text: string): string {
  const json = JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}'`;
}

function propertyKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : quote(key);
}
