import { describe, expect, it } from 'vitest';
import { parse, print, printString } from '@sequor/eql';
import { Arbitrary, prng } from './arbitrary.js';
import { stripSpans } from './helpers.js';
import { SEED_QUERIES } from './seeds.js';

const CORPUS = [
  ...SEED_QUERIES,
  'any where true',
  '"my-category" where `@timestamp` > 0 | head 5 | tail 1',
  'process where not (a or b) and (c and d) and not not e',
  'process where (a or b) or c',
  'process where a in~ ("x", -1, 2.5, null, other.f) and b not in (1) and c not in~ ("q")',
  'process where f like~ ("a*", "b?") or f regex "a.*" or f regex~ ("x", "y") or f like "z"',
  'process where startsWith~(process.name, "cmd") and length(f) >= 3 and concat() == ""',
  'process where process.`name with space` == "x" and ?user.id != null and `a``b`.sequence == 1',
  'process where a == """raw \\ "quoted" text"""',
  'process where (not a) == b and (a == b) == c',
  `sequence by host.id with maxspan=5m
    [process where a == 1] by p with runs=3
    ![file where true] by q
  until [process where b == 2] by p
  | tail 10`,
  'sample by host.id [a where true] [b where true] [c where true]',
  'join [a where true] by x [b where true] by y',
];

describe('print', () => {
  it.each(CORPUS)('round-trips %s', (source) => {
    const ast = parse(source);
    const printed = print(ast);
    const reparsed = parse(printed);
    expect(stripSpans(reparsed)).toEqual(stripSpans(ast));
    expect(print(reparsed)).toBe(printed);
  });

  it('prints the canonical layout of a sequence', () => {
    expect(
      print(
        parse(
          'sequence by h with maxspan=30s [a where x==1][b where not y] by z with runs=2 until [c where true]',
        ),
      ),
    ).toBe(
      [
        'sequence by h with maxspan=30s',
        '  [a where x == 1]',
        '  [b where not y] by z with runs=2',
        'until [c where true]',
      ].join('\n'),
    );
  });

  it('puts parentheses only where grouping needs them', () => {
    const canon = (s: string) => print(parse(`process where ${s}`)).slice('process where '.length);
    expect(canon('(a and b) or c')).toBe('a and b or c');
    expect(canon('a and (b or c)')).toBe('a and (b or c)');
    expect(canon('(a and b) and c')).toBe('(a and b) and c');
    expect(canon('not (a == 1)')).toBe('not a == 1');
    expect(canon('not (a and b)')).toBe('not (a and b)');
    expect(canon('((a))')).toBe('a');
  });

  it('escapes strings so they parse back to the same value', () => {
    expect(printString('a"b\\c\nd\u0001')).toBe('"a\\"b\\\\c\\nd\\u{01}"');
    expect(printString('é😀')).toBe('"é😀"');
  });

  it('quotes categories and field segments only when needed', () => {
    expect(print(parse('"process" where `process`.`name` == 1'))).toBe('process where process.name == 1');
    expect(print(parse('"any" where `not`.not == 1 and event.sequence == 2'))).toBe(
      '"any" where `not`.`not` == 1 and event.`sequence` == 2',
    );
    expect(print(parse('"a b" where `x-y` == 1'))).toBe('"a b" where `x-y` == 1');
    expect(print(parse('process where @timestamp > 0'))).toBe('process where `@timestamp` > 0');
  });

  it('round-trips randomly generated ASTs (seeded)', () => {
    const cases = 400;
    for (let seed = 1; seed <= cases; seed++) {
      const ast = new Arbitrary(prng(seed)).query();
      const printed = print(ast);
      let reparsed;
      try {
        reparsed = parse(printed);
      } catch (error) {
        throw new Error(`seed ${seed}: printed text does not parse:\n${printed}\n${String(error)}`);
      }
      expect(stripSpans(reparsed), `seed ${seed}:\n${printed}`).toEqual(stripSpans(ast));
      expect(print(reparsed), `seed ${seed}`).toBe(printed);
    }
  });
});
