import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../src/index.js';
import { loadSigmaPath, readEvtxJson } from '../src/index.js';
import { LiteralScanner } from '../src/literals.js';
import { MIN_SKIP, SkipScanner } from '../src/skip-scanner.js';
import { keywordLiterals } from './helpers.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');

/** `win_alert_mimikatz_keywords`'s keywords, lower-cased as the gate keys are. */
const MIMIKATZ = [
  'dpapi::masterkey',
  'eo.oe.kiwi',
  'event::clear',
  'event::drop',
  'gentilkiwi.com',
  'kerberos::golden',
  'kerberos::ptc',
  'kerberos::ptt',
  'kerberos::tgt',
  'kiwi legit printer',
  'lsadump::',
  'mimidrv.sys',
  '\\mimilib.dll',
  'misc::printnightmare',
  'misc::shadowcopies',
  'misc::skeleton',
  'privilege::backup',
  'privilege::debug',
  'privilege::driver',
  'sekurlsa::',
];

/** A scanner of each kind over the same literals, added in the same order (so with the same ids). */
function both(literals: readonly string[]): { skip: SkipScanner; dfa: LiteralScanner } {
  const skip = new SkipScanner();
  const dfa = new LiteralScanner();
  for (const l of literals) expect(skip.add(l)).toBe(dfa.add(l));
  skip.build();
  dfa.build();
  return { skip, dfa };
}

/** Ids in the order found (an event's values share one stamp), and sorted for comparison. */
function folded(
  scanner: SkipScanner | LiteralScanner,
  values: readonly string[],
  seen: Int32Array,
  stamp: number,
) {
  const out: number[] = [];
  for (const v of values) scanner.scanFolded(v, seen, stamp, out);
  return out.sort((a, b) => a - b);
}

/**
 * Scans each group of values (one event) with both scanners, one stamp per group, and expects the same
 * ids, and the ids `includes` finds in the lower-cased values. Returns how many groups found some.
 */
function agree(literals: readonly string[], groups: readonly (readonly string[])[]): number {
  const { skip, dfa } = both(literals);
  const seenSkip = new Int32Array(skip.size);
  const seenDfa = new Int32Array(dfa.size);
  let found = 0;
  groups.forEach((values, k) => {
    const want = folded(dfa, values, seenDfa, k + 1);
    const got = folded(skip, values, seenSkip, k + 1);
    if (got.length !== want.length || got.some((id, i) => id !== want[i]))
      expect({ values, got }).toEqual({ values, got: want });
    const lower = values.map((v) => v.toLowerCase());
    // LiteralScanner reads a literal's ASCII upper case as lower case (literals are meant lower case).
    const naive = literals.flatMap((l, id) =>
      lower.some((v) => v.includes(l.replace(/[A-Z]/g, (c) => c.toLowerCase()))) ? [id] : [],
    );
    if (got.length !== naive.length || got.some((id, i) => id !== naive[i]))
      expect({ values, got }).toEqual({ values, got: naive });
    if (got.length > 0) found++;
  });
  return found;
}

/** A small seeded PRNG (mulberry32): the same cases every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Non-ASCII code units whose lower case differs in length, is ASCII, or depends on context. */
const AWKWARD = ['\u212a', '\u0130', '\u0307', 'é', 'É', 'Σ', 'σ', 'ς', '\u{1F600}', '\u00c5', '\u212b'];

/**
 * Values built from the literals' own characters in random case, pieces of the literals (whole, prefix,
 * suffix, with Kelvin signs for k and U+0130 for i) and awkward non-ASCII code units: most windows land
 * on near-matches.
 */
function values(literals: readonly string[], seed: number, count: number, maxLength: number): string[][] {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const chars = [...new Set(literals.join(''))];
  const recase = (s: string): string =>
    [...s]
      .map((c) => {
        const r = next();
        if (c === 'k' && r < 0.15) return '\u212a';
        if (c === 'i' && r < 0.15) return '\u0130';
        return r < 0.5 ? c.toUpperCase() : c;
      })
      .join('');
  const one = (): string => {
    let v = '';
    const length = Math.floor(next() * maxLength);
    while (v.length < length) {
      const r = next();
      const l = pick(literals);
      if (r < 0.55) v += recase(pick(chars));
      else if (r < 0.65) v += pick(AWKWARD);
      else if (r < 0.8) v += recase(l);
      else if (r < 0.9) v += recase(l.slice(0, 1 + Math.floor(next() * l.length)));
      else v += recase(l.slice(Math.floor(next() * l.length)));
    }
    return v;
  };
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, one));
}

/** Random lower-case literals from a small alphabet, lengths in [min, max]. */
function literalSet(seed: number, count: number, min: number, max: number, alphabet: string): string[] {
  const next = random(seed);
  const set = new Set<string>();
  while (set.size < count) {
    let l = '';
    const length = min + Math.floor(next() * (max - min + 1));
    for (let i = 0; i < length; i++) l += alphabet[Math.floor(next() * alphabet.length)] as string;
    set.add(l.toLowerCase());
  }
  return [...set];
}

describe('SkipScanner.scanFolded answers as LiteralScanner.scanFolded', () => {
  it('on random values over the mimikatz keywords (skips)', () => {
    const { skip } = both(MIMIKATZ);
    expect(skip.skips).toBe(true);
    const found = agree(MIMIKATZ, values(MIMIKATZ, 1, 20_000, 80));
    expect(found).toBeGreaterThan(5_000); // the values do hold literals, often
  });

  it('on random values over mixed lengths 4..40 from a small alphabet (many overlaps)', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const literals = literalSet(seed, 3 + seed * 4, MIN_SKIP, 40, 'abk:i\\. ');
      expect(both(literals).skip.skips).toBe(true);
      expect(agree(literals, values(literals, 100 + seed, 3_000, 120))).toBeGreaterThan(300);
    }
  });

  it('on short literal sets, which it hands whole to a LiteralScanner', () => {
    for (const literals of [
      ['a', 'kerberos::', 'sekurlsa::'],
      literalSet(3, 12, 1, 6, 'abki'),
      ['abc', 'abcd'],
    ]) {
      expect(both(literals).skip.skips).toBe(false);
      expect(agree(literals, values(literals, 7, 3_000, 60))).toBeGreaterThan(100);
    }
  });

  it('on sets with non-ASCII literals (scanned apart, in full) beside long ASCII ones', () => {
    const literals = [
      'kerberos::golden',
      'é::drop',
      'i\u0307kiwi', // U+0130 lower-cased
      'sekurlsa::',
      'σς',
      '\u{1F600}mimi',
      'lsadump::',
      'k\u00e5',
    ];
    expect(both(literals).skip.skips).toBe(true);
    expect(agree(literals, values(literals, 11, 10_000, 60))).toBeGreaterThan(1_000);
  });

  it('on literals sharing long prefixes, prefixes of each other, and the same text in other case', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const next = random(seed);
      const tails = literalSet(seed, 12, 0, 4, 'pti');
      const stems = ['kerberos::', 'kerberos:', 'privilege::'];
      const literals = [
        ...new Set(
          tails.flatMap((t) => {
            const l = (stems[Math.floor(next() * stems.length)] as string) + t;
            return next() < 0.2 ? [l, l.toUpperCase()] : [l];
          }),
        ),
      ];
      expect(both(literals).skip.skips).toBe(true);
      expect(agree(literals, values(literals, 200 + seed, 3_000, 50))).toBeGreaterThan(300);
    }
  });

  it('on literals given in upper case (read as lower case, as LiteralScanner does)', () => {
    const literals = ['Kerberos::PTT', 'SEKURLSA::', 'lsadump::', 'Mimi\u00c9', 'XKIWI'];
    expect(both(literals).skip.skips).toBe(true);
    expect(agree(literals, values(literals, 13, 5_000, 60))).toBeGreaterThan(500);
  });

  it('on literals longer than the largest shift (windows of 300 code units)', () => {
    const literals = literalSet(5, 6, 300, 320, 'ab');
    expect(agree(literals, values(literals, 12, 500, 1_500))).toBeGreaterThan(50);
  });
});

describe('SkipScanner edge cases', () => {
  const scan = (literals: readonly string[], ...values: string[]): string[] => {
    const { skip } = both(literals);
    const out: number[] = [];
    const seen = new Int32Array(skip.size);
    for (const v of values) skip.scanFolded(v, seen, 1, out);
    return out.map((id) => literals[id] as string).sort();
  };

  it('finds literals at the very start and end, overlapping, nested, and each once per stamp', () => {
    const literals = ['kerberos::', 'kerberos::ptt', 'os::ptt', 'sekurlsa::', 'a::logon'];
    expect(scan(literals, 'KERBEROS::PTT')).toEqual(['kerberos::', 'kerberos::ptt', 'os::ptt']);
    expect(scan(literals, 'x sekurlsa::logonpasswords')).toEqual(['a::logon', 'sekurlsa::']);
    expect(scan(literals, 'sekurlsa::', 'sekurlsa::sekurlsa::')).toEqual(['sekurlsa::']);
    expect(scan(literals, 'kerberos:', 'kerberos::pt', '')).toEqual(['kerberos::']);
    expect(scan(literals, '', 'ptt', 'sekurlsa:')).toEqual([]);
  });

  it('reads the Kelvin sign as k anywhere and U+0130 as i only at a literal end (then U+0307 follows)', () => {
    const literals = ['kiwi legit', 'mimikatz::', 'gentilkiwi'];
    expect(scan(literals, '\u212aIWI LEGIT')).toEqual(['kiwi legit']);
    expect(scan(literals, 'MIMI\u212aATZ::')).toEqual(['mimikatz::']);
    expect(scan(literals, 'GENTIL\u212aIW\u0130')).toEqual(['gentilkiwi']);
    expect(scan(literals, 'K\u0130WI LEGIT')).toEqual([]); // "ki̇wi legit": U+0307 inside
    expect(scan(literals, 'kiwi legit'.replace('k', '\u212b'))).toEqual([]); // the Angstrom sign is å
  });

  it('stops short of a value shorter than the shortest literal, and across values', () => {
    expect(scan(MIMIKATZ, 'lsadump:', ':')).toEqual([]);
    expect(scan(MIMIKATZ, 'lsadump:', ':x')).toEqual([]);
    expect(scan(MIMIKATZ, 'LSADUMP::')).toEqual(['lsadump::']);
  });

  it('honours stamps already set by the caller, and keeps ids per text', () => {
    const skip = new SkipScanner();
    expect(skip.add('sekurlsa::')).toBe(0);
    expect(skip.add('lsadump::')).toBe(1);
    expect(skip.add('sekurlsa::')).toBe(0);
    skip.build();
    expect(skip.size).toBe(2);
    expect(() => skip.add('x')).toThrow(/after build/);
    const seen = Int32Array.of(7, 0);
    const out: number[] = [];
    skip.scanFolded('sekurlsa:: lsadump::', seen, 7, out);
    expect(out).toEqual([1]);
    expect(() => new SkipScanner().add('')).toThrow(/empty/);
    expect(() => new SkipScanner().scanFolded('x', seen, 1, out)).toThrow(/before build/);
    const none = new SkipScanner();
    none.build();
    none.scanFolded('sekurlsa::', seen, 8, out);
    expect(out).toEqual([1]);
  });
});

const text = (v: FieldValue): string | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : String(v);

describe('SkipScanner on SigmaHQ regression events with SigmaHQ keyword rules', () => {
  it('answers as LiteralScanner for every value, per rule and for all keyword literals at once', async () => {
    const loaded = await loadSigmaPath(path.join(SIGMA, 'rules'));
    const sets = loaded.rules.map(keywordLiterals).filter((s) => s.length > 0);
    expect(sets.length).toBeGreaterThanOrEqual(10);
    const all = [...new Set(sets.flat())];
    sets.push(all, MIMIKATZ);
    const files = readdirSync(path.join(SIGMA, 'regression_data'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => path.join(e.parentPath, e.name));
    const events = files.flatMap((f) => readEvtxJson(readFileSync(f, 'utf8')));
    expect(events.length).toBeGreaterThan(150);
    const groups = events.map((e) => [...e.values()].map(text).filter((t): t is string => t !== null));
    // Each event's values as themselves, and in upper case (the ASCII folding on real text).
    const upper = groups.map((g) => g.map((v) => v.toUpperCase()));
    let found = 0;
    for (const literals of sets) found += agree(literals, groups) + agree(literals, upper);
    expect(found).toBeGreaterThan(0);
  }, 120_000);
});
