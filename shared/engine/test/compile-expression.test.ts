import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parse } from '@sequor/eql';
import { createFieldCatalog, type FieldInfo, type FieldType } from '@sequor/model';
import { newIpWords, parseCidr, parseIpInto } from '../src/compile/ip.js';
import {
  compileLuceneRegex,
  compileQuery,
  compileWildcard,
  InvalidPatternError,
  QueryCompileError,
  TypeMismatchError,
  UnknownFieldError,
  UnknownFunctionError,
  type FilterSpec,
} from '../src/index.js';

const field = (
  name: string,
  type: FieldType,
  storagePath = name === '@timestamp' ? ['timestamp'] : name.split('.'),
): FieldInfo => ({ name, storagePath, type });

const catalog = createFieldCatalog([
  field('@timestamp', 'timestamp'),
  field('event.category', 'string[]'),
  field('event.sequence', 'long'),
  field('winlog.event_id', 'string'),
  field('process.name', 'string'),
  field('process.pid', 'long'),
  field('process.elevated', 'boolean'),
  field('file.path', 'string'),
  field('file.size', 'long'),
  field('registry.path', 'string'),
  field('registry.data.strings', 'string[]'),
  field('source.ip', 'ip'),
  field('host.ip', 'ip[]'),
  field('user.name', 'string'),
]);

type Ev = Record<string, unknown>;

function compileWhere(where: string): (event: Ev) => boolean {
  const compiled = compileQuery<Ev>(parse(`any where ${where}`), catalog);
  return (compiled.spec as FilterSpec<Ev>).predicate;
}

function matches(where: string, event: Ev): boolean {
  return compileWhere(where)(event);
}

function compileErrors(source: string): QueryCompileError {
  try {
    compileQuery(parse(source), catalog);
  } catch (error) {
    if (error instanceof QueryCompileError) return error;
    throw error;
  }
  throw new Error(`expected ${source} not to compile`);
}

const proc = (name: unknown, extra: Ev = {}): Ev => ({ process: { name }, ...extra });

describe('case sensitivity per operator (Elasticsearch EQL)', () => {
  const event = proc('SvcHost.exe');
  it.each([
    ['process.name == "SvcHost.exe"', true],
    ['process.name == "svchost.exe"', false],
    ['process.name != "svchost.exe"', true],
    ['process.name : "svchost.exe"', true],
    ['process.name : "SVCHOST.*"', true],
    ['process.name like "svchost.*"', false],
    ['process.name like "SvcHost.*"', true],
    ['process.name like~ "svchost.*"', true],
    ['process.name regex "svc.*"', false],
    ['process.name regex "Svc.*"', true],
    ['process.name regex~ "svc.*"', true],
    ['process.name in ("svchost.exe", "x")', false],
    ['process.name in~ ("svchost.exe", "x")', true],
    ['process.name not in ("svchost.exe")', true],
    ['process.name not in~ ("svchost.exe")', false],
    ['startsWith(process.name, "svc")', false],
    ['startsWith~(process.name, "svc")', true],
    ['endsWith(process.name, ".EXE")', false],
    ['endsWith~(process.name, ".EXE")', true],
    ['stringContains(process.name, "host")', false],
    ['stringContains~(process.name, "host")', true],
    ['process.name > "Svc"', true],
    ['process.name > "svc"', false],
  ])('%s → %s', (where, expected) => {
    expect(matches(where, event)).toBe(expected);
  });
});

describe('wildcards', () => {
  it('? matches exactly one character and * any run, over the whole value', () => {
    expect(matches('process.name : "doc?"', proc('docs'))).toBe(true);
    expect(matches('process.name : "doc?"', proc('doc'))).toBe(false);
    expect(matches('process.name : "doc?"', proc('documents'))).toBe(false);
    expect(matches('process.name : "d?c"', proc('disc'))).toBe(false);
    expect(matches('process.name : "d*c"', proc('disc'))).toBe(true);
    expect(matches('process.name : "doc"', proc('a doc'))).toBe(false);
  });

  it('a list matches when any pattern does', () => {
    const where = 'process.name : ("cmd.exe", "power*", "*.ps1", "?script.exe")';
    for (const name of ['CMD.EXE', 'PowerShell.exe', 'x.PS1', 'wscript.exe', 'cscript.exe'])
      expect(matches(where, proc(name))).toBe(true);
    for (const name of ['cmd.exe2', 'xpowershell', 'script.exe'])
      expect(matches(where, proc(name))).toBe(false);
  });

  it('backslashes are literal: "*\\\\Software\\\\Remcos*" matches the registry key, not look-alikes', () => {
    const where = String.raw`registry.path : "*\\Software\\Remcos*"`;
    expect(matches(where, { registry: { path: String.raw`HKU\S-1-5-21\Software\Remcos-ABC\exepath` } })).toBe(
      true,
    );
    expect(matches(where, { registry: { path: String.raw`HKU\S-1-5-21\SOFTWARE\remcos` } })).toBe(true);
    expect(matches(where, { registry: { path: 'HKU/Software/Remcos' } })).toBe(false);
    expect(matches(where, { registry: { path: String.raw`HKU\SoftwareRemcos` } })).toBe(false);
  });

  it('regex metacharacters in wildcard patterns are literal', () => {
    expect(matches('file.path : "c:\\\\a.b(1)*"', { file: { path: 'C:\\A.B(1).txt' } })).toBe(true);
    expect(matches('file.path : "c:\\\\a.b(1)*"', { file: { path: 'C:\\AxB(1).txt' } })).toBe(false);
  });

  it('each pattern shape compiles to a test with the same answers as the general RegExp', () => {
    const values = ['', 'a', 'abc', 'xabcx', 'abcabc', 'ab', 'cab', 'a\nc', 'ABC'];
    for (const pattern of ['abc', 'abc*', '*abc', '*abc*', '*', '**', 'a*c', 'a?c', '?', '*b*c', 'a**']) {
      const body = Array.from(pattern)
        .map((c) => (c === '*' ? '[^]*' : c === '?' ? '.' : c))
        .join('');
      const reference = new RegExp(`^(?:${body})$`, 'su');
      const compiled = compileWildcard(pattern);
      for (const value of values)
        expect([pattern, value, compiled(value)]).toEqual([pattern, value, reference.test(value)]);
    }
  });
});

describe('null and missing fields (ES: field queries are two-valued, scripts three-valued)', () => {
  const empty: Ev = { process: { name: 'x' } };
  it.each([
    ['user.name == "bob"', false],
    ['user.name != "bob"', true], // must_not term: a missing field is "not equal"
    ['not user.name == "bob"', true],
    ['user.name == null', true],
    ['user.name != null', false],
    ['not user.name != null', true],
    ['file.size < 5', false],
    ['file.size >= 5', false],
    ['not file.size < 5', true],
    ['user.name : "*"', false],
    ['not user.name : "b*"', true],
    ['user.name in ("bob")', false],
    ['user.name not in ("bob")', true],
    ['startsWith(user.name, "b")', false],
    ['not startsWith(user.name, "b")', true], // pushed down as a prefix query
    ['endsWith(user.name, "b")', false],
    ['not endsWith(user.name, "b")', false], // a script: not(null) is null
    ['not not endsWith(user.name, "b")', false],
    ['not (endsWith(user.name, "b") and true)', true], // the bool query negated: null collapsed to false first
    ['length(user.name) > 0', false],
    ['not length(user.name) > 0', false],
    ['length(user.name) == null', true],
    ['?user.nickname == null', true],
    ['?user.nickname != "x"', true],
    ['endsWith(user.name, "b") or process.name == "x"', true],
  ])('%s → %s on an event without the field', (where, expected) => {
    expect(matches(where, empty)).toBe(expected);
  });

  it('an explicit null and an empty array are missing too', () => {
    expect(matches('user.name == null', { user: { name: null } })).toBe(true);
    expect(matches('registry.data.strings == null', { registry: { data: { strings: [] } } })).toBe(true);
    expect(matches('registry.data.strings != null', { registry: { data: { strings: ['a'] } } })).toBe(true);
  });
});

describe('multi-valued fields: any value matches', () => {
  const event: Ev = {
    event: { category: ['network', 'process'] },
    registry: { data: { strings: ['C:\\x.exe', 'Evil Payload'] } },
  };
  it.each([
    ['event.category == "process"', true],
    ['event.category != "process"', false], // must_not term: no value may equal it
    ['event.category != "file"', true],
    ['event.category : "PROC*"', true],
    ['event.category in ("file", "process")', true],
    ['event.category not in ("file", "process")', false],
    ['registry.data.strings : "*payload*"', true],
    ['registry.data.strings like "*payload*"', false],
    ['stringContains(registry.data.strings, "Evil")', true],
    ['endsWith~(registry.data.strings, ".EXE")', true],
    ['length(registry.data.strings) == 2', true],
  ])('%s → %s', (where, expected) => {
    expect(matches(where, event)).toBe(expected);
  });

  it('a category restricts to events whose event.category holds it', () => {
    const compiled = compileQuery<Ev>(parse('process where true'), catalog).spec as FilterSpec<Ev>;
    expect(compiled.predicate(event)).toBe(true);
    expect(compiled.predicate({ event: { category: ['file'] } })).toBe(false);
    expect(compiled.predicate({ event: { category: 'process' } })).toBe(true);
    expect(compiled.predicate({})).toBe(false);
    const any = compileQuery<Ev>(parse('any where true'), catalog).spec as FilterSpec<Ev>;
    expect(any.predicate({})).toBe(true);
  });
});

describe('numbers, numeric strings and typed literals', () => {
  it('a literal takes the field type: numeric strings compare as numbers on numeric fields', () => {
    expect(matches('file.size >= "30000"', { file: { size: 30000 } })).toBe(true);
    expect(matches('file.size >= "30000"', { file: { size: 9999 } })).toBe(false);
    expect(matches('file.size == 30000.0', { file: { size: 30000 } })).toBe(true);
  });

  it('a number compared with a string field compares its text (winlog.event_id is a string)', () => {
    expect(matches('winlog.event_id == 4624', { winlog: { event_id: '4624' } })).toBe(true);
    expect(matches('winlog.event_id in (4624, 4625)', { winlog: { event_id: '4625' } })).toBe(true);
    expect(matches('winlog.event_id == 4624', { winlog: { event_id: '04624' } })).toBe(false);
  });

  it('a numeric string found in a numeric field at run time compares as a number', () => {
    expect(matches('file.size > 100', { file: { size: '250' } })).toBe(true);
    expect(matches('file.size > 100', { file: { size: 'n/a' } })).toBe(false);
  });

  it('strings order lexicographically, not numerically', () => {
    expect(matches('process.name < "b"', proc('abc'))).toBe(true);
    expect(matches('winlog.event_id > 5', { winlog: { event_id: '10' } })).toBe(false);
  });

  it('a literal that cannot take the field type is a compile error at its position', () => {
    const error = compileErrors('any where file.size == "big"');
    expect(error.errors[0]).toBeInstanceOf(TypeMismatchError);
    expect(error.errors[0]).toMatchObject({ line: 1, column: 11 });
    expect(compileErrors('any where file.size : "1*"').errors[0]).toBeInstanceOf(TypeMismatchError);
    expect(compileErrors('any where process.elevated < true').errors[0]).toBeInstanceOf(TypeMismatchError);
  });

  it('booleans and timestamps', () => {
    expect(matches('process.elevated == true', { process: { elevated: true } })).toBe(true);
    expect(matches('process.elevated', { process: { elevated: true } })).toBe(true);
    expect(matches('not process.elevated', { process: { elevated: false } })).toBe(true);
    expect(
      matches('@timestamp >= "2024-01-01T00:00:00Z"', { timestamp: Date.parse('2024-01-02T00:00:00Z') }),
    ).toBe(true);
    expect(
      matches('@timestamp >= "2024-01-01T00:00:00Z"', { timestamp: Date.parse('2023-12-31T00:00:00Z') }),
    ).toBe(false);
  });

  it('a literal on the left is swapped to the right (ES LiteralsOnTheRight)', () => {
    expect(matches('30000 <= file.size', { file: { size: 30000 } })).toBe(true);
    expect(matches('30000 < file.size', { file: { size: 30000 } })).toBe(false);
    expect(matches('"x" == process.name', proc('x'))).toBe(true);
  });
});

describe('IP addresses and cidrMatch', () => {
  it.each([
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.168.255.1', true],
    ['::ffff:10.9.9.9', true], // IPv4-mapped IPv6 is the IPv4 address
    ['fe80::1', true],
    ['FE80:0:0:0:abcd::1', true],
    ['fec0::1', false],
    ['2001:db8::1', false],
    ['not an ip', false],
  ])('cidrMatch(source.ip, "10.0.0.0/8", "192.168.0.0/16", "fe80::/10") on %s → %s', (ip, expected) => {
    expect(
      matches('cidrMatch(source.ip, "10.0.0.0/8", "192.168.0.0/16", "fe80::/10")', { source: { ip } }),
    ).toBe(expected);
  });

  it('an IPv4 block never matches a native IPv6 address, and /0 blocks split by family', () => {
    expect(matches('cidrMatch(source.ip, "0.0.0.0/0")', { source: { ip: '::1' } })).toBe(false);
    expect(matches('cidrMatch(source.ip, "0.0.0.0/0")', { source: { ip: '8.8.8.8' } })).toBe(true);
    expect(matches('cidrMatch(source.ip, "::/0")', { source: { ip: '8.8.8.8' } })).toBe(true);
  });

  it('multi-valued ip fields match when any address is in a block; missing is false, and not-missing true', () => {
    expect(matches('cidrMatch(host.ip, "172.16.0.0/12")', { host: { ip: ['8.8.8.8', '172.20.1.1'] } })).toBe(
      true,
    );
    expect(matches('cidrMatch(host.ip, "172.16.0.0/12")', { host: { ip: ['8.8.8.8'] } })).toBe(false);
    expect(matches('cidrMatch(source.ip, "10.0.0.0/8")', {})).toBe(false);
    expect(matches('not cidrMatch(source.ip, "10.0.0.0/8")', {})).toBe(true);
  });

  it('ip fields compare as addresses', () => {
    expect(matches('source.ip == "::1"', { source: { ip: '0:0:0:0:0:0:0:1' } })).toBe(true);
    expect(matches('source.ip != "::1"', { source: { ip: '::1' } })).toBe(false);
    expect(matches('source.ip != "127.0.0.1"', { source: { ip: '::ffff:127.0.0.1' } })).toBe(false);
    expect(matches('source.ip in ("10.0.0.1", "::2")', { source: { ip: '0::2' } })).toBe(true);
  });

  it('parses exactly what node:net accepts, and equal addresses compare equal (reference: URL canonical form)', () => {
    const samples = [
      '1.2.3.4',
      '255.255.255.255',
      '0.0.0.0',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1..3.4',
      '',
      '::',
      '::1',
      '1::',
      'fe80::1',
      'FE80::0:1',
      '2001:db8:0:0:0:0:2:1',
      '2001:db8::2:1',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      ':1:2',
      '1::2::3',
      '12345::',
      'g::1',
      '::ffff:1.2.3.4',
      '::1.2.3.4',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::ffff:1.2.3',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
    ];
    const canonical = (ip: string): string =>
      ip.includes(':') ? new URL(`http://[${ip.split('%')[0]}]`).hostname : ip;
    const words = samples.map(() => newIpWords());
    samples.forEach((ip, i) => {
      // node:net rejects leading zeros in IPv4 ('01.2.3.4') and so do we.
      expect([ip, parseIpInto(ip, words[i]!)]).toEqual([ip, isIP(ip.split('%')[0]!) !== 0]);
    });
    const valid = samples
      .map((ip, i) => ({ ip, w: words[i]! }))
      .filter(({ ip }) => isIP(ip.split('%')[0]!) !== 0 && ip.includes(':'));
    for (const a of valid)
      for (const b of valid) {
        const same = a.w.every((x, k) => x === b.w[k]);
        expect([a.ip, b.ip, same]).toEqual([a.ip, b.ip, canonical(a.ip) === canonical(b.ip)]);
      }
    expect(parseCidr('10.0.0.0/8')).not.toBeNull();
    expect(parseCidr('10.0.0.0/x')).toBeNull();
    expect(parseCidr('::/129')).toBeNull();
  });

  it('an invalid block is a compile error pointing at the literal', () => {
    const error = compileErrors('any where cidrMatch(source.ip, "10.0.0.0/33")');
    expect(error.errors[0]).toBeInstanceOf(InvalidPatternError);
    expect(error.errors[0]).toMatchObject({ column: 32 });
    expect(compileErrors('any where source.ip == "300.1.1.1"').errors[0]).toBeInstanceOf(TypeMismatchError);
  });
});

describe('regex: Lucene syntax, anchored', () => {
  it.each([
    ['process.name regex "svc.*"', 'svchost.exe', true],
    ['process.name regex "host"', 'svchost.exe', false], // whole value, not a search
    ['process.name regex "^svc.*$"', 'svchost.exe', false], // ^ and $ are literal in Lucene
    ['process.name regex "\\\\^a"', '^a', true],
    ['process.name regex "a\\"b.c\\"d"', 'ab.cd', true],
    ['process.name regex "a\\"b.c\\"d"', 'abxcd', false],
    ['process.name regex "x<1-12>"', 'x12', true],
    ['process.name regex "x<1-12>"', 'x13', false],
    ['process.name regex "[a-c]+\\\\d{2}"', 'abc42', true],
    ['process.name regex "a@"', 'anything', true],
    ['process.name regex "(cmd|powershell)\\\\.exe"', 'powershell.exe', true],
    ['process.name regex ("x", "y.")', 'yz', true],
  ])('%s on %s → %s', (where, name, expected) => {
    expect(matches(where, proc(name))).toBe(expected);
  });

  it('complement and intersection have no RegExp equivalent: a compile error, not an approximation', () => {
    expect(compileErrors('any where process.name regex "~(a)"').errors[0]).toBeInstanceOf(
      InvalidPatternError,
    );
    expect(compileErrors('any where process.name regex "a&b"').errors[0]).toBeInstanceOf(InvalidPatternError);
    expect(() => compileLuceneRegex('(a', false)).toThrow(/unbalanced/);
  });
});

describe('functions', () => {
  const event: Ev = {
    process: { name: 'powershell.exe', pid: 42 },
    file: { path: 'C:\\Windows\\System32\\evil.dll' },
  };
  it.each([
    ['length(process.name) == 14', true],
    ['between(file.path, "\\\\", "\\\\") == "Windows"', true],
    ['between(file.path, "\\\\", "\\\\", true) == "Windows\\\\System32"', true],
    ['between~(file.path, "WINDOWS\\\\", "\\\\") == "System32"', true],
    ['substring(process.name, -4) == ".exe"', true],
    ['substring(process.name, 0, 5) == "power"', true],
    ['indexOf(process.name, "shell") == 5', true],
    ['indexOf(process.name, "nope") == null', true],
    ['indexOf~(process.name, "SHELL", 6) == null', true],
    ['concat(process.name, ":", process.pid) == "powershell.exe:42"', true],
    ['concat(process.name, user.name) == null', true],
    ['add(process.pid, 1) == 43', true],
    ['divide(process.pid, 5) == 8', true],
    ['divide(process.pid, 0) == null', true],
    ['modulo(process.pid, 5) == 2', true],
    ['multiply(subtract(process.pid, 2), 2) == 80', true],
    ['string(process.pid) == "42"', true],
    ['number("0x2A", 16) == process.pid', true],
    ['number("42") == 42', true],
    ['wildcard(process.name, "power*", "cmd*")', true],
    ['wildcard(process.name, "POWER*")', false],
    ['wildcard~(process.name, "POWER*")', true],
  ])('%s → %s', (where, expected) => {
    expect(matches(where, event)).toBe(expected);
  });

  // The examples of Elasticsearch's EQL function reference, evaluated on literals.
  it.each([
    ['add(4, 0.5) == 4.5'],
    ['between("C:\\\\Windows\\\\System32\\\\cmd.exe", "System32\\\\", ".exe") == "cmd"'],
    ['between("C:\\\\Windows\\\\System32\\\\cmd.exe", "workspace\\\\", ".exe") == ""'],
    ['between("", "", "") == ""'],
    ['concat("regsvr32.exe", " ", 42.5) == "regsvr32.exe 42.5"'],
    ['concat("regsvr32.exe", " ", true) == "regsvr32.exe true"'],
    ['divide(4, 3) == 1'],
    ['divide(4, -2) == -2'],
    ['divide(0.5, 4) == 0.125'],
    ['endsWith("", "")'],
    ['indexOf("subdomain.example.com", ".") == 9'],
    ['indexOf("subdomain.example.com", ".", 10) == 17'],
    ['indexOf("subdomain.example.com", ".", -6) == 9'],
    ['indexOf("subdomain.example.com", "", 10) == 10'],
    ['indexOf("subdomain.example.com", "", -6) == 0'],
    ['indexOf("subdomain.example.com", "z") == null'],
    ['indexOf("subdomain.example.com", ".", 30) == null'],
    ['length("") == 0'],
    ['modulo(10, -6) == 4'],
    ['modulo(-10, -6) == -4'],
    ['number("42.5") == 42.5'],
    ['number("deadbeef", 16) == 3735928559'],
    ['number("0xdeadbeef") == 3735928559'],
    ['number("+1337") == 1337'],
    ['number("  1337  ") == 1337'],
    ['number("1337", null) == 1337'],
    ['number("0xdeadbeef", null) == 3735928559'],
    ['startsWith("", "")'],
    ['string(42.5) == "42.5"'],
    ['string(true) == "true"'],
    ['not stringContains("", "")'],
    ['not stringContains("start regsvr32.exe", "")'],
    ['substring("start regsvr32.exe", 6, 14) == "regsvr32"'],
    ['substring("start regsvr32.exe", -4, -1) == ".ex"'],
    ['substring("start regsvr32.exe", 30) == ""'],
    ['subtract(1, 0.2) == 0.8'],
    ['wildcard("", "*")'],
    ['not wildcard("", "*start*")'],
    ['wildcard("", "")'],
  ])('ES reference: %s', (where) => {
    expect(matches(where, {})).toBe(true);
  });

  it('implements exactly the functions of the @sequor/eql registry, with the same arity and ~ forms', async () => {
    const { FUNCTIONS: registry } = await import('@sequor/eql');
    const { FUNCTIONS: implemented } = await import('../src/index.js');
    expect([...implemented.keys()].sort()).toEqual([...registry.keys()].sort());
    for (const [name, spec] of registry) {
      const def = implemented.get(name);
      expect({ name, min: def?.minArgs, max: def?.maxArgs, tilde: def?.caseInsensitive }).toEqual({
        name,
        min: spec.minArgs,
        max: spec.maxArgs,
        tilde: spec.tilde,
      });
    }
  });

  it('unknown functions, bad arity and ~ where none exists are errors', () => {
    expect(compileErrors('any where nosuch(process.name)').errors[0]).toBeInstanceOf(UnknownFunctionError);
    expect(compileErrors('any where length(process.name, 2) == 1').errors[0]).toBeInstanceOf(
      UnknownFunctionError,
    );
    expect(compileErrors('any where length~(process.name) == 1').errors[0]).toBeInstanceOf(
      UnknownFunctionError,
    );
    expect(compileErrors('any where length(process.name)').errors[0]).toBeInstanceOf(TypeMismatchError);
  });
});

describe('compile errors', () => {
  it('an unknown field is an UnknownFieldError with line, column and a suggestion', () => {
    const error = compileErrors('process where\n  proces.name == "x"');
    const first = error.errors[0] as UnknownFieldError;
    expect(first).toBeInstanceOf(UnknownFieldError);
    expect(first).toMatchObject({ line: 2, column: 3, field: 'proces.name', suggestions: ['process.name'] });
    expect(error.format('rule.eql')).toContain('rule.eql:2:3: unknown field');
  });

  it('collects every error of the query, in source order', () => {
    const error = compileErrors(
      'sequence by host.nope [process where a.b == 1] [file where file.size : "x" and regex_bad regex "a&b"]',
    );
    expect(error.errors.map((e) => `${e.column} ${e.constructor.name}`)).toEqual([
      '13 UnknownFieldError', // reported once although every item's key reads it
      '38 UnknownFieldError',
      '60 TypeMismatchError',
      '80 InvalidPatternError',
      '80 UnknownFieldError',
    ]);
    expect(error.message).toMatch(/^5 compile errors: 1:13: unknown field 'host.nope'/);
  });

  it('an ?optional field the model lacks reads as null instead of failing', () => {
    expect(matches('?winlog.logon.id == null', {})).toBe(true);
  });

  it('throws on an AST node kind it does not know (never silently matches)', () => {
    const query = parse('any where true');
    const bogus = {
      ...query,
      body: { ...query.body, where: { kind: 'xor', span: query.body.span } },
    } as unknown as typeof query;
    expect(() => compileQuery(bogus, catalog)).toThrow(/unhandled expression kind xor/);
  });
});
