import { describe, expect, it } from 'vitest';
import { parse, type FieldExpr } from '@sequor/eql';
import { createFieldCatalog, eventFieldCatalog, type FieldInfo, type FieldType } from '@sequor/model';
import {
  compileKey,
  compileQuery,
  compileSpanAggregate,
  CompileContext,
  DEFAULT_JOIN_WINDOW_MS,
  QueryCompileError,
  runCorrelation,
  UnsupportedQueryError,
  type JoinSpec,
  type SequenceSpec,
} from '../src/index.js';

const field = (name: string, type: FieldType): FieldInfo => ({
  name,
  storagePath: name === '@timestamp' ? ['timestamp'] : name.split('.'),
  type,
});
const catalog = createFieldCatalog([
  field('@timestamp', 'timestamp'),
  field('event.category', 'string[]'),
  field('event.sequence', 'long'),
  field('origin.offset', 'long'),
  field('host.id', 'string'),
  field('user.id', 'string'),
  field('process.pid', 'long'),
  field('process.name', 'string'),
  field('process.entity_id', 'string'),
  field('registry.path', 'string'),
]);

type Ev = Record<string, unknown>;
const span = { start: 0, end: 1, line: 1, column: 1 };
const f = (name: string, optional = false): FieldExpr => ({
  kind: 'field',
  path: name.split('.'),
  optional,
  span,
});

function key(fields: FieldExpr[]) {
  const ctx = new CompileContext(catalog);
  const compiled = compileKey<Ev>(fields, ctx);
  ctx.throwIfFailed();
  return compiled;
}

describe('keys', () => {
  it('tags value types: 1 and "1" never join', () => {
    const k = key([f('process.pid')]);
    expect(k.key({ process: { pid: 1 } })).not.toEqual(k.key({ process: { pid: '1' } }));
    expect(k.key({ process: { pid: 1 } })).toEqual(k.key({ process: { pid: 1 } }));
  });

  it('is injective over tuples: no value can fake a part boundary', () => {
    const k = key([f('host.id'), f('user.id')]);
    const a = k.key({ host: { id: 'a:1:sb' }, user: { id: 'c' } });
    const b = k.key({ host: { id: 'a' }, user: { id: 'b:1:sc' } });
    expect(a).not.toBeNull();
    expect(a).not.toEqual(b);
    expect(k.key({ host: { id: 'x\u0000y' }, user: { id: 'z' } })).not.toEqual(
      k.key({ host: { id: 'x' }, user: { id: 'y\u0000z' } }),
    );
  });

  it('is case-sensitive (Elasticsearch)', () => {
    const k = key([f('user.id')]);
    expect(k.key({ user: { id: 'Bob' } })).not.toEqual(k.key({ user: { id: 'bob' } }));
  });

  it('a null or missing non-optional key value makes the key null: the event never joins', () => {
    const k = key([f('host.id'), f('user.id')]);
    expect(k.key({ host: { id: 'h' } })).toBeNull();
    expect(k.key({ host: { id: 'h' }, user: { id: null } })).toBeNull();
    expect(key([f('user.id')]).key({})).toBeNull();
  });

  it('a null ?optional key value joins with other nulls, and differs from the string "null"', () => {
    const k = key([f('host.id'), f('user.id', true)]);
    expect(k.key({ host: { id: 'h' } })).toEqual(k.key({ host: { id: 'h' }, user: { id: null } }));
    expect(k.key({ host: { id: 'h' } })).not.toBeNull();
    expect(k.key({ host: { id: 'h' } })).not.toEqual(k.key({ host: { id: 'h' }, user: { id: 'null' } }));
  });

  it('lays a tuple out as length-prefixed, type-tagged parts; each call gives its own string', () => {
    const k = key([f('host.id'), f('process.pid'), f('user.id', true)]);
    const first = k.key({ host: { id: 'h1' }, process: { pid: 42 }, user: { id: 'bob' } });
    const second = k.key({ host: { id: 'host-2' }, process: { pid: 7 } });
    expect(first).toBe('3:sh13:n42sbob');
    expect(second).toBe('7:shost-22:n7z');
  });

  it('gives the values as a tuple', () => {
    expect(key([f('host.id'), f('process.pid')]).values({ host: { id: 'h' }, process: { pid: 4 } })).toEqual([
      'h',
      4,
    ]);
    expect(key([f('host.id'), f('user.id', true)]).values({ host: { id: 'h' } })).toEqual(['h', null]);
  });
});

describe('compileQuery', () => {
  it('an event query is a filter', () => {
    const q = compileQuery<Ev>(parse('process where process.name == "a"'), catalog);
    expect(q.spec.kind).toBe('filter');
    expect(q.windowMs).toBeNull();
    expect(q.keyFields).toEqual([]);
    expect(q.fieldsUsed).toEqual(['event.category', 'process.name']);
  });

  it('a sequence: query-level keys then item keys, runs kept for the operator, maxspan', () => {
    const q = compileQuery<Ev>(
      parse(
        'sequence by host.id with maxspan=2m [process where true] by process.pid [process where process.name == "x"] by process.pid with runs=3 until [process where false] by process.pid',
      ),
      catalog,
    );
    const spec = q.spec as SequenceSpec<Ev>;
    expect(spec.kind).toBe('sequence');
    expect(spec.maxspanMs).toBe(120_000);
    expect(q.windowMs).toBe(120_000);
    expect(spec.steps.map((s) => [s.runs, s.missing])).toEqual([
      [1, false],
      [3, false],
    ]);
    expect(q.keyFields).toEqual(['host.id']);
    const event = { host: { id: 'h' }, process: { pid: 7 } };
    expect(spec.steps[0]?.key(event)).toEqual(spec.until?.key(event));
    expect(spec.steps[0]?.key(event)).not.toEqual(key([f('host.id')]).key(event));
    expect(spec.keyValues(event)).toEqual(['h', 7]);
  });

  it('a join window is its maxspan, else the default (1h), else the option', () => {
    const source = 'join by process.entity_id [process where true] [registry where true]';
    expect((compileQuery<Ev>(parse(source), catalog).spec as JoinSpec<Ev>).windowMs).toBe(
      DEFAULT_JOIN_WINDOW_MS,
    );
    expect(DEFAULT_JOIN_WINDOW_MS).toBe(3_600_000);
    expect(compileQuery<Ev>(parse(source), catalog, { defaultJoinWindowMs: 5000 }).windowMs).toBe(5000);
    expect(
      compileQuery<Ev>(
        parse('join by process.entity_id with maxspan=30s [process where true] [registry where true]'),
        catalog,
      ).windowMs,
    ).toBe(30_000);
  });

  it('sample is rejected with a position (no streaming operator for it)', () => {
    try {
      compileQuery(parse('sample by host.id [process where true] [registry where true]'), catalog);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(QueryCompileError);
      expect((error as QueryCompileError).errors[0]).toBeInstanceOf(UnsupportedQueryError);
      expect((error as QueryCompileError).errors[0]).toMatchObject({ line: 1, column: 1 });
    }
  });

  it('event time: @timestamp, and the tiebreaker is event.sequence, else origin.offset, else 0', () => {
    const { eventTime } = compileQuery<Ev>(parse('any where true'), catalog);
    expect(eventTime.timestamp({ timestamp: 1234 })).toBe(1234);
    expect(eventTime.timestamp({ timestamp: '1970-01-01T00:00:01.500Z' })).toBe(1500);
    expect(eventTime.tiebreaker({ event: { sequence: 9 }, origin: { offset: 3 } })).toBe(9);
    expect(eventTime.tiebreaker({ event: { sequence: null }, origin: { offset: 3 } })).toBe(3);
    expect(eventTime.tiebreaker({})).toBe(0);
  });

  it('pipes are handed back, not dropped', () => {
    expect(compileQuery(parse('process where true | head 5'), catalog).pipes).toMatchObject([
      { kind: 'head', count: 5 },
    ]);
  });
});

describe('compileSpanAggregate (Splunk tstats span=1h)', () => {
  it('groups by the BY fields; null values form their own group', () => {
    const where = parse('registry where registry.path : "*\\\\Software\\\\Remcos*"').body;
    if (where.kind !== 'event') throw new Error('expected an event query');
    const spec = compileSpanAggregate<Ev>(where, [f('host.id'), f('process.entity_id')], 3_600_000, catalog);
    expect(spec.spanMs).toBe(3_600_000);
    const hit = {
      event: { category: ['registry'] },
      registry: { path: 'HKU\\S\\Software\\Remcos\\x' },
      host: { id: 'h' },
    };
    expect(spec.predicate(hit)).toBe(true);
    expect(spec.predicate({ ...hit, registry: { path: 'HKU\\S\\Software\\Other' } })).toBe(false);
    expect(spec.groupKey(hit)).toEqual(spec.groupKey({ ...hit, process: { entity_id: null } }));
    expect(spec.groupKey(hit)).not.toEqual(spec.groupKey({ ...hit, process: { entity_id: 'g' } }));
    expect(spec.keyValues(hit)).toEqual(['h', null]);
  });
});

describe('the seed rule: Potential Remote Credential Access via Registry', () => {
  const seed = `sequence by host.id, user.id with maxspan=1m
 [authentication where
   event.outcome == "success" and
   winlog.logon.type == "Network" and not user.name == "ANONYMOUS LOGON" and
   not user.domain == "NT AUTHORITY" and source.ip != "127.0.0.1" and source.ip !="::1"]
 [file where event.action == "creation" and process.name : "svchost.exe" and
  file.Ext.header_bytes : "72656766*" and user.id : "S-1-5-21-*" and file.size >= 30000]`;

  const sid = 'S-1-5-21-1111-2222-3333-500';
  let offset = 0;
  const logon = (t: number, extra: Record<string, unknown> = {}) => ({
    timestamp: t,
    event: { id: `e${offset}`, category: ['authentication'], outcome: 'success', action: 'logged-in' },
    host: { id: 'dc01' },
    user: { id: sid, name: 'admin', domain: 'CORP' },
    source: { ip: '10.0.0.5', port: 50000 },
    winlog: { event_id: '4624', logon: { type: 'Network' } },
    origin: { offset: offset++ },
    ...extra,
  });
  const hive = (t: number, extra: Record<string, unknown> = {}) => ({
    timestamp: t,
    event: { id: `e${offset}`, category: ['file'], action: 'creation' },
    host: { id: 'dc01' },
    user: { id: sid, name: 'admin', domain: 'CORP' },
    process: { name: 'svchost.exe' },
    file: { path: 'C:\\Windows\\System32\\x.tmp', size: 45056, Ext: { header_bytes: '72656766000000' } },
    origin: { offset: offset++ },
    ...extra,
  });

  const compiled = compileQuery<Record<string, unknown>>(parse(seed), eventFieldCatalog);
  const run = (events: Record<string, unknown>[]) =>
    runCorrelation(compiled.spec, compiled.eventTime, { allowedLatenessMs: 0 }, events);

  it('compiles against the real event model', () => {
    expect(compiled.keyFields).toEqual(['host.id', 'user.id']);
    expect(compiled.windowMs).toBe(60_000);
    expect(compiled.fieldsUsed).toEqual(
      expect.arrayContaining(['file.Ext.header_bytes', 'winlog.logon.type', 'source.ip', 'file.size']),
    );
  });

  it('raises on a network logon followed by a hive dump by the same user on the same host within a minute', () => {
    const matches = run([logon(1_000), hive(30_000)]);
    expect(matches).toHaveLength(1);
    expect(matches[0]?.keyValues).toEqual(['dc01', sid]);
  });

  it('does not raise past maxspan, for another user, a loopback source, an anonymous logon or a small file', () => {
    expect(run([logon(1_000), hive(62_000)])).toHaveLength(0);
    expect(
      run([logon(1_000), hive(30_000, { user: { id: 'S-1-5-21-9-9-9-501', name: 'other' } })]),
    ).toHaveLength(0);
    expect(run([logon(1_000, { source: { ip: '::1', port: 1 } }), hive(30_000)])).toHaveLength(0);
    expect(run([logon(1_000, { source: { ip: '0:0:0:0:0:0:0:1', port: 1 } }), hive(30_000)])).toHaveLength(0);
    expect(
      run([
        logon(1_000, { user: { id: sid, name: 'ANONYMOUS LOGON', domain: 'NT AUTHORITY' } }),
        hive(30_000),
      ]),
    ).toHaveLength(0);
    expect(
      run([logon(1_000), hive(30_000, { file: { size: 29_999, Ext: { header_bytes: '72656766' } } })]),
    ).toHaveLength(0);
  });

  it('a logon without source.ip still qualifies (must_not semantics of !=), case matters for == but not for :', () => {
    expect(run([logon(1_000, { source: null }), hive(30_000)])).toHaveLength(1);
    expect(
      run([logon(1_000, { winlog: { event_id: '4624', logon: { type: 'network' } } }), hive(30_000)]),
    ).toHaveLength(0);
    expect(run([logon(1_000), hive(30_000, { process: { name: 'SVCHOST.EXE' } })])).toHaveLength(1);
  });
});

describe('Elasticsearch behaviour where Python eql differs (the oracle does not generate these)', () => {
  let t = 0;
  const ev = (category: string, extra: Record<string, unknown> = {}): Ev => ({
    timestamp: (t += 1_000),
    event: { category: [category] },
    origin: { offset: t },
    ...extra,
  });
  const run = (source: string, events: Ev[]) => {
    const compiled = compileQuery<Ev>(parse(source), catalog);
    return runCorrelation(compiled.spec, compiled.eventTime, { allowedLatenessMs: 0 }, events);
  };

  it('keys are case-sensitive (Python folds case)', () => {
    const source = 'sequence by user.id [process where true] [registry where true]';
    expect(
      run(source, [ev('process', { user: { id: 'Bob' } }), ev('registry', { user: { id: 'bob' } })]),
    ).toHaveLength(0);
    expect(
      run(source, [ev('process', { user: { id: 'bob' } }), ev('registry', { user: { id: 'bob' } })]),
    ).toHaveLength(1);
  });

  it('a null key never joins; an ?optional null key does (Python joins every null)', () => {
    const events = () => [ev('process', { host: { id: 'h' } }), ev('registry', { host: { id: 'h' } })];
    expect(
      run('sequence by host.id, user.id [process where true] [registry where true]', events()),
    ).toHaveLength(0);
    expect(
      run('sequence by host.id, ?user.id [process where true] [registry where true]', events()),
    ).toHaveLength(1);
    expect(run('join by user.id [process where true] [registry where true]', events())).toHaveLength(0);
  });

  it('== is case-sensitive and : is not (Python is case-insensitive for both)', () => {
    const events = () => [
      ev('process', { host: { id: 'h' }, process: { name: 'CMD.EXE' } }),
      ev('registry', { host: { id: 'h' } }),
    ];
    expect(
      run('sequence by host.id [process where process.name == "cmd.exe"] [registry where true]', events()),
    ).toHaveLength(0);
    expect(
      run('sequence by host.id [process where process.name : "cmd.exe"] [registry where true]', events()),
    ).toHaveLength(1);
  });

  it('a missing field satisfies != and not == in a step (Python: null, no match)', () => {
    const events = () => [ev('process', { host: { id: 'h' } }), ev('registry', { host: { id: 'h' } })];
    expect(
      run('sequence by host.id [process where process.name != "cmd.exe"] [registry where true]', events()),
    ).toHaveLength(1);
    expect(
      run(
        'sequence by host.id [process where not process.name == "cmd.exe"] [registry where true]',
        events(),
      ),
    ).toHaveLength(1);
    expect(
      run(
        'sequence by host.id [process where not endsWith(process.name, "x")] [registry where true]',
        events(),
      ),
    ).toHaveLength(0);
  });

  it('? is a one-character wildcard (Python takes it literally)', () => {
    const events = () => [
      ev('process', { host: { id: 'h' }, process: { name: 'cscript.exe' } }),
      ev('registry', { host: { id: 'h' } }),
    ];
    expect(
      run('sequence by host.id [process where process.name : "?script.exe"] [registry where true]', events()),
    ).toHaveLength(1);
  });

  it('order is event time, not arrival (Python matches in arrival order): a late step within the grace still matches', () => {
    const compiled = compileQuery<Ev>(
      parse('sequence by host.id [process where true] [registry where true]'),
      catalog,
    );
    const first = { timestamp: 10_000, event: { category: ['process'] }, host: { id: 'h' } };
    const second = { timestamp: 11_000, event: { category: ['registry'] }, host: { id: 'h' } };
    expect(
      runCorrelation(compiled.spec, compiled.eventTime, { allowedLatenessMs: 5_000 }, [second, first]),
    ).toHaveLength(1);
  });

  it('a join without maxspan is bounded by the 1h default window (Python joins forever)', () => {
    const base = t;
    const far = [
      { timestamp: base + 1, event: { category: ['process'] }, process: { entity_id: 'g' } },
      {
        timestamp: base + 1 + DEFAULT_JOIN_WINDOW_MS + 1,
        event: { category: ['registry'] },
        process: { entity_id: 'g' },
      },
    ];
    expect(run('join by process.entity_id [process where true] [registry where true]', far)).toHaveLength(0);
    const near = [far[0] as Ev, { ...(far[1] as Ev), timestamp: base + 1 + DEFAULT_JOIN_WINDOW_MS - 1 }];
    expect(run('join by process.entity_id [process where true] [registry where true]', near)).toHaveLength(1);
  });
});
