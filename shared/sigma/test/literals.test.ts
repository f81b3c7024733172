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

  it('scanFolded finds the literals of the lower-cased value without lower-casing ASCII values', () => {
    const literals = ['mimikatz', 'sekurlsa::', 'é'];
    const s = new LiteralScanner();
    for (const l of literals) s.add(l);
    s.build();
    const seen = new Int32Array(s.size);
    const folded = (value: string, stamp: number): number[] => {
      const out: number[] = [];
      s.scanFolded(value, seen, stamp, out);
      return out.sort((a, b) => a - b);
    };
    expect(folded('Invoke-MIMIKATZ SekurLSA::logonpasswords', 1)).toEqual([0, 1]);
    // After a non-ASCII code unit the scan goes on in the lower-cased value, in the same state: the
    // Kelvin sign lower-cases to ASCII k, É to é.
    expect(folded('MIMI\u212aATZ É', 2)).toEqual(naive(literals, 'MIMI\u212aATZ É'.toLowerCase()));
    expect(folded('MIMI\u212aATZ É', 3)).toEqual([0, 2]);
    expect(folded('mimikat', 4)).toEqual([]);
  });

  it('scanFolded agrees with includes on the lower-cased value (random case and non-ASCII)', () => {
    const char = fc.constantFrom('a', 'A', 'b', 'K', 'k', '\u212a', 'é', 'É', '\u0130', 'i', '-');
    const text = (max: number) => fc.array(char, { minLength: 0, maxLength: max }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.uniqueArray(
          text(5)
            .map((l) => l.toLowerCase())
            .filter((l) => l.length > 0),
          { minLength: 1, maxLength: 20 },
        ),
        fc.array(text(30), { minLength: 1, maxLength: 5 }),
        (literals, values) => {
          const s = new LiteralScanner();
          const ids = literals.map((l) => s.add(l));
          s.build();
          const seen = new Int32Array(s.size);
          values.forEach((v, k) => {
            const out: number[] = [];
            s.scanFolded(v, seen, k + 1, out);
            const lower = v.toLowerCase();
            const want = [...new Set(literals.flatMap((l, i) => (lower.includes(l) ? [ids[i]!] : [])))];
            expect(out.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
          });
        },
      ),
      { seed: 17, numRuns: 500 },
    );
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
