/**
 * Carries a scenario's function (a check predicate, a custom stream format) into a k6 script
 * as source text. A function cannot be serialised in general: it may close over variables of
 * the scenario file, which the script does not have. So the text is accepted only when a
 * conservative scan proves it self-contained, and every refusal says why.
 */

/** A function's source made fit for the k6 script, or the reason it cannot be. */
export type FunctionTranslation = { ok: true; source: string } | { ok: false; reason: string };

export interface TranslateOptions {
  /** The properties of the function's one parameter it may read (`status`, `body`, …). */
  allowedProperties: readonly string[];
}

type TokenKind = 'ident' | 'punct' | 'string' | 'template' | 'number' | 'regex';

interface Token {
  kind: TokenKind;
  value: string;
  start: number;
  end: number;
}

/** What a self-contained function may name besides its own parameter and locals. */
const GLOBALS: ReadonlySet<string> = new Set([
  'JSON',
  'Math',
  'Number',
  'String',
  'Boolean',
  'Array',
  'Object',
  'RegExp',
  'Date',
  'Error',
  'SyntaxError',
  'TypeError',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'encodeURIComponent',
  'decodeURIComponent',
  'undefined',
  'NaN',
  'Infinity',
]);

const KEYWORDS: ReadonlySet<string> = new Set([
  'return',
  'if',
  'else',
  'const',
  'let',
  'var',
  'typeof',
  'instanceof',
  'in',
  'of',
  'for',
  'while',
  'do',
  'break',
  'continue',
  'true',
  'false',
  'null',
  'void',
  'new',
  'switch',
  'case',
  'default',
  'try',
  'catch',
  'finally',
  'throw',
  'delete',
]);

/** Words whose presence means the text reaches outside itself, or is too dynamic to vet. */
const REFUSED: ReadonlySet<string> = new Set([
  'function',
  'class',
  'this',
  'arguments',
  'eval',
  'import',
  'await',
  'async',
  'yield',
  'super',
  'with',
  'require',
  'globalThis',
  'process',
  '__name',
]);

/** After these a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORDS: ReadonlySet<string> = new Set([
  'return',
  'typeof',
  'case',
  'in',
  'of',
  'delete',
  'void',
  'throw',
  'new',
  'else',
  'do',
]);

const PUNCTUATORS = [
  '>>>=',
  '...',
  '===',
  '!==',
  '**=',
  '<<=',
  '>>=',
  '>>>',
  '&&=',
  '||=',
  '??=',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '??',
  '?.',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '<<',
  '>>',
] as const;

/**
 * Translates `fn` (one parameter at most) into source text for the k6 script:
 * 1. tokenise `fn.toString()` (what tsx compiled: JavaScript, types already stripped);
 * 2. read its head: an arrow function, a function expression or a method shorthand;
 * 3. collect the names the body declares (`const`/`let`/`var`, arrow parameters, `catch`);
 * 4. refuse any other free name but a few pure globals, and any use of the parameter other
 *    than reading one of `allowedProperties` (`r.status`, `r.json()`);
 * 5. write it out as a function expression, nested arrow parameters annotated `any` so the
 *    script passes `tsc --strict` (the outer parameter is typed where the script uses it).
 */
export function translateFunction(
  fn: (...args: never[]) => unknown,
  options: TranslateOptions,
): FunctionTranslation {
  const text = Function.prototype.toString.call(fn);
  if (text.includes('[native code]')) return refuse('it is a native or bound function');

  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (error) {
    return refuse(error instanceof Error ? error.message : String(error));
  }

  const head = readHead(tokens);
  if ('reason' in head) return refuse(head.reason);

  const body = tokens.slice(head.bodyStart);
  const declared = new Set<string>();
  if (head.param !== undefined) declared.add(head.param);
  const scan = collectDeclarations(body, declared);
  if (scan !== undefined) return refuse(scan);

  const problem = checkReferences(body, declared, head.param, options.allowedProperties);
  if (problem !== undefined) return refuse(problem);

  const bodyText = rewriteBody(text, body, head.arrow);
  const params = `(${head.param ?? ''})`;
  return {
    ok: true,
    source: head.arrow ? `${params} => ${bodyText}` : `function ${params} ${bodyText}`,
  };
}

// --- head ------------------------------------------------------------------------------------

interface Head {
  param: string | undefined;
  /** Index of the first body token (after `=>`, or the opening `{`). */
  bodyStart: number;
  arrow: boolean;
}

function readHead(tokens: readonly Token[]): Head | { reason: string } {
  const at = (i: number) => tokens[i]?.value;
  let i = 0;
  if (at(0) === 'async') return { reason: 'it is async (a k6 check must answer at once)' };

  // `function name?(param?) {` or method shorthand `name(param?) {`.
  if (at(0) === 'function' || (tokens[0]?.kind === 'ident' && at(1) === '(')) {
    i = at(0) === 'function' ? 1 : 0;
    if (at(i) === '*') return { reason: 'it is a generator' };
    if (tokens[i]?.kind === 'ident') i++;
    const params = readParams(tokens, i);
    if ('reason' in params) return params;
    if (at(params.next) !== '{') return { reason: 'its body could not be read' };
    return { param: params.param, bodyStart: params.next, arrow: false };
  }

  // `param => …` or `(param?) => …`.
  if (tokens[0]?.kind === 'ident' && at(1) === '=>') {
    return { param: at(0), bodyStart: 2, arrow: true };
  }
  if (at(0) === '(') {
    const params = readParams(tokens, 0);
    if ('reason' in params) return params;
    if (at(params.next) !== '=>') return { reason: 'its head could not be read' };
    return { param: params.param, bodyStart: params.next + 1, arrow: true };
  }
  return { reason: 'its head could not be read' };
}

function readParams(
  tokens: readonly Token[],
  open: number,
): { param: string | undefined; next: number } | { reason: string } {
  if (tokens[open]?.value !== '(') return { reason: 'its parameters could not be read' };
  const first = tokens[open + 1];
  if (first?.value === ')') return { param: undefined, next: open + 2 };
  if (first?.kind === 'ident' && tokens[open + 2]?.value === ')') {
    return { param: first.value, next: open + 3 };
  }
  return { reason: 'it takes more than one plain parameter (destructuring, defaults or rest)' };
}

// --- scope -----------------------------------------------------------------------------------

/** Adds every name the body declares to `declared`; returns a reason when one is unreadable. */
function collectDeclarations(body: readonly Token[], declared: Set<string>): string | undefined {
  for (let i = 0; i < body.length; i++) {
    const token = body[i] as Token;
    const prev = body[i - 1];
    if (prev?.value === '.' || prev?.value === '?.') continue;

    if (token.value === 'const' || token.value === 'let' || token.value === 'var') {
      const names = declarationNames(body, i + 1);
      if (names === undefined) return 'it destructures in a declaration';
      for (const name of names) declared.add(name);
    } else if (token.value === 'catch' && body[i + 1]?.value === '(') {
      const name = body[i + 2];
      if (name?.kind !== 'ident' || body[i + 3]?.value !== ')') return 'it destructures in catch';
      declared.add(name.value);
    } else if (token.value === '=>') {
      const params = arrowParams(body, i);
      if (params === undefined) return 'a nested function has destructured or default parameters';
      for (const name of params.names) declared.add(name);
    }
  }
  return undefined;
}

/** The names of `a = …, b = …` from `start`, up to the end of the declaration. */
function declarationNames(body: readonly Token[], start: number): string[] | undefined {
  const names: string[] = [];
  let depth = 0;
  let expectName = true;
  for (let i = start; i < body.length; i++) {
    const token = body[i] as Token;
    if (depth === 0 && expectName) {
      if (token.kind !== 'ident') return undefined;
      names.push(token.value);
      expectName = false;
      continue;
    }
    if (isOpen(token)) depth++;
    else if (isClose(token)) {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0) {
      if (token.value === ';' || token.value === 'of' || token.value === 'in') break;
      if (token.value === ',') expectName = true;
    }
  }
  return names;
}

/** The parameters of the arrow function whose `=>` is at `arrowAt`. */
function arrowParams(
  body: readonly Token[],
  arrowAt: number,
): { names: string[]; from: number } | undefined {
  const before = body[arrowAt - 1];
  if (before?.kind === 'ident') return { names: [before.value], from: arrowAt - 1 };
  if (before?.value !== ')') return undefined;

  const names: string[] = [];
  let i = arrowAt - 2;
  let expectName = true;
  for (; i >= 0; i--) {
    const token = body[i] as Token;
    if (token.value === '(') break;
    if (expectName && token.kind === 'ident') {
      names.push(token.value);
      expectName = false;
    } else if (!expectName && token.value === ',') {
      expectName = true;
    } else {
      return undefined;
    }
  }
  if (i < 0) return undefined;
  return { names: names.reverse(), from: i };
}

// --- references ------------------------------------------------------------------------------

function checkReferences(
  body: readonly Token[],
  declared: ReadonlySet<string>,
  param: string | undefined,
  allowed: readonly string[],
): string | undefined {
  const brackets: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const token = body[i] as Token;
    if (isOpen(token)) brackets.push(token.value);
    else if (isClose(token)) brackets.pop();
    if (token.kind !== 'ident') continue;

    const prev = body[i - 1];
    const next = body[i + 1];
    if (prev?.value === '.' || prev?.value === '?.') continue;
    if (REFUSED.has(token.value)) return `it uses \`${token.value}\``;
    if (KEYWORDS.has(token.value) || GLOBALS.has(token.value)) continue;

    // An object literal key: `{key: …}` or `, key: …` directly inside braces.
    const inBraces = brackets[brackets.length - 1] === '{';
    if (inBraces && next?.value === ':' && (prev?.value === '{' || prev?.value === ',')) continue;

    if (token.value === param) {
      if (next?.value === '=>' || isArrowParam(body, i)) return 'a nested function reuses its name';
      if (next?.value !== '.' && next?.value !== '?.') {
        return 'it uses the response as a whole (only its fields can be carried over)';
      }
      const field = body[i + 2];
      if (field?.kind !== 'ident' || !allowed.includes(field.value)) {
        return `it reads \`${field?.value ?? '?'}\`, which the k6 script cannot give it (it has ${allowed.join(', ')})`;
      }
      continue;
    }
    if (!declared.has(token.value)) {
      return `it uses \`${token.value}\` from outside itself, which the k6 script does not have`;
    }
  }
  return undefined;
}

function isArrowParam(body: readonly Token[], index: number): boolean {
  for (let i = index + 1; i < body.length; i++) {
    const value = (body[i] as Token).value;
    if (value === ',' || (body[i] as Token).kind === 'ident') continue;
    if (value === ')') return body[i + 1]?.value === '=>';
    return false;
  }
  return false;
}

// --- output ----------------------------------------------------------------------------------

/** The body as written, with each nested arrow parameter annotated `any` (for tsc --strict). */
function rewriteBody(text: string, body: readonly Token[], arrow: boolean): string {
  const first = body[0];
  if (first === undefined) return arrow ? 'undefined' : '{}';
  const insertions: Array<{ at: number; text: string; wrap?: number }> = [];
  for (let i = 0; i < body.length; i++) {
    if ((body[i] as Token).value !== '=>') continue;
    const params = arrowParams(body, i) as { names: string[]; from: number };
    const before = body[i - 1] as Token;
    if (before.kind === 'ident') {
      insertions.push({ at: before.start, text: '(' }, { at: before.end, text: ': any)' });
      continue;
    }
    for (let j = params.from + 1; j < i - 1; j++) {
      const token = body[j] as Token;
      if (token.kind === 'ident') insertions.push({ at: token.end, text: ': any' });
    }
  }

  let out = '';
  let cursor = first.start;
  const last = body[body.length - 1] as Token;
  insertions.sort((a, b) => a.at - b.at);
  for (const insertion of insertions) {
    out += text.slice(cursor, insertion.at) + insertion.text;
    cursor = insertion.at;
  }
  return out + text.slice(cursor, last.end);
}

function refuse(reason: string): FunctionTranslation {
  return { ok: false, reason };
}

// --- tokens ----------------------------------------------------------------------------------

function isOpen(token: Token): boolean {
  return (
    token.kind === 'punct' && (token.value === '(' || token.value === '[' || token.value === '{')
  );
}

function isClose(token: Token): boolean {
  return (
    token.kind === 'punct' && (token.value === ')' || token.value === ']' || token.value === '}')
  );
}

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$]/;
const DIGIT = /[0-9]/;

/** A small JavaScript tokenizer: enough to vet a function, refusing what it cannot read. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number) =>
    tokens.push({ kind, value: text.slice(start, end), start, end });

  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) throw new Error('it has an unterminated comment');
      i = end + 2;
      continue;
    }

    const start = i;
    if (IDENT_START.test(c)) {
      while (i < text.length && IDENT_PART.test(text[i] as string)) i++;
      push('ident', start, i);
    } else if (DIGIT.test(c) || (c === '.' && DIGIT.test(text[i + 1] ?? ''))) {
      while (i < text.length && /[0-9A-Za-z_.]/.test(text[i] as string)) i++;
      push('number', start, i);
    } else if (c === '"' || c === "'") {
      i = skipQuoted(text, i, c);
      push('string', start, i);
    } else if (c === '`') {
      i = skipTemplate(text, i);
      push('template', start, i);
    } else if (c === '/' && regexAllowed(tokens[tokens.length - 1])) {
      i = skipRegex(text, i);
      push('regex', start, i);
    } else {
      const long = PUNCTUATORS.find((p) => text.startsWith(p, i));
      // `?.` followed by a digit is a ternary and a number (`a?.5:1`), not optional chaining.
      const usable = long === '?.' && DIGIT.test(text[i + 2] ?? '') ? undefined : long;
      i += usable?.length ?? 1;
      push('punct', start, i);
    }
  }
  return tokens;
}

function skipQuoted(text: string, from: number, quote: string): number {
  for (let i = from + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  throw new Error('it has an unterminated string');
}

function skipTemplate(text: string, from: number): number {
  for (let i = from + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      throw new Error('it has a template literal with a placeholder (not vetted)');
    } else if (text[i] === '`') return i + 1;
  }
  throw new Error('it has an unterminated template literal');
}

function skipRegex(text: string, from: number): number {
  let inClass = false;
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      let end = i + 1;
      while (end < text.length && /[a-z]/.test(text[end] as string)) end++;
      return end;
    } else if (c === '\n') break;
  }
  throw new Error('it has an unterminated regular expression');
}

function regexAllowed(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'ident') return REGEX_AFTER_WORDS.has(prev.value);
  if (prev.kind === 'punct') return prev.value !== ')' && prev.value !== ']' && prev.value !== '}';
  return false;
}
