import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralScanner } from '../src/literals.js';

/** The literals `value` contains, by `String.prototype.includes`: what the scanner must report. */
function naive(literals: readonly string[], value: string): number[] {
  return literals.flatMap((l, id) => (value.includes(l) ? [id] : [])).sort((a, b) => a - b);
}

function scanned(scanner: LiteralScanner, value: string, seen: Int32Array, stamp: number): number[] {
  const out: number[] = [];
  scanner.scan(value, seen, stamp, out);
  return out.sort((a, b) => a - b);
}

describe('LiteralScanner', () => {
  it('finds overlapping, nested and suffix literals, each once per stamp', () => {
    const s = new LiteralScanner();
    const literals = ['he', 'she', 'his', 'hers', 'e', '\\\\', ' -enc', 'é'];
    for (const l of literals) s.add(l);
    expect(s.add('she')).toBe(1); // the same text, the same id
    s.build();
    const seen = new Int32Array(s.size);
    expect(scanned(s, 'ushers', seen, 1)).toEqual(naive(literals, 'ushers'));
    expect(scanned(s, 'ushers', seen, 1)).toEqual([]); // already reported under this stamp
    expect(scanned(s, 'c:\\\\x -enc é', seen, 2)).toEqual(naive(literals, 'c:\\\\x -enc é'));
    expect(scanned(s, '', seen, 3)).toEqual([]);
  });

  it('agrees with String.prototype.includes on random literals and values (small alphabet: many overlaps)', () => {
    const char = fc.constantFrom('a', 'b', 'c', '\\', '-', ' ', 'é', '\u{1F600}');
    const text = (max: number) => fc.array(char, { minLength: 0, maxLength: max }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.uniqueArray(
          text(6).filter((l) => l.length > 0),
          { minLength: 1, maxLength: 30 },
        ),
        fc.array(text(40), { minLength: 1, maxLength: 5 }),
        (literals, values) => {
          const s = new LiteralScanner();
          literals.forEach((l, id) => expect(s.add(l)).toBe(id));
          s.build();
          const seen = new Int32Array(s.size);
          values.forEach((v, k) => expect(scanned(s, v, seen, k + 1)).toEqual(naive(literals, v)));
        },
      ),
      { seed: 13, numRuns: 500 },
    );
  });
});
