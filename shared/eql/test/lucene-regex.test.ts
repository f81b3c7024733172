import { describe, expect, it } from 'vitest';
import {
  checkLuceneRegex,
  complementRanges,
  LuceneRegexError,
  normalizeRanges,
  parseLuceneRegex,
} from '@sequor/eql';

const kinds = (pattern: string): unknown => {
  const strip = (n: ReturnType<typeof parseLuceneRegex>): unknown => {
    switch (n.kind) {
      case 'concat':
      case 'union':
        return { [n.kind]: n.items.map(strip) };
      case 'repeat':
        return { repeat: strip(n.item), min: n.min, max: n.max };
      case 'char':
        return String.fromCodePoint(n.codePoint);
      case 'class':
        return { class: n.ranges, negated: n.negated };
      case 'interval':
        return { interval: [n.min, n.max, n.width] };
      default:
        return n.kind;
    }
  };
  return strip(parseLuceneRegex(pattern));
};

describe('parseLuceneRegex', () => {
  it('reads Lucene operators into a tree', () => {
    expect(kinds('a|bc')).toEqual({ union: ['a', { concat: ['b', 'c'] }] });
    expect(kinds('a+?')).toEqual({ repeat: { repeat: 'a', min: 1, max: null }, min: 0, max: 1 });
    expect(kinds('a{2,}b{3}c{1,4}')).toEqual({
      concat: [
        { repeat: 'a', min: 2, max: null },
        { repeat: 'b', min: 3, max: 3 },
        { repeat: 'c', min: 1, max: 4 },
      ],
    });
    expect(kinds('"a(b"')).toEqual({ concat: ['a', '(', 'b'] });
    expect(kinds('()')).toBe('empty');
    expect(kinds('')).toBe('empty');
    expect(kinds('.@#')).toEqual({ concat: ['anyChar', 'anyString', 'nothing'] });
    expect(kinds('^\\$\\n')).toEqual({ concat: ['^', '$', 'n'] });
    expect(kinds('[^a-cx-]')).toEqual({ class: [0x2d, 0x2d, 0x61, 0x63, 0x78, 0x78], negated: true });
    expect(kinds('\\D')).toEqual({ class: [0x30, 0x39], negated: true });
    expect(kinds('[\\d_]')).toEqual({ class: [0x30, 0x39, 0x5f, 0x5f], negated: false });
    expect(kinds('<20-5>')).toEqual({ interval: [5, 20, 0] });
    expect(kinds('<05-20>')).toEqual({ interval: [5, 20, 2] });
    expect(kinds('😀+')).toEqual({ repeat: '😀', min: 1, max: null });
  });

  it('refuses what it cannot read, with the UTF-16 offset of the problem', () => {
    for (const [pattern, index, message] of [
      ['ab(c', 2, 'unbalanced "("'],
      ['abc)', 3, 'unbalanced ")"'],
      ['a||b', 2, 'empty alternative'],
      ['😀*+{', 5, 'expected a repeat count'],
      ['x[]', 1, 'empty character class'],
      ['x[a', 1, 'unterminated character class'],
      ['ab\\', 2, 'lone backslash'],
      ['a~b', 1, 'complement'],
      ['<1-99999999999>', 0, 'at most 2147483647'],
      ['a{10001}', 2, 'above 10000'],
      ['?', 0, 'nothing to repeat'],
    ] as const) {
      const error = checkLuceneRegex(pattern);
      expect(error, pattern).toBeInstanceOf(LuceneRegexError);
      expect([error?.index, error?.message.includes(message)], pattern).toEqual([index, true]);
    }
    expect(checkLuceneRegex('('.repeat(101) + 'a' + ')'.repeat(101))?.message).toMatch(
      /nested deeper than 100/,
    );
    expect(checkLuceneRegex('a' + '?'.repeat(101))?.message).toMatch(/more than 100 quantifiers/);
    expect(checkLuceneRegex('"("x')).toBeNull();
  });

  it('normalizes and complements code point ranges', () => {
    expect(normalizeRanges([5, 9, 0, 3, 4, 4, 20, 30])).toEqual([0, 9, 20, 30]);
    expect(complementRanges([0, 9, 20, 30])).toEqual([10, 19, 31, 0x10ffff]);
    expect(complementRanges([])).toEqual([0, 0x10ffff]);
  });
});
