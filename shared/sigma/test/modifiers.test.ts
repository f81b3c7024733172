import { describe, expect, it } from 'vitest';
import { matcher, refusal } from './helpers.js';

describe('plain values and wildcards', () => {
  it('match the whole value, case-insensitively', () => {
    const m = matcher('  sel:\n    Image: C:\\Windows\\System32\\cmd.exe\n  condition: sel');
    expect(m({ Image: 'c:\\windows\\system32\\CMD.EXE' })).toBe(true);
    expect(m({ Image: 'C:\\Windows\\System32\\cmd.exe ' })).toBe(false);
    expect(m({})).toBe(false);
  });

  it('* and ? are wildcards; \\* \\? \\\\ are literal', () => {
    const m = matcher("  sel:\n    F: 'a*b?c'\n  condition: sel");
    expect(m({ F: 'AxyzbQc' })).toBe(true);
    expect(m({ F: 'abc' })).toBe(false);
    const lit = matcher("  sel:\n    F: 'a\\*b\\?c\\\\d'\n  condition: sel");
    expect(lit({ F: 'a*b?c\\d' })).toBe(true);
    expect(lit({ F: 'axb?c\\d' })).toBe(false);
    expect(lit({ F: 'a*bxc\\d' })).toBe(false);
    const mixed = matcher("  sel:\n    F: '*lit\\*eral*'\n  condition: sel");
    expect(mixed({ F: 'xx LIT*ERAL yy' })).toBe(true);
    expect(mixed({ F: 'xx litXeral yy' })).toBe(false);
  });

  it('a list is any of its values; numbers match numbers and their text; null an absent field', () => {
    const m = matcher('  sel:\n    EventID: [1, 4688]\n  condition: sel');
    expect(m({ EventID: 4688 })).toBe(true);
    expect(m({ EventID: '1' })).toBe(true);
    expect(m({ EventID: 2 })).toBe(false);
    const n = matcher('  sel:\n    F: null\n  condition: sel');
    expect(n({})).toBe(true);
    expect(n({ F: null })).toBe(true);
    expect(n({ F: '' })).toBe(false);
    const empty = matcher("  sel:\n    F: ''\n  condition: sel");
    expect(empty({ F: '' })).toBe(true);
    expect(empty({})).toBe(false);
  });

  it('plain numbers with leading zeros are read as PyYAML (YAML 1.1) reads them', () => {
    const text = matcher('  sel:\n    Details|contains:\n      - 00000429\n  condition: sel');
    expect(text({ Details: 'DWORD (0x00000429) 00000429' })).toBe(true);
    expect(text({ Details: '429' })).toBe(false);
    const octal = matcher('  sel:\n    N: 0755\n  condition: sel');
    expect(octal({ N: 493 })).toBe(true);
    expect(octal({ N: 755 })).toBe(false);
  });

  it('keywords match as substrings of any field', () => {
    const m = matcher("  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords");
    expect(m({ A: 'x', CommandLine: 'run MimiKatz.exe' })).toBe(true);
    expect(m({ A: 'x' })).toBe(false);
  });
});

describe('modifiers', () => {
  it('contains / startswith / endswith', () => {
    const c = matcher("  sel:\n    F|contains: 'mid'\n  condition: sel");
    expect(c({ F: 'aMIDb' })).toBe(true);
    expect(c({ F: 'mi d' })).toBe(false);
    const s = matcher("  sel:\n    F|startswith: 'pre'\n  condition: sel");
    expect(s({ F: 'prefix' })).toBe(true);
    expect(s({ F: 'apre' })).toBe(false);
    const e = matcher("  sel:\n    F|endswith: '.exe'\n  condition: sel");
    expect(e({ F: 'a.EXE' })).toBe(true);
    expect(e({ F: 'a.exe.txt' })).toBe(false);
  });

  it('all requires every value', () => {
    const m = matcher("  sel:\n    F|contains|all: ['a', 'b']\n  condition: sel");
    expect(m({ F: 'xaxbx' })).toBe(true);
    expect(m({ F: 'xax' })).toBe(false);
  });

  it('cased matches exactly', () => {
    const m = matcher("  sel:\n    F|cased: 'CaSe'\n  condition: sel");
    expect(m({ F: 'CaSe' })).toBe(true);
    expect(m({ F: 'case' })).toBe(false);
  });

  it('base64 and base64offset', () => {
    const b = matcher("  sel:\n    F|base64: 'hello'\n  condition: sel");
    expect(b({ F: Buffer.from('hello').toString('base64') })).toBe(true);
    const o = matcher("  sel:\n    F|base64offset|contains: 'http://'\n  condition: sel");
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}http://evil`).toString('base64');
      expect(o({ F: `powershell -enc ${encoded}` })).toBe(true);
    }
    expect(o({ F: Buffer.from('https://x').toString('base64') })).toBe(false);
  });

  it('utf16le / wide / utf16be / utf16 before base64', () => {
    const le = matcher("  sel:\n    F|wide|base64offset|contains: 'ping'\n  condition: sel");
    expect(le({ F: Buffer.from('xping -n', 'utf16le').toString('base64') })).toBe(true);
    expect(le({ F: Buffer.from('xping -n', 'utf8').toString('base64') })).toBe(false);
    const be = matcher("  sel:\n    F|utf16be|base64: 'ab'\n  condition: sel");
    expect(be({ F: Buffer.from([0, 0x61, 0, 0x62]).toString('base64') })).toBe(true);
    const bom = matcher("  sel:\n    F|utf16|base64: 'ab'\n  condition: sel");
    expect(bom({ F: Buffer.from([0xff, 0xfe, 0x61, 0, 0x62, 0]).toString('base64') })).toBe(true);
  });

  it('windash expands - and / at a word start to every dash', () => {
    const m = matcher("  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel");
    for (const d of ['-', '/', '\u2013', '\u2014', '\u2015'])
      expect(m({ CommandLine: `ps ${d}enc x` })).toBe(true);
    expect(m({ CommandLine: 'ps +enc x' })).toBe(false);
    // Not at a word start: left as written.
    const mid = matcher("  sel:\n    F|windash: 'a-b'\n  condition: sel");
    expect(mid({ F: 'a-b' })).toBe(true);
    expect(mid({ F: 'a/b' })).toBe(false);
  });

  it('re: a search, case-sensitive unless i; m and s flags', () => {
    const m = matcher("  sel:\n    F|re: 'a\\d{2,3}b'\n  condition: sel");
    expect(m({ F: 'xxa12byy' })).toBe(true);
    expect(m({ F: 'A12B' })).toBe(false);
    const i = matcher("  sel:\n    F|re|i: '^abc$'\n  condition: sel");
    expect(i({ F: 'ABC' })).toBe(true);
    expect(i({ F: 'xABC' })).toBe(false);
    const inline = matcher("  sel:\n    F|re: '(?i)^abc'\n  condition: sel");
    expect(inline({ F: 'AbCd' })).toBe(true);
    const ml = matcher("  sel:\n    F|re|m: '^two$'\n  condition: sel");
    expect(ml({ F: 'one\ntwo\nthree' })).toBe(true);
    const noMl = matcher("  sel:\n    F|re: '^two$'\n  condition: sel");
    expect(noMl({ F: 'one\ntwo\nthree' })).toBe(false);
    const dot = matcher("  sel:\n    F|re: 'a.b'\n  condition: sel");
    expect(dot({ F: 'a\nb' })).toBe(false);
    const dotAll = matcher("  sel:\n    F|re|s: 'a.b'\n  condition: sel");
    expect(dotAll({ F: 'a\nb' })).toBe(true);
  });

  it('cidr', () => {
    const m = matcher("  sel:\n    DestinationIp|cidr: ['10.0.0.0/8', 'fe80::/10']\n  condition: sel");
    expect(m({ DestinationIp: '10.1.2.3' })).toBe(true);
    expect(m({ DestinationIp: 'fe80::1' })).toBe(true);
    expect(m({ DestinationIp: '11.0.0.1' })).toBe(false);
    expect(m({ DestinationIp: 'not an ip' })).toBe(false);
  });

  it('gt / gte / lt / lte compare numbers and numeric text', () => {
    const m = matcher('  sel:\n    N|gt: 10\n    M|lte: 5\n  condition: sel');
    expect(m({ N: 11, M: '5' })).toBe(true);
    expect(m({ N: 10, M: 5 })).toBe(false);
    expect(m({ N: 'x', M: 5 })).toBe(false);
    const ge = matcher('  sel:\n    N|gte: 10\n  condition: sel');
    expect(ge({ N: 10 })).toBe(true);
    const lt = matcher('  sel:\n    N|lt: 10\n  condition: sel');
    expect(lt({ N: 9.5 })).toBe(true);
  });

  it('exists', () => {
    const yes = matcher('  sel:\n    F|exists: true\n  condition: sel');
    expect(yes({ F: '' })).toBe(true);
    expect(yes({})).toBe(false);
    const no = matcher('  sel:\n    F|exists: false\n  condition: sel');
    expect(no({})).toBe(true);
    expect(no({ F: 'x' })).toBe(false);
  });

  it('fieldref compares with another field (and with contains/startswith/endswith)', () => {
    const m = matcher('  sel:\n    A|fieldref: B\n  condition: sel');
    expect(m({ A: 'X', B: 'x' })).toBe(true);
    expect(m({ A: 'X', B: 'y' })).toBe(false);
    expect(m({ A: 'X' })).toBe(false);
    const c = matcher('  sel:\n    A|fieldref|endswith: B\n  condition: sel');
    expect(c({ A: 'c:\\a\\b.exe', B: 'b.exe' })).toBe(true);
  });
});

describe('modifier errors and refusals, with positions', () => {
  it('an unknown modifier is an error at its key', () => {
    expect(refusal("  sel:\n    F|contians: 'x'\n  condition: sel")).toMatchObject({
      code: 'invalid-modifier',
      line: 10,
      column: 5,
    });
  });

  it('a valid modifier we cannot run is refused with its reason', () => {
    const r = refusal("  sel:\n    F|expand: '%x%'\n  condition: sel");
    expect(r.code).toBe('unsupported');
    expect(r.detail).toMatch(/placeholders/);
  });

  it('base64 of a wildcard, cidr of a non-network, exists without a boolean', () => {
    expect(refusal("  sel:\n    F|base64: 'a*'\n  condition: sel").code).toBe('invalid-modifier');
    expect(refusal("  sel:\n    F|cidr: '10.0.0.0/99'\n  condition: sel").code).toBe('invalid-modifier');
    expect(refusal("  sel:\n    F|exists: 'yes'\n  condition: sel").code).toBe('invalid-modifier');
    expect(refusal("  sel:\n    F|contains|re: 'a'\n  condition: sel").code).toBe('invalid-modifier');
  });

  it('a regex with a backreference or lookaround is refused at the offending column', () => {
    const back = refusal("  sel:\n    F|re: '(a)\\1'\n  condition: sel");
    expect(back).toMatchObject({ code: 'unsupported', line: 10, column: 15 });
    expect(back.detail).toMatch(/backreference/);
    const look = refusal("  sel:\n    F|re: 'a(?=b)'\n  condition: sel");
    expect(look).toMatchObject({ code: 'unsupported', line: 10, column: 13 });
    expect(look.detail).toMatch(/lookahead/);
    expect(refusal("  sel:\n    F|re: 'a(?<!b)'\n  condition: sel").detail).toMatch(/lookbehind/);
    expect(refusal("  sel:\n    F|re: '\\bword'\n  condition: sel").detail).toMatch(/word boundary/);
    expect(refusal("  sel:\n    F|re: 'a(b'\n  condition: sel").code).toBe('invalid-value');
  });
});
