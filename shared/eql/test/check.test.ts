import { describe, expect, it } from 'vitest';
import type { FieldCatalog, FieldInfo, FieldType } from '@sequor/model';
import {
  checkQuery,
  EqlSemanticError,
  FUNCTIONS,
  hasBlockingErrors,
  isCidr,
  parse,
  printString,
} from '@sequor/eql';
import { elasticSeedRuleQuery, SEED_QUERIES } from './seeds.js';

/** A small catalog with the fields the seed rules use plus a few typed ones. */
function catalog(fields: Record<string, FieldType>): FieldCatalog {
  const infos: FieldInfo[] = Object.entries(fields).map(([name, type]) => ({
    name,
    storagePath: name.split('.'),
    type,
  }));
  const byName = new Map(infos.map((f) => [f.name, f]));
  return { lookup: (path) => byName.get(path.join('.')), fields: () => infos };
}

const CATALOG = catalog({
  '@timestamp': 'timestamp',
  'host.id': 'string',
  'user.id': 'string',
  'user.name': 'string',
  'user.domain': 'string',
  'event.outcome': 'string',
  'event.action': 'string',
  'event.type': 'string[]',
  'winlog.logon.type': 'string',
  'source.ip': 'ip',
  'destination.port': 'int',
  'dce_rpc.endpoint': 'string',
  'dce_rpc.operation': 'string',
  'process.name': 'string',
  'process.entity_id': 'string',
  'process.pid': 'long',
  'file.Ext.header_bytes': 'string',
  'file.size': 'long',
  'registry.path': 'string',
  'registry.value': 'string',
  'registry.data.strings': 'string[]',
  'process.elevated': 'boolean',
});

const check = (source: string) => checkQuery(parse(source), CATALOG);
const codes = (source: string) => check(source).map((e) => e.code);

/** `{code, line, column}` of each finding, for position assertions. */
const where = (source: string) =>
  check(source).map((e) => ({ code: e.code, line: e.line, column: e.column, severity: e.severity }));

describe('checkQuery', () => {
  it.each(SEED_QUERIES)('accepts seed query %#', (source) => {
    expect(check(source)).toEqual([]);
  });

  it('accepts the Elastic seed rule query exactly as published', () => {
    const source = elasticSeedRuleQuery();
    expect(source).toContain('sequence by host.id, user.id with maxspan=1m');
    expect(check(source)).toEqual([]);
  });

  it('reports unknown fields with position and a suggestion, but not optional ones', () => {
    const source = 'process where proces.name == "x" and ?user.nickname == "y" and totally.unknown == 1';
    const errors = check(source);
    expect(errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['unknown-field', 1, 15],
      ['unknown-field', 1, source.indexOf('totally') + 1],
    ]);
    expect(errors[0]!.message).toContain('did you mean process.name?');
    expect(errors[1]!.message).not.toContain('did you mean');
    expect(errors[0]!).toBeInstanceOf(EqlSemanticError);
    expect(errors[0]!.format('r.yaml').split('\n')).toEqual([
      'r.yaml:1:15: unknown field proces.name (did you mean process.name?); write ?proces.name if it may be absent from the model',
      source,
      ' '.repeat(14) + '^' + '~'.repeat('proces.name'.length - 1),
    ]);
  });

  it('checks by fields at query and item level', () => {
    expect(
      where('sequence by hots.id [process where true] by nope [file where true] by process.pid'),
    ).toEqual([
      { code: 'unknown-field', line: 1, column: 13, severity: 'error' },
      { code: 'unknown-field', line: 1, column: 45, severity: 'error' },
    ]);
  });

  it('reports unknown functions, arity and ~ misuse', () => {
    expect(where('process where nosuch(process.name)')).toEqual([
      { code: 'unknown-function', line: 1, column: 15, severity: 'error' },
    ]);
    expect(check('process where startswith(process.name, "a")')[0]!.message).toContain(
      'case-sensitive: startsWith',
    );
    expect(where('process where startsWith(process.name)')).toEqual([
      { code: 'function-arity', line: 1, column: 15, severity: 'error' },
    ]);
    expect(check('process where startsWith(process.name)')[0]!.message).toBe(
      '1:15: startsWith takes 2 arguments, found 1',
    );
    expect(codes('process where cidrMatch(source.ip)')).toEqual(['function-arity']);
    expect(codes('process where length~(process.name) > 1')).toEqual(['function-case-insensitive']);
    expect(codes('process where startsWith~(process.name, "A") and endsWith~(process.name, "b")')).toEqual(
      [],
    );
    expect(codes('process where concat(process.name, 1, "x", true) == "y"')).toEqual([]);
  });

  it('checks function argument types and literal-only parameters', () => {
    expect(codes('process where startsWith(process.name, 5)')).toEqual(['function-argument']);
    expect(codes('network where cidrMatch(source.ip, "10.0.0.0/8", "fe80::/10", "192.168.1.1")')).toEqual([]);
    expect(where('network where cidrMatch(source.ip, "10.0.0.0/33")')).toEqual([
      { code: 'function-argument', line: 1, column: 36, severity: 'error' },
    ]);
    expect(codes('network where cidrMatch(source.ip, process.name)')).toEqual(['function-argument']);
    // A field of the wrong type is a warning (the engine converts), a literal of the wrong type an error.
    expect(where('process where startsWith(process.pid, "1")')).toEqual([
      { code: 'function-argument', line: 1, column: 26, severity: 'warning' },
    ]);
  });

  it('reports missing events without maxspan, and outside sequences', () => {
    const source = 'sequence by host.id\n  [process where true]\n  ![file where true]';
    expect(where(source)).toEqual([
      { code: 'missing-event-without-maxspan', line: 3, column: 3, severity: 'error' },
    ]);
    expect(codes('sequence by host.id with maxspan=1m [process where true] ![file where true]')).toEqual([]);
    expect(codes('join by host.id [process where true] ![file where true]')).toEqual([
      'missing-event-placement',
    ]);
    expect(codes('sequence with maxspan=1m ![process where true] ![file where true]')).toEqual([
      'missing-event-placement',
    ]);
  });

  it('bounds runs', () => {
    expect(where('sequence [process where true] with runs=0 [file where true]')).toEqual([
      { code: 'runs-out-of-range', line: 1, column: 10, severity: 'error' },
    ]);
    expect(codes('sequence [process where true] with runs=101 [file where true]')).toEqual([
      'runs-out-of-range',
    ]);
    expect(codes('sequence [process where true] with runs=100 [file where true]')).toEqual([]);
    expect(codes('join [process where true] with runs=2 [file where true]')).toEqual(['runs-out-of-range']);
  });

  it('requires two items in sequence, join and sample', () => {
    expect(where('join by host.id [process where true]')).toEqual([
      { code: 'too-few-items', line: 1, column: 1, severity: 'error' },
    ]);
    expect(codes('sample by host.id [process where true]')).toEqual(['too-few-items']);
    expect(codes('sequence [process where true]')).toEqual(['too-few-items']);
    expect(codes('sample by host.id [process where true] [file where true]')).toEqual([]);
  });

  it('requires the same number of join keys on every item, counting query-level keys', () => {
    const source = [
      'sequence by host.id',
      '  [process where true] by process.entity_id',
      '  [file where true] by process.entity_id, user.id',
      '  [file where true]',
      'until [process where true] by process.entity_id',
    ].join('\n');
    expect(where(source)).toEqual([
      { code: 'join-key-count', line: 3, column: 24, severity: 'error' },
      { code: 'join-key-count', line: 4, column: 3, severity: 'error' },
    ]);
    expect(check(source)[0]!.message).toContain('item 2 has 3 join keys but item 1 has 2');
    expect(codes('join by host.id [process where true] by process.pid [file where true] by user.id')).toEqual(
      [],
    );
    expect(codes('join [process where true] by process.pid until [file where true]')).toContain(
      'join-key-count',
    );
  });

  it('refuses type mismatches in comparisons, matches and lists; a numeric string against a number only warns', () => {
    // `process.name > 5` would order text ("10" < "5"): an error, not a warning that then compares as text.
    expect(where('process where process.name > 5')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'error' },
    ]);
    expect(check('process where process.name > 5')[0]!.message).toContain(
      'it would compare as text: quote the value',
    );
    expect(where('process where process.name == 5')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'error' },
    ]);
    // ES parses "445" against the mapping, and so does the engine: it compares as a number.
    expect(where('network where destination.port == "445"')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'warning' },
    ]);
    expect(where('network where destination.port == "big"')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'error' },
    ]);
    expect(
      codes('network where destination.port >= 1024 and file.size < 10 and source.ip == "10.0.0.1"'),
    ).toEqual([]);
    expect(where('process where process.elevated < true')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'error' },
    ]);
    expect(where('process where process.name < null')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'error' },
    ]);
    expect(where('process where destination.port : "4*"')).toEqual([
      { code: 'type-mismatch', line: 1, column: 15, severity: 'error' },
    ]);
    expect(where('process where destination.port in (1, "2")')).toEqual([
      { code: 'type-mismatch', line: 1, column: 39, severity: 'warning' },
    ]);
    expect(where('process where destination.port in (1, "x")')).toEqual([
      { code: 'type-mismatch', line: 1, column: 39, severity: 'error' },
    ]);
    expect(where('process where process.name in ("a", 5)')).toEqual([
      { code: 'type-mismatch', line: 1, column: 37, severity: 'error' },
    ]);
    expect(codes('process where length(process.name) > 5 and `@timestamp` > 0')).toEqual([]);
  });

  it('rejects invalid regular expressions', () => {
    expect(where('process where process.name regex~ ("ok.*", "(unclosed")')).toEqual([
      { code: 'invalid-regex', line: 1, column: 15, severity: 'error' },
    ]);
    expect(check('process where process.name regex "a|"')[0]!.message).toContain(
      'at offset 2: empty alternative',
    );
  });

  it('checks regex patterns as Lucene, not JavaScript', () => {
    const regex = (pattern: string) => check(`process where process.name regex ${printString(pattern)}`);
    // The example: EQL "\"(\"x" is the Lucene pattern "("x, a quoted "(" then x (invalid JavaScript).
    expect(check('process where process.name regex "\\"(\\"x"')).toEqual([]);
    for (const pattern of [
      '"("x',
      '[^x]',
      'a{2}{3}',
      'a+*',
      '<1-65535>',
      '@',
      '#|a',
      '()',
      '\\(',
      'a]b}',
      '^a$',
      '',
    ]) {
      expect(regex(pattern), pattern).toEqual([]);
    }
    // JavaScript syntax that Lucene refuses or reads differently is refused with its offset.
    for (const [pattern, message] of [
      ['*.exe', 'offset 0: "*" has nothing to repeat'],
      ['a&b', 'offset 1: the intersection operator'],
      ['~a', 'offset 0: the complement operator'],
      ['<a-b>', 'offset 0: expected a numeric interval'],
      ['a{3,1}', 'offset 1: repeat {3,1}'],
      ['[z-a]', 'offset 1: invalid range'],
      ['(a', 'offset 0: unbalanced "("'],
      ['a)', 'offset 1: unbalanced ")"'],
      ['"ab', 'offset 0: unterminated "quoted" string'],
    ] as const) {
      expect(
        regex(pattern).map((e) => [e.code, e.severity]),
        pattern,
      ).toEqual([['invalid-regex', 'error']]);
      expect(regex(pattern)[0]?.message, pattern).toContain(message);
    }
  });

  it('rejects zero maxspan and zero-count pipes', () => {
    expect(codes('sequence with maxspan=0s [process where true] [file where true]')).toEqual([
      'invalid-duration',
    ]);
    expect(codes('process where true | head 0')).toEqual(['invalid-pipe']);
  });

  it('collects every error, in source order, not just the first', () => {
    const source = [
      'sequence by host.id',
      '  [process where nosuch(process.name) and bad.field == 1] with runs=0',
      '  ![file where length(1, 2) > 1]',
    ].join('\n');
    // Source order, across items and clauses: the runs error points at its item's "[" (2:3), before the
    // function inside it. length(1, 2) has two problems: the arity and a number where a string is wanted.
    expect(where(source).map((e) => `${e.code}@${e.line}:${e.column}`)).toEqual([
      'runs-out-of-range@2:3',
      'unknown-function@2:18',
      'unknown-field@2:43',
      'missing-event-without-maxspan@3:3',
      'function-arity@3:16',
      'function-argument@3:23',
    ]);
  });

  it('separates blocking errors from warnings', () => {
    expect(hasBlockingErrors(check('network where destination.port == "445"'))).toBe(false);
    expect(hasBlockingErrors(check('process where process.name > 5'))).toBe(true);
    expect(hasBlockingErrors(check('process where nope == 1'))).toBe(true);
  });
});

describe('function registry', () => {
  it('lists the functions the engine must implement, each with a consistent signature', () => {
    for (const name of [
      'startsWith',
      'endsWith',
      'stringContains',
      'cidrMatch',
      'length',
      'between',
      'substring',
      'concat',
      'wildcard',
      'indexOf',
      'number',
      'string',
      'add',
      'subtract',
      'multiply',
      'divide',
      'modulo',
    ]) {
      const spec = FUNCTIONS.get(name);
      expect(spec, name).toBeDefined();
      expect(spec!.minArgs).toBeLessThanOrEqual(spec!.maxArgs);
      expect(spec!.params.length).toBeGreaterThanOrEqual(Math.min(spec!.maxArgs, 1));
      if (spec!.maxArgs !== Infinity) expect(spec!.params).toHaveLength(spec!.maxArgs);
    }
    expect(FUNCTIONS.get('startsWith')!.tilde).toBe(true);
    expect(FUNCTIONS.get('length')!.tilde).toBe(false);
  });
});

describe('isCidr', () => {
  it.each([
    '10.0.0.0/8',
    '0.0.0.0/0',
    '192.168.1.1',
    '::/0',
    'fe80::/10',
    '2001:db8::1/128',
    '::ffff:10.0.0.1/128',
    '1:2:3:4:5:6:7:8',
  ])('accepts %s', (c) => {
    expect(isCidr(c)).toBe(true);
  });
  it.each([
    '10.0.0.0/33',
    '256.0.0.0/8',
    '10.0.0/8',
    'fe80::/129',
    '1::2::3',
    'x',
    '10.0.0.0/',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
  ])('rejects %s', (c) => {
    expect(isCidr(c)).toBe(false);
  });
});
