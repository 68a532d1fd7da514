const DIGITS = String.raw`\d(?:_?\d)*`;
const HEX_DIGITS = '[0-9a-fA-F](?:_?[0-9a-fA-F])*';

/** Go's decimal float literal; `_` only between digits (strconv's `underscoreOK`). */
const DECIMAL = new RegExp(
  String.raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);

/** Go's hexadecimal float literal: the `p` exponent is required; `_` may follow `0x`. */
const HEX_MANTISSA = String.raw`(?:_?(${HEX_DIGITS})(?:\.(${HEX_DIGITS})?)?|\.(${HEX_DIGITS}))`;
const HEXADECIMAL = new RegExp(`^([+-]?)0[xX]${HEX_MANTISSA}[pP]([+-]?${DIGITS})$`);

const INFINITY = /^([+-]?)inf(?:inity)?$/i;
const NAN = /^nan$/i;

/**
 * Reads a number as Go's `strconv.ParseFloat(text, 64)` does, because k6 reads threshold
 * limits and percentiles with it: an optional sign, decimal or `0x…p…` hexadecimal digits
 * with `_` allowed between digits, and `Inf`, `Infinity`, `NaN` in any case. No surrounding
 * space is allowed. Returns undefined where Go reports a syntax error; a value too large
 * for a double comes back as ±Infinity (Go reports a range error there: callers that want
 * a finite number reject both).
 */
export function parseGoFloat(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text.replaceAll('_', ''));

  const hex = HEXADECIMAL.exec(text);
  if (hex !== null) {
    const [, sign, whole = '', fraction = '', onlyFraction, exponent = '0'] = hex;
    const fractionDigits = (onlyFraction ?? fraction).replaceAll('_', '');
    const mantissa = Number.parseInt(`${whole.replaceAll('_', '')}${fractionDigits}`, 16);
    const power = Number(exponent.replaceAll('_', '')) - 4 * fractionDigits.length;
    return (sign === '-' ? -1 : 1) * mantissa * 2 ** power;
  }

  const infinity = INFINITY.exec(text);
  if (infinity !== null) return infinity[1] === '-' ? -Infinity : Infinity;
  if (NAN.test(text)) return Number.NaN;
  return undefined;
}
