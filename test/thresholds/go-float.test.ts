import { describe, expect, it } from 'vitest';
import { parseGoFloat } from '../../src/thresholds/go-float.ts';

// Cases follow Go's strconv.ParseFloat (readFloat, special, underscoreOK), which k6 uses for
// threshold limits and percentiles.
describe('parseGoFloat', () => {
  it.each([
    ['500', 500],
    ['-1.5', -1.5],
    ['+2', 2],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['2.5e+1', 25],
    ['1_000', 1000],
    ['1_000.000_5', 1000.0005],
    ['1e1_0', 1e10],
    ['0x1p10', 1024],
    ['0x1.8p1', 3],
    ['0x_1p0', 1],
    ['0X.8P1', 1],
    ['-0x10p-4', -1],
  ])('reads %j as %d, as Go does', (text, expected) => {
    expect(parseGoFloat(text)).toBe(expected);
  });

  it.each([
    ['Inf', Infinity],
    ['+inf', Infinity],
    ['-Infinity', -Infinity],
    ['INFINITY', Infinity],
  ])('reads %j as an infinity, as Go does', (text, expected) => {
    expect(parseGoFloat(text)).toBe(expected);
  });

  it('reads NaN in any case, as Go does', () => {
    expect(parseGoFloat('NaN')).toBeNaN();
    expect(parseGoFloat('nan')).toBeNaN();
  });

  it('reads a number too large for a double as an infinity, for callers to refuse', () => {
    expect(parseGoFloat('1e400')).toBe(Infinity);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    'abc',
    '1.2.3',
    '--1',
    '1,5',
    '1__0',
    '_1',
    '1_',
    '1_.5',
    '1._5',
    '1e',
    '1e_1',
    '0x1',
    '0x1.8',
    '0xp1',
    '0b101',
    '+nan',
    'infin',
    '500ms',
  ])('refuses %j, as Go does', (text) => {
    expect(parseGoFloat(text)).toBeUndefined();
  });
});
