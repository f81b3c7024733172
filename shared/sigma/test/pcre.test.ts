/**
 * Sigma `re` on the engine's automaton, checked against JavaScript's RegExp (a backtracking engine that
 * reads this subset as Python does) on SigmaHQ's own patterns, hand-written ones for every construct, and
 * seeded random values built from each pattern's characters. Values avoid where the two dialects differ
 * on purpose (a trailing newline before `$`, `\r` for `.`, non-ASCII for `\s`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileRegexTree } from '@sequor/engine';
import { describe, expect, it } from 'vitest';
import { loadSigmaPath, parsePcre, PcreError, readEvtxJson } from '../src/index.js';
import type { PcreFlags, SearchNode } from '../src/index.js';

const SIGMA = path.resolve(import.meta.dirname, '../../../../shared/sigma');
const NO_FLAGS: PcreFlags = { ignoreCase: false, multiline: false, dotAll: false };

function ours(pattern: string, flags: PcreFlags = NO_FLAGS): (v: string) => boolean {
  const parsed = parsePcre(pattern, flags);
  const automaton = compileRegexTree(parsed.tree, parsed.flags.ignoreCase);
  return (v) => automaton.test(v);
}

function theirs(pattern: string, flags: PcreFlags = NO_FLAGS): RegExp | null {
  let p = pattern;
  let f = '';
  const inline = /^\(\?([ims]+)\)/.exec(p);
  if (inline !== null) {
    p = p.slice(inline[0].length);
    f += inline[1];
  }
  if (flags.ignoreCase) f += 'i';
  if (flags.multiline) f += 'm';
  if (flags.dotAll) f += 's';
  try {
    return new RegExp(p.replace(/\(\?P</g, '(?<'), [...new Set(f)].join(''));
  } catch {
    return null;
  }
}

/** A small seeded generator (mulberry32): the same values on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function valuesFor(pattern: string, seed: number, count: number): string[] {
  const alphabet = [
    ...new Set([...pattern.replace(/[\\[\](){}*+?|^$]/g, ''), 'a', 'A', '0', '9', ' ', '\\', '.', '\n']),
  ];
  const next = random(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const len = Math.floor(next() * 40);
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(next() * alphabet.length)];
    out.push(s.replace(/\n+$/, ''));
  }
  return out;
}

function agree(pattern: string, values: readonly string[], flags: PcreFlags = NO_FLAGS): void {
  const js = theirs(pattern, flags);
  if (js === null) return;
  const m = ours(pattern, flags);
  const disagreements = values.filter((v) => m(v) !== js.test(v));
  expect(disagreements, `pattern ${pattern}`).toEqual([]);
}

const HAND_WRITTEN = [
  'abc',
  '^abc',
  'abc$',
  '^abc$',
  'a.c',
  'a\\.c',
  '[abc]+x',
  '[^abc]{2}',
  '[a-z0-9_]{3,5}$',
  '\\d{2,}\\s+\\w',
  '\\D\\W\\S',
  'a*?b',
  'a+?b',
  'a??b',
  'a{2}?b',
  'x(?:ab|cd)*y',
  '(?P<name>ab)+c',
  '(?<name>ab)+c',
  '(^ab$)|(^cd)',
  '(?:^a|b$)',
  'a|^b|c$',
  '(a|)b',
  '\\x41\\x{42}\\u0043',
  '\\t\\n?a',
  '[\\d.]+\\\\',
  '[\\]\\-]+',
  'a{x',
  '(?i)ABC',
  '(?i)[a-c]+Z',
  '(?s)a.b',
  '(?m)^b$',
  '(?:a|ab)(?:c|bcd)d',
];

describe('Sigma re against RegExp', () => {
  it.each(HAND_WRITTEN)('%s', (pattern) => {
    const fixed = [
      '',
      'abc',
      'xabcx',
      'ab\ncd',
      'AbC',
      'aab',
      'b',
      'abab',
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaac',
      'a\nb',
      '12 x',
    ];
    agree(pattern, [...fixed, ...valuesFor(pattern, 7, 300)]);
  });

  it('flags from modifiers: i, m, s', () => {
    const values = ['ABC', 'abc', 'x\nabc\ny', 'a\nc', 'abc\nd'];
    agree('^abc$', values, { ignoreCase: true, multiline: false, dotAll: false });
    agree('^abc$', values, { ignoreCase: false, multiline: true, dotAll: false });
    agree('a.c', values, { ignoreCase: false, multiline: false, dotAll: true });
  });

  it('reads Python where JavaScript differs: `]` first in a class, `{,n}`', () => {
    expect(ours('[]a]')(']')).toBe(true);
    expect(ours('[]a]')('a')).toBe(true);
    expect(ours('[]a]')('b')).toBe(false);
    expect(ours('^a{,2}b$')('b')).toBe(true);
    expect(ours('^a{,2}b$')('aab')).toBe(true);
    expect(ours('^a{,2}b$')('aaab')).toBe(false);
  });

  it('reads `\\0` with up to two more octal digits as one character, as Python and PCRE do', () => {
    expect(ours('^\\012$')('\n')).toBe(true);
    expect(ours('^\\012$')('\u000012')).toBe(false);
    expect(ours('^\\0$')('\u0000')).toBe(true);
    expect(ours('^\\07$')('\u0007')).toBe(true);
    // A third digit, or an 8, is a literal after the escape.
    expect(ours('^\\0123$')('\n3')).toBe(true);
    expect(ours('^\\08$')('\u00008')).toBe(true);
  });

  it('Python reads `$` as the end or before a final newline', () => {
    expect(ours('abc$')('abc\n')).toBe(true);
    expect(ours('abc$')('abc\n\n')).toBe(false);
  });

  it('refuses what the automaton cannot run, with the offset', () => {
    const refused = (p: string): PcreError => {
      try {
        parsePcre(p, NO_FLAGS);
      } catch (error) {
        if (error instanceof PcreError) return error;
        throw error;
      }
      throw new Error(`${p} parsed`);
    };
    expect(refused('(a)\\1')).toMatchObject({ unsupported: true, index: 3 });
    expect(refused('a(?=b)')).toMatchObject({ unsupported: true, index: 1 });
    expect(refused('a(?!b)')).toMatchObject({ unsupported: true });
    expect(refused('(?<=a)b')).toMatchObject({ unsupported: true });
    expect(refused('a\\b')).toMatchObject({ unsupported: true, index: 1 });
    expect(refused('(?>a)')).toMatchObject({ unsupported: true });
    expect(refused('a*+')).toMatchObject({ unsupported: true });
    expect(refused('a^b')).toMatchObject({ unsupported: true, index: 1 });
    expect(refused('a$b')).toMatchObject({ unsupported: true, index: 1 });
    expect(refused('(^a)*')).toMatchObject({ unsupported: true });
    expect(refused('a(?i)b')).toMatchObject({ unsupported: true });
    expect(refused('\\p{L}')).toMatchObject({ unsupported: true });
    expect(refused('a(b')).toMatchObject({ unsupported: false });
    expect(refused('a**')).toMatchObject({ unsupported: false });
    expect(refused('\\q')).toMatchObject({ unsupported: false });
    expect(refused('[b-a]')).toMatchObject({ unsupported: false });
  });

  it('stays linear where a backtracking engine explodes', () => {
    const m = ours('(a+)+b');
    expect(m('a'.repeat(50_000))).toBe(false);
    expect(m(`${'a'.repeat(50_000)}b`)).toBe(true);
  });
});

describe("SigmaHQ's own patterns", () => {
  it('agree with RegExp on the regression events and seeded values', async () => {
    const { rules } = await loadSigmaPath(path.join(SIGMA, 'rules'));
    const patterns: { pattern: string; flags: PcreFlags }[] = [];
    const visit = (node: SearchNode): void => {
      if (node.kind === 'anyOf') for (const m of node.maps) visit(m);
      else {
        for (const item of node.items) {
          for (const v of item.values)
            if (v.kind === 're') patterns.push({ pattern: v.pattern, flags: v.flags });
        }
      }
    };
    for (const r of rules) for (const s of r.searches.values()) visit(s);
    expect(patterns.length).toBeGreaterThan(100);
    // Every string of every regression event.
    const eventValues: string[] = [];
    const { readdirSync } = await import('node:fs');
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.json')) {
          for (const ev of readEvtxJson(readFileSync(p, 'utf8'))) {
            for (const v of ev.values())
              if (typeof v === 'string' && !/[\r\u0080-\uffff]|\n$/.test(v)) eventValues.push(v);
          }
        }
      }
    };
    walk(path.join(SIGMA, 'regression_data'));
    let seed = 1;
    for (const { pattern, flags } of patterns)
      agree(pattern, [...eventValues, ...valuesFor(pattern, seed++, 100)], flags);
  }, 120_000);
});
