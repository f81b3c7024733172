import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventFieldCatalog } from '@sequor/model';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { compileRule } from '../src/compile.js';
import { compileExceptions, withExceptions } from '../src/exceptions.js';
import { loadRuleFiles } from '../src/loader.js';
import type { Rule } from '../src/types.js';
import type { ValueListSet } from '../src/value-lists.js';
import { loadValueLists, MAX_VALUE_LIST_ENTRIES, parseValueList } from '../src/value-lists.js';
import { validRule } from './fixtures.js';
import { decode, matchesOf } from './helpers.js';

const file = 'rules/test.yaml';
const work = mkdtempSync(path.join(tmpdir(), 'sequor-exceptions-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function listSet(files: Record<string, string>): ValueListSet {
  const lists = new Map(
    Object.entries(files).map(([base, text]) => {
      const [name, type] = base.split('.') as [string, 'keyword' | 'ip' | 'cidr' | 'wildcard'];
      return [name, parseValueList(name, type, `lists/${base}`, text)];
    }),
  );
  return { dir: 'lists', lists, refused: new Map() };
}

const lists = listSet({
  'service-accounts.keyword': '# accounts that run the agents\nsvc_backup\nSVC_Deploy\n\n',
  'scanners.cidr': '10.20.0.0/16\n192.168.7.7\n2001:db8::/32\n',
  'tools.wildcard': 'C:\\Tools\\*\n*\\Acme\\agent.exe\n',
});

// validRule is 21 lines; an exceptions block starts at line 22.
function loaded(block: string, valueLists: ValueListSet = lists): Rule {
  const r = analyzeRuleText(validRule + block, file, { valueLists });
  expect(r.errors.map((e) => e.format())).toEqual([]);
  return r.rule!;
}

describe('exceptions in a rule file', () => {
  it('loads one-entry items and entries items, with case, negate and lists resolved', () => {
    const rule = loaded(
      [
        'exceptions:',
        '  - { field: process.executable, operator: matches, values: ["C:\\\\Program Files\\\\Acme\\\\*"] }',
        '  - { field: source.ip, operator: cidr, values: [10.0.0.0/8] }',
        '  - { field: user.name, operator: in_list, list: service-accounts }',
        '  - entries:',
        '      - { field: host.name, operator: is, values: [build01] }',
        '      - { field: process.name, operator: is, values: msbuild.exe, negate: true }',
        '',
      ].join('\n'),
    );
    const items = rule.exceptions ?? [];
    expect(
      items.map((i) => i.entries.map((e) => [e.field, e.operator, e.values, e.list?.name ?? null, e.negate])),
    ).toEqual([
      [['process.executable', 'matches', ['C:\\Program Files\\Acme\\*'], null, false]],
      [['source.ip', 'cidr', ['10.0.0.0/8'], null, false]],
      [['user.name', 'in_list', [], 'service-accounts', false]],
      [
        ['host.name', 'is', ['build01'], null, false],
        ['process.name', 'is', ['msbuild.exe'], null, true],
      ],
    ]);
    expect(loaded('').exceptions).toBeUndefined();
  });

  it('reports each bad piece at its file:line:column', () => {
    const r = analyzeRuleText(
      validRule +
        [
          'exceptions:',
          '  - { field: process.exe, operator: is, values: [a] }',
          '  - { field: source.ip, operator: cidr, values: [10.0.0.0/33] }',
          '  - { field: user.name, operator: like, values: [a] }',
          '  - { field: user.name, operator: in_list, list: nobody }',
          '  - { field: user.name, operator: cidr, values: [10.0.0.1] }',
          '  - { field: user.name, operator: is, valeus: [a] }',
          '',
        ].join('\n'),
      file,
      { valueLists: lists },
    );
    expect(r.rule).toBeNull();
    expect(r.errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['eql-semantic', 23, 14],
      ['invalid-field', 24, 50],
      ['invalid-field', 25, 35],
      ['value-list', 26, 50],
      ['invalid-field', 27, 35],
      ['unknown-key', 28, 39],
      ['invalid-field', 28, 5],
    ]);
    expect(r.errors.map((e) => e.detail)).toEqual([
      expect.stringMatching(/unknown field `process.exe`: the event model has no such field/),
      expect.stringMatching(/"10.0.0.0\/33" is not an IP address or CIDR block/),
      expect.stringMatching(/`operator` must be one of is, matches, cidr, in_list, exists, found "like"/),
      'value list "nobody" is missing: no nobody.keyword|ip|cidr|wildcard in lists',
      expect.stringMatching(/`cidr` needs an ip field; `user.name` is string/),
      expect.stringMatching(/unknown key `valeus`/),
      expect.stringMatching(/`is` needs `values`/),
    ]);
    expect(r.errors[3]?.message).toMatch(/^rules\/test\.yaml:26:50: /);
  });

  it('a list named without a lists folder, or refused, says so', () => {
    const none = analyzeRuleText(
      `${validRule}exceptions:\n  - { field: user.name, operator: in_list, list: admins }\n`,
      file,
    );
    expect(none.errors.map((e) => e.detail)).toEqual([
      'value list "admins" is not loaded: no value lists folder is set (--lists DIR, VALUE_LISTS_DIR)',
    ]);
    const refused = analyzeRuleText(
      `${validRule}exceptions:\n  - { field: user.name, operator: in_list, list: admins }\n`,
      file,
      {
        valueLists: {
          dir: 'lists',
          lists: new Map(),
          refused: new Map([
            [
              'admins',
              { name: 'admins', file: 'lists/admins.keyword', reason: 'lists/admins.keyword: too big' },
            ],
          ]),
        },
      },
    );
    expect(refused.errors.map((e) => e.detail)).toEqual([
      'value list "admins" was refused: lists/admins.keyword: too big',
    ]);
  });

  it('refuses exceptions written with no value (it excepted nothing without a word); [] is none on purpose', () => {
    const empty = analyzeRuleText(
      `${validRule}exceptions:\n  # - { field: user.name, operator: is, values: x }\n`,
      file,
    );
    expect(empty.rule).toBeNull();
    expect(empty.errors.map((e) => [e.line, e.detail])).toEqual([
      [22, expect.stringMatching(/`exceptions` is empty/)],
    ]);
    expect(loaded('exceptions: []\n').exceptions ?? []).toEqual([]);
  });
});

describe('exception operators', () => {
  const excepted = (block: string, doc: Record<string, unknown>): boolean => {
    const rule = loaded(`exceptions:\n${block}\n`);
    const test = compileExceptions(rule.exceptions ?? [], eventFieldCatalog)!;
    const [event] = decode(rule, [
      { '@timestamp': '2024-01-01T00:00:00Z', event: { id: 'e', category: ['process'] }, ...doc },
    ]);
    return test(event!);
  };

  it('is: exact, case-insensitive, any of the values; a number matches its text; `*` is literal', () => {
    const item = '  - { field: process.name, operator: is, values: [MSBuild.exe, "a*"] }';
    expect(excepted(item, { process: { name: 'msbuild.EXE' } })).toBe(true);
    expect(excepted(item, { process: { name: 'msbuild.exe2' } })).toBe(false);
    expect(excepted(item, { process: { name: 'abc' } })).toBe(false);
    expect(excepted(item, { process: { name: 'a*' } })).toBe(true);
    expect(excepted(item, {})).toBe(false);
    expect(excepted('  - { field: process.pid, operator: is, values: [4] }', { process: { pid: 4 } })).toBe(
      true,
    );
  });

  it('matches: wildcards with literal backslashes, case-insensitive, whole value', () => {
    const item =
      '  - { field: process.executable, operator: matches, values: ["C:\\\\Program Files\\\\Acme\\\\*", "*\\\\t?ol.exe"] }';
    expect(excepted(item, { process: { executable: 'c:\\program files\\ACME\\agent.exe' } })).toBe(true);
    expect(excepted(item, { process: { executable: 'D:\\C:\\Program Files\\Acme\\agent.exe' } })).toBe(false);
    expect(excepted(item, { process: { executable: 'C:\\x\\tool.exe' } })).toBe(true);
    expect(excepted(item, { process: { executable: 'C:\\x\\tooool.exe' } })).toBe(false);
  });

  it('cidr: IPv4, IPv6, IPv4-mapped, bare addresses; a non-address never matches', () => {
    const item =
      '  - { field: source.ip, operator: cidr, values: [10.0.0.0/8, "2001:db8::/32", 192.168.1.5] }';
    expect(excepted(item, { source: { ip: '10.255.1.2' } })).toBe(true);
    expect(excepted(item, { source: { ip: '11.0.0.1' } })).toBe(false);
    expect(excepted(item, { source: { ip: '2001:db8:ffff::1' } })).toBe(true);
    expect(excepted(item, { source: { ip: '2001:db9::1' } })).toBe(false);
    expect(excepted(item, { source: { ip: '::ffff:10.1.2.3' } })).toBe(true);
    expect(excepted(item, { source: { ip: '192.168.1.5' } })).toBe(true);
    expect(excepted(item, { source: { ip: '192.168.1.6' } })).toBe(false);
    expect(excepted(item, { source: { ip: 'not-an-ip' } })).toBe(false);
    // More than a few blocks: the prefix-set structure, same answers.
    const many = `  - { field: source.ip, operator: cidr, values: [${Array.from({ length: 20 }, (_, i) => `172.${16 + i}.0.0/16`).join(', ')}, "fe80::/10"] }`;
    expect(excepted(many, { source: { ip: '172.35.9.9' } })).toBe(true);
    expect(excepted(many, { source: { ip: '172.36.9.9' } })).toBe(false);
    expect(excepted(many, { source: { ip: 'fe80::1' } })).toBe(true);
  });

  it('in_list: keyword (case-insensitive), cidr (v4 and v6) and wildcard lists; a multi-valued field by any value', () => {
    const user = '  - { field: user.name, operator: in_list, list: service-accounts }';
    expect(excepted(user, { user: { name: 'SVC_BACKUP' } })).toBe(true);
    expect(excepted(user, { user: { name: 'svc_deploy' } })).toBe(true);
    expect(excepted(user, { user: { name: 'alice' } })).toBe(false);
    const ip = '  - { field: source.ip, operator: in_list, list: scanners }';
    expect(excepted(ip, { source: { ip: '10.20.3.4' } })).toBe(true);
    expect(excepted(ip, { source: { ip: '10.21.3.4' } })).toBe(false);
    expect(excepted(ip, { source: { ip: '192.168.7.7' } })).toBe(true);
    expect(excepted(ip, { source: { ip: '2001:db8::7' } })).toBe(true);
    const hostIp = '  - { field: host.ip, operator: in_list, list: scanners }';
    expect(excepted(hostIp, { host: { ip: ['1.1.1.1', '10.20.0.1'] } })).toBe(true);
    expect(excepted(hostIp, { host: { ip: ['1.1.1.1'] } })).toBe(false);
    const tool = '  - { field: process.executable, operator: in_list, list: tools }';
    expect(excepted(tool, { process: { executable: 'c:\\tools\\x.exe' } })).toBe(true);
    expect(excepted(tool, { process: { executable: 'D:\\acme\\AGENT.exe' } })).toBe(true);
    expect(excepted(tool, { process: { executable: 'D:\\acme\\other.exe' } })).toBe(false);
  });

  it('exists, negate, and entries ANDed within an item, items ORed', () => {
    expect(excepted('  - { field: user.name, operator: exists }', { user: { name: 'x' } })).toBe(true);
    expect(excepted('  - { field: user.name, operator: exists }', {})).toBe(false);
    expect(excepted('  - { field: user.name, operator: exists, negate: true }', {})).toBe(true);
    const both = [
      '  - entries:',
      '      - { field: host.name, operator: is, values: [build01] }',
      '      - { field: process.name, operator: is, values: [msbuild.exe] }',
      '  - { field: user.name, operator: is, values: [root] }',
    ].join('\n');
    expect(excepted(both, { host: { name: 'BUILD01' }, process: { name: 'msbuild.exe' } })).toBe(true);
    expect(excepted(both, { host: { name: 'build01' }, process: { name: 'cl.exe' } })).toBe(false);
    expect(excepted(both, { host: { name: 'web01' }, process: { name: 'msbuild.exe' } })).toBe(false);
    expect(excepted(both, { user: { name: 'root' } })).toBe(true);
  });
});

describe('an excepted event is never seen by the rule', () => {
  // validRule: sequence by host.id with maxspan=1m [process reg.exe] [registry *\Run\*]
  const docs = [
    {
      '@timestamp': '2024-01-01T00:00:00Z',
      event: { id: 'a', category: ['process'] },
      host: { id: 'h1' },
      process: { name: 'reg.exe', executable: 'C:\\Tools\\reg.exe' },
    },
    {
      '@timestamp': '2024-01-01T00:00:10Z',
      event: { id: 'b', category: ['registry'] },
      host: { id: 'h1' },
      registry: { path: 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x' },
    },
    // A first-step event after the only second-step event: it can pair with nothing.
    {
      '@timestamp': '2024-01-01T00:00:20Z',
      event: { id: 'c', category: ['process'] },
      host: { id: 'h1' },
      process: { name: 'reg.exe', executable: 'C:\\Windows\\reg.exe' },
    },
  ];
  const evidence = (block: string, events = docs): string[][] => {
    const rule = loaded(block);
    return matchesOf(compileRule(rule), decode(rule, events)).map((m) => m.events.map((e) => e.event.id));
  };

  it('an excepted first step starts no sequence; a later non-excepted one does not pair with its partner', () => {
    expect(evidence('')).toEqual([['a', 'b']]);
    expect(
      evidence('exceptions:\n  - { field: process.executable, operator: in_list, list: tools }\n'),
    ).toEqual([]);
  });

  it('an excepted later step never appears in evidence: the next non-excepted one completes the sequence', () => {
    // a, b, d: without the exception b completes a's sequence; with b excepted, d does.
    const more = [
      docs[0]!,
      docs[1]!,
      {
        '@timestamp': '2024-01-01T00:00:30Z',
        event: { id: 'd', category: ['registry'] },
        host: { id: 'h1' },
        registry: { path: 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\y' },
      },
    ];
    expect(evidence('', more)).toEqual([['a', 'b']]);
    expect(
      evidence('exceptions:\n  - { field: registry.path, operator: matches, values: ["HKLM\\\\*"] }\n', more),
    ).toEqual([['a', 'd']]);
  });
});

describe('value list files', () => {
  const dir = path.join(work, 'lists');
  const rulesDir = path.join(work, 'rules');

  it('loads typed list files by name, skips other files, and refuses a bad line with file:line', async () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(rulesDir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'admins.keyword'), 'root\n# comment\nAdministrator\n');
    writeFileSync(path.join(dir, 'nets.cidr'), '10.0.0.0/8\nnot-an-ip\n');
    writeFileSync(path.join(dir, 'README.md'), 'not a list');
    const set = await loadValueLists(dir);
    expect([...set.lists.keys()]).toEqual(['admins']);
    expect(set.lists.get('admins')?.size).toBe(2);
    expect(set.refused.get('nets')?.reason).toBe(
      `${path.join(dir, 'nets.cidr')}:2: "not-an-ip" is not an IP address or CIDR block`,
    );
  });

  it('refuses a list saved as UTF-16 (it would match nothing); reads a UTF-8 one with a byte-order mark', async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'wide.keyword'), Buffer.from('\ufeffadmin\nroot\n', 'utf16le'));
    writeFileSync(path.join(dir, 'bom.keyword'), '\ufeffadmin\nroot\n');
    const set = await loadValueLists(dir);
    expect(set.refused.get('wide')?.reason).toBe(
      `${path.join(dir, 'wide.keyword')}:1: not UTF-8 text (a NUL or an undecodable byte: UTF-16?): save the list as UTF-8`,
    );
    expect(set.lists.get('bom')?.has('admin')).toBe(true);
  });

  it('refuses a huge list (entries or bytes) without reading it all', async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'many.keyword'),
      Array.from({ length: MAX_VALUE_LIST_ENTRIES + 1 }, (_, i) => `u${i}`).join('\n'),
    );
    const big = path.join(dir, 'big.keyword');
    writeFileSync(big, '');
    truncateSync(big, 64 * 2 ** 20 + 1);
    const set = await loadValueLists(dir);
    expect(set.lists.size).toBe(0);
    expect(set.refused.get('many')?.reason).toMatch(/many\.keyword:1000001: more than 1,000,000 entries$/);
    expect(set.refused.get('big')?.reason).toMatch(
      /big\.keyword: 67,108,865 bytes, more than the 64 MiB a list may have$/,
    );
  });

  it('a missing list refuses only the rule naming it; the others load', async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    mkdirSync(rulesDir, { recursive: true });
    writeFileSync(path.join(dir, 'admins.keyword'), 'root\n');
    const good = path.join(rulesDir, 'good.yaml');
    const bad = path.join(rulesDir, 'bad.yaml');
    writeFileSync(
      good,
      `${validRule}exceptions:\n  - { field: user.name, operator: in_list, list: admins }\n`,
    );
    writeFileSync(
      bad,
      `${validRule.replace('6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11', '6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a12')}exceptions:\n  - { field: user.name, operator: in_list, list: service-accounts }\n`,
    );
    const load = await loadRuleFiles([bad, good], { valueLists: await loadValueLists(dir) });
    expect(load.rules.map((r) => r.location.file)).toEqual([good]);
    expect(load.errors.map((e) => e.format().split('\n')[0])).toEqual([
      `${bad}:23:50: value list "service-accounts" is missing: no service-accounts.keyword|ip|cidr|wildcard in ${dir}`,
    ]);
  });
});

describe('span aggregations and the README example', () => {
  it('an excepted event is not counted: the next one opens the bucket and the count leaves it out', () => {
    const builtin = readFileSync(
      path.join(import.meta.dirname, '../builtin/splunk-windows-service-creation-using-registry-entry.yaml'),
      'utf8',
    ).replace(/^tests:[\s\S]*$/m, '');
    const event = (id: string, second: number): Record<string, unknown> => ({
      '@timestamp': `2024-01-01T00:00:${String(second).padStart(2, '0')}Z`,
      event: { id, category: ['registry'] },
      host: { id: 'h1', name: 'h1' },
      user: { name: 'u1' },
      registry: {
        path: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\evil\\ImagePath',
        value: 'ImagePath',
        data: { strings: ['C:\\evil.exe'] },
      },
    });
    const run = (text: string): [string[], number | undefined][] => {
      const r = analyzeRuleText(text, 'rules/span.yaml');
      expect(r.errors.map((e) => e.format())).toEqual([]);
      const rule = r.rule!;
      return matchesOf(compileRule(rule), decode(rule, [event('x1', 1), event('x2', 2), event('x3', 3)])).map(
        (m) => [m.events.map((e) => e.event.id), m.count],
      );
    };
    const plain = run(builtin);
    expect(plain[0]?.[0]).toEqual(['x1']);
    const excepted = run(`${builtin}exceptions:\n  - { field: event.id, operator: is, values: [x1, x3] }\n`);
    expect(excepted.map(([ids]) => ids)).toEqual([['x2']]);
    expect(excepted.every(([, count]) => count === undefined || count === 1)).toBe(true);
  });

  it("the root README's example loads, with its list", () => {
    const readme = readFileSync(path.join(import.meta.dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Exceptions and value lists'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const rule = loaded(example);
    expect(rule.exceptions?.map((i) => i.entries.length)).toEqual([1, 1, 1, 2]);
  });
});

describe('withExceptions', () => {
  const yes = (): boolean => true;
  const key = (): string => 'k';
  const excepted = (e: string): boolean => e === 'x';
  it('guards every predicate of a join (items and until) and a sequence (steps, missing steps, until)', () => {
    const join = withExceptions<string>(
      {
        kind: 'join',
        windowMs: 1,
        items: [
          { predicate: yes, key },
          { predicate: yes, key },
        ],
        until: { predicate: yes, key },
        keyValues: () => [],
      },
      excepted,
    );
    if (join.kind !== 'join') throw new Error('kind');
    expect([...join.items, join.until!].map((i) => [i.predicate('x'), i.predicate('y')])).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ]);
    const sequence = withExceptions<string>(
      {
        kind: 'sequence',
        maxspanMs: 1,
        steps: [
          { predicate: yes, key, runs: 1, missing: false },
          { predicate: yes, key, runs: 1, missing: true },
        ],
        until: { predicate: yes, key },
        keyValues: () => [],
      },
      excepted,
    );
    if (sequence.kind !== 'sequence') throw new Error('kind');
    expect([...sequence.steps, sequence.until!].map((i) => [i.predicate('x'), i.predicate('y')])).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ]);
  });
});
