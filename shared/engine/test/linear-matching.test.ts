/**
 * Issue 17 item 1: every wildcard and regex match is linear in the value. The hostile inputs are generated
 * here (50-100 KB strings); linearity is asserted through the automaton's step counter and by checking that
 * no JavaScript RegExp runs while matching, with a generous wall-clock guard only as a backstop. The
 * differential properties pin the linear matchers to the RegExp translations they replaced, on small inputs
 * where backtracking is harmless.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  automatonWork,
  compileLuceneRegex,
  compileWildcard,
  compileWildcardList,
  LuceneRegexError,
  MAX_AUTOMATON_STATES,
} from '../src/index.js';
import { compileLuceneRegexAsJs, wildcardToRegExp } from './support/regexp-reference.js';

/** Fails the test if any RegExp is executed inside `run` (the old matchers all ended in `RegExp#test`). */
function withoutRegExp<T>(run: () => T): T {
  const exec = vi.spyOn(RegExp.prototype, 'exec');
  const test = vi.spyOn(RegExp.prototype, 'test');
  try {
    const result = run();
    expect(exec).not.toHaveBeenCalled();
    expect(test).not.toHaveBeenCalled();
    return result;
  } finally {
    exec.mockRestore();
    test.mockRestore();
  }
}

/** A backstop only: the old matchers took over 60 s on these inputs; the new ones take milliseconds. */
function timed<T>(run: () => T): T {
  const started = performance.now();
  const result = run();
  expect(performance.now() - started).toBeLessThan(5_000);
  return result;
}

afterEach(() => vi.restoreAllMocks());

describe('wildcards never backtrack', () => {
  const commandLine = (size: number): string => `powershell.exe ${'-nop -w hidden '.repeat(size / 16)}x`;

  it.each([
    ['*powershell*-enc*', commandLine(100_000), false],
    ['*powershell*-enc*', `${commandLine(100_000)} -enc AAAA`, true],
    ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100_000), false],
    ['*a?a*a?a*a?a*a?a*a?a*a?a*a?a*b', 'a'.repeat(100_000), false],
    ['*a?a*a?a*a?a*a?a*a?a*a?a*a?a*b', `${'a'.repeat(100_000)}b`, true],
    ['a*?*?*?*?*?*?*?*?*?*c', 'a'.repeat(50_000), false],
  ])('%s over %#: linear', (pattern, value, expected) => {
    const matcher = compileWildcard(pattern);
    expect(timed(() => withoutRegExp(() => matcher(value)))).toBe(expected);
  });

  it('keeps the exact fast paths and matches code points, not UTF-16 units', () => {
    expect(compileWildcard('a?c')('a😀c')).toBe(true);
    expect(compileWildcard('a??c')('a😀c')).toBe(false);
    expect(compileWildcard('*?😀*x')('é😀-x')).toBe(true);
    expect(compileWildcard('*😀?')('a😀😀')).toBe(true);
    expect(compileWildcard('?*?')('😀')).toBe(false);
    expect(compileWildcardList(['*\\software\\remcos*'], true)('hku\\software\\remcos\\x')).toBe(true);
  });

  it('equals the RegExp translation it replaced (property)', () => {
    const char = fc.constantFrom('a', 'b', '*', '?', '.', '\\', '😀', 'é');
    const valueChar = fc.constantFrom('a', 'b', '.', '\\', '😀', 'é', '\n', '\ud800');
    fc.assert(
      fc.property(
        fc.string({ unit: char, maxLength: 8 }),
        fc.string({ unit: valueChar, maxLength: 10 }),
        (pattern, value) => {
          expect(compileWildcard(pattern)(value)).toBe(wildcardToRegExp(pattern).test(value));
        },
      ),
      { numRuns: 3_000, seed: 17 },
    );
  }, 60_000);
});

describe('Lucene regex: an automaton, linear in the value', () => {
  it.each([
    ['(a+)+b', 'a', 100_000],
    ['(a|a)*c', 'a', 100_000],
    ['(.*a){20}', 'a', 50_000],
    ['(.*a){20}', 'b', 50_000],
    ['(a|aa)+$', 'a', 100_000],
    ['(\\w+\\s?)*!', 'word ', 20_000],
    ['.*powershell.*-enc.*', 'powershell -nop ', 6_250],
  ])('%s over %s × %i: work proportional to the input', (pattern, unit, count) => {
    for (const fold of [false, true]) {
      const matcher = compileLuceneRegex(pattern, fold);
      const work = (value: string): number => {
        automatonWork.steps = 0;
        timed(() => withoutRegExp(() => matcher.test(value)));
        return automatonWork.steps;
      };
      const small = work(unit.repeat(count / 2));
      const large = work(unit.repeat(count));
      // At most one step per automaton state per character, and doubling the input at most doubles the work.
      expect(large).toBeLessThanOrEqual(unit.length * count * matcher.states);
      expect(large).toBeLessThanOrEqual(2 * small + 2 * matcher.states);
    }
  });

  it('stops once the answer is known, and skips the automaton when a required literal is missing', () => {
    const matcher = compileLuceneRegex('.*powershell.*-enc.*', false);
    automatonWork.steps = 0;
    expect(matcher.test(`powershell -enc ${'x'.repeat(100_000)}`)).toBe(true);
    expect(automatonWork.steps).toBeLessThan(100); // `.*` before the end accepts every suffix
    automatonWork.steps = 0;
    expect(matcher.test(`powershell ${'x'.repeat(100_000)}`)).toBe(false);
    expect(automatonWork.steps).toBe(0); // no "-enc": `includes` answers
    expect(compileLuceneRegex('"a.b"', false).test('a.b')).toBe(true);
    expect(compileLuceneRegex('ab(c|d)"ef"g.', false).test('abdefgh')).toBe(true);
    expect(compileLuceneRegex('ab(c|d)"ef"g.', false).test('abdegh')).toBe(false);
  });

  it('still answers correctly past the DFA cache (a pattern whose DFA has 2^13 states)', () => {
    const pattern = '(a|b)*a(a|b){12}';
    const matcher = compileLuceneRegex(pattern, false);
    const reference = compileLuceneRegexAsJs(pattern, false);
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 300; i++) {
      const value = Array.from({ length: 20 + Math.floor(random() * 200) }, () =>
        random() < 0.5 ? 'a' : 'b',
      ).join('');
      expect(matcher.test(value), value).toBe(reference.test(value));
    }
    expect(matcher.dfaStates).toBeGreaterThan(1_000);
  });

  it('bounds the automaton at compile time and says where', () => {
    expect(() => compileLuceneRegex('(abc){4000}', false)).toThrow(LuceneRegexError);
    expect(() => compileLuceneRegex('(abc){4000}', false)).toThrow(
      `more than ${MAX_AUTOMATON_STATES} automaton states`,
    );
    expect(() => compileLuceneRegex('((){9999}){9999}', false)).toThrow(/size limit/);
    expect(() => compileLuceneRegex('(((a{100}){100}){100})', false)).toThrow(LuceneRegexError);
    expect(() => compileLuceneRegex('('.repeat(500) + 'a' + ')'.repeat(500), false)).toThrow(/nested deeper/);
    // A numeric interval is a small automaton of digit ranges, not an alternation of its values.
    expect(compileLuceneRegex('<0-2147483647>', false).states).toBeLessThan(500);
  });

  it('numeric intervals accept exactly their values, fixed-width or with any leading zeros', () => {
    for (const [low, high] of [
      ['0', '0'],
      ['7', '123'],
      ['10', '99'],
      ['05', '42'],
      ['0', '1000'],
      ['999', '1001'],
      ['250', '19'],
    ] as const) {
      const matcher = compileLuceneRegex(`<${low}-${high}>`, false);
      const [min, max] = [Math.min(Number(low), Number(high)), Math.max(Number(low), Number(high))];
      const width = low.length === high.length ? low.length : 0;
      for (let v = 0; v <= 1100; v++) {
        const inRange = v >= min && v <= max;
        const text = String(v);
        if (width > 0) {
          expect(matcher.test(text.padStart(width, '0')), `<${low}-${high}> ${v}`).toBe(
            inRange && text.length <= width,
          );
        } else {
          expect(matcher.test(text), `<${low}-${high}> ${v}`).toBe(inRange);
          expect(matcher.test(`00${text}`), `<${low}-${high}> 00${v}`).toBe(inRange);
        }
      }
      expect(matcher.test('')).toBe(false);
    }
  });

  it('reads Lucene, not JavaScript', () => {
    const t = (pattern: string, value: string, fold = false): boolean =>
      compileLuceneRegex(pattern, fold).test(value);
    expect(t('"("x', '(x')).toBe(true);
    expect(t('^a$', '^a$')).toBe(true);
    expect(t('a.c', 'a\nc')).toBe(true);
    expect(t('a.c', 'a😀c')).toBe(true);
    expect(t('a+?', '')).toBe(true); // "(a+)?", not lazy
    expect(t('a{2}{3}', 'aaaaaa')).toBe(true);
    expect(t('#|x', 'x')).toBe(true);
    expect(t('a#', 'a')).toBe(false);
    expect(t('()', '')).toBe(true);
    expect(t('', '')).toBe(true);
    expect(t('\\s', '\u00a0')).toBe(false); // Java's \s: ASCII whitespace only
    expect(t('[^a]', 'A', true)).toBe(false);
    expect(t('straße', 'STRASSE', true)).toBe(false); // simple case mapping only, as JavaScript's `iu`
    expect(t('σ', 'Σ', true)).toBe(true);
    // Case folding outside ASCII, in every script with case (the table is built once, per block).
    for (const [lower, upper] of [
      ['é', 'É'],
      ['ж', 'Ж'],
      ['ա', 'Ա'],
      ['ａ', 'Ａ'],
      ['𐐨', '𐐀'],
      ['𞤢', '𞤀'],
      ['k', '\u212a'],
    ] as const) {
      expect(t(`x${lower}+`, `X${upper}${lower}`, true), lower).toBe(true);
      expect(t(`[${upper}]`, lower, true), upper).toBe(true);
      expect(t(lower, upper), lower).toBe(false);
    }
  });

  const atom: fc.Arbitrary<string> = fc.constantFrom(
    'a',
    'b',
    'c',
    'A',
    '.',
    '\\.',
    '\\d',
    '\\w',
    '\\s',
    '\\W',
    '[ab]',
    '[^a]',
    '[a-c]',
    '[^\\d]',
    '"ab"',
    '""',
    '@',
    '#',
    '<1-12>',
    '<05-20>',
    '0',
    'k',
    's',
  );
  const quantifier = fc.constantFrom('', '', '', '?', '*', '+', '{2}', '{0,2}', '{1,}');
  // Groups repeat only when they hold no quantifier: the reference is a backtracking RegExp, and nested
  // quantifiers are exactly what makes it hang (even on 8 characters).
  const pattern: fc.Arbitrary<string> = fc.letrec<{ union: string; concat: string; piece: string }>(
    (tie) => ({
      union: fc.array(tie('concat'), { minLength: 1, maxLength: 3 }).map((items) => items.join('|')),
      concat: fc.array(tie('piece'), { minLength: 1, maxLength: 3 }).map((items) => items.join('')),
      piece: fc
        .tuple(
          fc.oneof(
            { maxDepth: 3, depthSize: 'small' },
            atom,
            tie('union').map((u) => `(${u})`),
          ),
          quantifier,
        )
        .map(([a, q]) => {
          // The old translation bound a quantifier after `""`, `#`, `"ab"` or `<1-12>` to the wrong part (`"ab"*`
          // read as `ab*`, `a""*` as `a*`): Lucene repeats the whole atom, and so does the automaton.
          if (a.startsWith('"') || a.startsWith('<') || a === '#') return a;
          if (a.startsWith('(') && /[*+?{@<]/.test(a)) return q === '?' ? a + q : a;
          return a + q;
        }),
    }),
  ).union;
  const value = fc.string({
    unit: fc.constantFrom(
      'a',
      'b',
      'c',
      'A',
      'B',
      '0',
      '1',
      '2',
      '5',
      ' ',
      '\n',
      '.',
      'K',
      'ſ',
      'k',
      'S',
      '😀',
    ),
    maxLength: 8,
  });

  it('equals the JavaScript translation it replaced, where that is safe (property)', () => {
    fc.assert(
      fc.property(
        pattern,
        fc.array(value, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (source, values, fold) => {
          let reference: RegExp;
          try {
            reference = compileLuceneRegexAsJs(source, fold);
          } catch {
            return; // JavaScript has no reading of it (`""{2}`, `#?`): nothing to compare.
          }
          const linear = compileLuceneRegex(source, fold);
          for (const v of values)
            expect(linear.test(v), `${source} ${JSON.stringify(v)} ${fold}`).toBe(reference.test(v));
        },
      ),
      { numRuns: 1_500, seed: 17 },
    );
  }, 60_000);
});
