import { describe, expect, it } from 'vitest';
import { translateFunction } from '../../src/export/function-source.ts';

const FIELDS = { allowedProperties: ['status', 'headers', 'body', 'json'] };

/** Translates, then runs the translated text on `input` as the k6 script would. */
function runTranslated(fn: (...args: never[]) => unknown, input: unknown): unknown {
  const translated = translateFunction(fn, FIELDS);
  if (!translated.ok) throw new Error(`refused: ${translated.reason}`);
  // The source is TypeScript only where nested parameters are annotated `: any`.
  const javascript = translated.source.replace(/: any/g, '');
  return new Function(`return (${javascript});`)()(input);
}

describe('carrying a function over as source text', () => {
  it('keeps a predicate that reads only the status, and it answers as the original does', () => {
    const predicate = (r: { status: number }) => r.status === 200;
    expect(translateFunction(predicate, FIELDS)).toEqual({
      ok: true,
      source: expect.stringContaining('r.status'),
    });
    expect(runTranslated(predicate, { status: 200 })).toBe(true);
    expect(runTranslated(predicate, { status: 500 })).toBe(false);
  });

  it('keeps locals, globals, regex literals, nested arrows and object keys', () => {
    const predicate = (r: { body: string; json(): unknown }) => {
      const words = r.body.split(/\s+/).filter((word) => word.length > 2);
      const parsed = { count: words.length, max: Math.max(1, 2) };
      return parsed.count > 1 && JSON.stringify(parsed).includes('"count"');
    };
    const translated = translateFunction(predicate, FIELDS);
    expect(translated.ok).toBe(true);
    if (translated.ok) expect(translated.source).toMatch(/\(word: any\)\s*=>/);
    expect(runTranslated(predicate, { body: 'one two three' })).toBe(true);
    expect(runTranslated(predicate, { body: 'a b' })).toBe(false);
  });

  it('turns a method shorthand and a named function expression into function expressions', () => {
    const checks = {
      shorthand(r: { status: number }) {
        return r.status < 400;
      },
      named: function named(r: { status: number }) {
        return r.status === 204;
      },
    };
    expect(runTranslated(checks.shorthand, { status: 302 })).toBe(true);
    expect(runTranslated(checks.named, { status: 204 })).toBe(true);
    const translated = translateFunction(checks.shorthand, FIELDS);
    expect(translated.ok && translated.source.startsWith('function (r)')).toBe(true);
  });

  it('does not mistake names inside strings and template text for free variables', () => {
    const predicate = (r: { body: string }) =>
      r.body.includes('outsider') && `x`.length === "y'z".length - 2;
    expect(runTranslated(predicate, { body: 'an outsider' })).toBe(true);
  });

  it('refuses a predicate that closes over a variable of the scenario file', () => {
    const limit = 3;
    const translated = translateFunction((r: { body: string }) => r.body.length > limit, FIELDS);
    expect(translated).toEqual({ ok: false, reason: expect.stringContaining('`limit`') });
  });

  it('refuses a field the script cannot give, and the response passed on whole', () => {
    const text = translateFunction((r: { text?: string }) => r.text === 'x', FIELDS);
    expect(text).toEqual({ ok: false, reason: expect.stringContaining('`text`') });
    const whole = translateFunction((r: unknown) => JSON.stringify(r) !== '', FIELDS);
    expect(whole).toEqual({ ok: false, reason: expect.stringContaining('as a whole') });
    const bracket = translateFunction(
      (r: Record<string, unknown>) => r.status === 1 && r['bo' + 'dy'] === '',
      FIELDS,
    );
    expect(bracket.ok).toBe(false);
  });

  it('refuses async functions, two parameters, destructuring and `this`', () => {
    const refused = [
      async (r: { status: number }) => r.status === 200,
      (a: number, b: number) => a === b,
      ({ status }: { status: number }) => status === 200,
      function (this: { ok: boolean }) {
        return this.ok;
      },
      (r: { status: number }) => {
        const { status } = r;
        return status === 200;
      },
    ];
    for (const fn of refused) {
      expect(translateFunction(fn as (...args: never[]) => unknown, FIELDS).ok).toBe(false);
    }
  });

  it('refuses a template literal with a placeholder rather than vetting what it holds', () => {
    const outside = 'x';
    const translated = translateFunction((r: { body: string }) => r.body === `${outside}`, FIELDS);
    expect(translated.ok).toBe(false);
  });
});
