import { runCorrelation, type EventTime, type Match } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  compileSigmaCorrelation,
  compileSigmaCorrelations,
  compileSigmaRule,
  defaultPipeline,
  loadSigmaDocuments,
  loadSigmaText,
  objectFieldSource,
  SequorEventFields,
  SigmaReferences,
  silencedBySigmaCorrelations,
  type CompiledSigmaCorrelation,
  type FieldValue,
  type ProcessingPipeline,
} from '../src/index.js';
import { sampleEvent } from '../../model/test/sample-event.js';
import { anyEvent } from './helpers.js';

interface Ev {
  readonly id: string;
  readonly ts: number;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

const T0 = Date.UTC(2024, 0, 1);
const SECOND = 1_000;
const MINUTE = 60_000;
const eventTime: EventTime<Ev> = { timestamp: (e) => e.ts, tiebreaker: () => 0 };
const inOrder = { allowedLatenessMs: 0 };
let counter = 0;
const at = (offsetMs: number, fields: Record<string, FieldValue>, id?: string): Ev => ({
  id: id ?? `e${++counter}`,
  ts: T0 + offsetMs,
  fields,
});
const ids = (matches: readonly Match<Ev>[]) => matches.map((m) => m.events.map((e) => e.id));

/** A rule document matching `EventID: <eventId>` (any logsource), with an id and a name. */
function ruleDoc(name: string, id: string, selection: string): string {
  return `title: ${name}\nid: ${id}\nname: ${name}\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    ${selection}\n  condition: selection\n`;
}

/** Loads a multi-document file and compiles its outermost correlation (the first document). */
function compileFile(text: string, pipeline: ProcessingPipeline = anyEvent): CompiledSigmaCorrelation<Ev> {
  const loaded = loadSigmaDocuments(text, 'mr_test.yml');
  if (loaded.errors.length > 0) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  const rules = loaded.rules.map((rule) => compileSigmaRule(rule, pipeline));
  const references = new SigmaReferences(rules, loaded.correlations);
  return compileSigmaCorrelation(loaded.correlations[0]!, references, (e: Ev) => objectFieldSource(e.fields));
}

const FAILED = ruleDoc('failed_login', '53ba33fd-3a50-4468-a5ef-c583635cfa92', 'EventID: [529, 4625]');
const SUCCESS = ruleDoc('successful_login', '4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', 'EventID: [528, 4624]');

describe('loading correlation documents', () => {
  // The specification's complete example, as written (three levels: temporal_ordered over event_count).
  const example = [
    'title: Correlation - Multiple Failed Logins Followed by Successful Login',
    'id: b180ead8-d58f-40b2-ae54-c8940995b9b6',
    'status: experimental',
    'author: Florian Roth (Nextron Systems)',
    'correlation:',
    '    type: temporal_ordered',
    '    rules:',
    '        - multiple_failed_login',
    '        - successful_login',
    '    group-by:',
    '        - User',
    '    timespan: 10m',
    'level: high',
    '---',
    'title: Multiple failed logons',
    'id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41',
    'name: multiple_failed_login',
    'correlation:',
    '    type: event_count',
    '    rules:',
    '        - failed_login',
    '    group-by:',
    '        - User',
    '    timespan: 10m',
    '    condition:',
    '        gte: 10',
    '---',
    FAILED,
    '---',
    SUCCESS,
  ].join('\n');

  it('reads a correlation beside the rules it names (the specification example)', () => {
    const loaded = loadSigmaDocuments(example, 'mr_example.yml');
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((r) => [r.name, r.id])).toEqual([
      ['failed_login', '53ba33fd-3a50-4468-a5ef-c583635cfa92'],
      ['successful_login', '4d0a2c83-c62c-4ed4-b475-c7e23a9269b8'],
    ]);
    expect(loaded.correlations.map((c) => [c.type, c.name, c.timespanMs, c.threshold, c.generate])).toEqual([
      ['temporal_ordered', null, 10 * MINUTE, null, false],
      ['event_count', 'multiple_failed_login', 10 * MINUTE, { gte: 10 }, false],
    ]);
    expect(loaded.correlations[0]).toMatchObject({
      title: 'Correlation - Multiple Failed Logins Followed by Successful Login',
      level: 'high',
      authors: ['Florian Roth (Nextron Systems)'],
    });
    expect(loaded.correlations[0]!.rules.map((r) => [r.name, r.position.line])).toEqual([
      ['multiple_failed_login', 8],
      ['successful_login', 9],
    ]);
  });

  it('leaves out empty documents (a trailing `---`, one of comments only); a file of nothing but is refused', () => {
    for (const text of [`${example}\n---\n`, `${FAILED}---\n# nothing here\n---\n${example}`]) {
      const loaded = loadSigmaDocuments(text, 'x.yml');
      expect(loaded.errors).toEqual([]);
      expect(loaded.correlations).toHaveLength(2);
    }
    expect(loadSigmaText(`${FAILED}---\n`, 'x.yml')).toMatchObject({
      errors: [],
      rule: { name: 'failed_login' },
    });
    expect(loadSigmaDocuments('# only a comment\n---\n', 'x.yml').errors[0]).toMatchObject({
      detail: 'the file holds no YAML document',
    });
  });

  it('loadSigmaText (one rule per file) still refuses correlations loudly', () => {
    expect(loadSigmaText(example, 'x.yml').errors[0]).toMatchObject({ code: 'unsupported' });
    expect(loadSigmaText('title: c\ncorrelation:\n  type: event_count\n', 'x.yml').errors[0]).toMatchObject({
      code: 'unsupported',
    });
  });

  const correlation = (body: string) =>
    `title: c\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n${body}`;
  const firstError = (text: string) => {
    const e = loadSigmaDocuments(text, 'bad.yml').errors[0];
    if (e === undefined) throw new Error('loaded');
    return { code: e.code, line: e.line, column: e.column, detail: e.detail };
  };

  it('errors at file:line:column', () => {
    const base = '  type: event_count\n  rules: [a]\n  group-by: [User]\n';
    expect(firstError(correlation(`${base}  timespan: 10x\n  condition:\n    gte: 3\n`))).toMatchObject({
      code: 'invalid-value',
      line: 7,
      column: 13,
    });
    expect(firstError(correlation(`${base}  timespan: 1h\n`))).toMatchObject({
      code: 'invalid-rule',
      line: 4,
    });
    expect(firstError(correlation(`${base}  timespan: 1h\n  condition:\n    above: 3\n`))).toMatchObject({
      line: 9,
      column: 5,
      detail: expect.stringMatching(/unknown condition `above`/),
    });
    expect(firstError(correlation(`${base}  timespan: 1h\n  condition:\n    gte: many\n`))).toMatchObject({
      code: 'invalid-value',
      line: 9,
    });
    expect(firstError(correlation('  type: sum\n  rules: [a]\n  timespan: 1h\n'))).toMatchObject({
      line: 4,
      column: 9,
    });
    expect(
      firstError(correlation(`${base}  timespan: 1h\n  window: sliding\n  condition: {gte: 1}\n`)),
    ).toMatchObject({
      line: 8,
      detail: expect.stringMatching(/unknown correlation attribute `window`/),
    });
    expect(
      firstError(
        correlation(
          '  type: value_count\n  rules: [a]\n  group-by: [Host]\n  timespan: 1d\n  condition:\n    gte: 100\n',
        ),
      ),
    ).toMatchObject({ detail: expect.stringMatching(/needs `condition.field`/) });
    expect(
      firstError(
        correlation('  type: event_count\n  rules: [a, a]\n  timespan: 1h\n  condition: {gte: 1}\n'),
      ),
    ).toMatchObject({
      line: 5,
      detail: expect.stringMatching(/twice/),
    });
  });

  it('refuses a condition no count or value can meet, at the condition; bounds that meet one value load', () => {
    const base = '  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 1h\n  condition:\n';
    for (const bounds of [
      '{gte: 5, lt: 3}',
      '{gt: 3, lt: 3}',
      '{gte: 3, lt: 3}',
      '{eq: 2, neq: 2}',
      '{eq: 7, lte: 5}',
    ])
      expect(
        firstError(correlation(`${base}    ${bounds.slice(1, -1).replace(', ', '\n    ')}\n`)),
        bounds,
      ).toMatchObject({
        code: 'invalid-value',
        line: 9,
        detail: expect.stringMatching(/can never hold/),
      });
    for (const bounds of ['gte: 3\n    lte: 3', 'gt: 2\n    lt: 4', 'eq: 2\n    neq: 3'])
      expect(loadSigmaDocuments(correlation(`${base}    ${bounds}\n`), 'x.yml').errors, bounds).toEqual([]);
  });

  it('refuses what it cannot run, with the reason: Sigma 1 collections (value_percentile: at compile)', () => {
    expect(firstError(`action: global\ntitle: x\n---\n${FAILED}`)).toMatchObject({
      code: 'unsupported',
      line: 1,
    });
  });

  it('a document with errors does not take the others down', () => {
    const loaded = loadSigmaDocuments(`${correlation('  type: nope\n')}---\n${FAILED}`, 'x.yml');
    expect(loaded.rules).toHaveLength(1);
    expect(loaded.correlations).toEqual([]);
    expect(loaded.errors).toHaveLength(1);
  });

  it('generate: false (the default) silences the rules it names; generate: true anywhere lets them alert', () => {
    const loaded = loadSigmaDocuments(example, 'x.yml');
    const silenced = silencedBySigmaCorrelations(loaded.correlations);
    expect(silenced.has({ id: '53ba33fd-3a50-4468-a5ef-c583635cfa92', name: 'failed_login' })).toBe(true);
    expect(silenced.has({ id: 'a8418a5a-5fc4-46b5-b23b-6c73beb19d41', name: 'multiple_failed_login' })).toBe(
      true,
    );
    expect(silenced.has({ id: 'b180ead8-d58f-40b2-ae54-c8940995b9b6', name: null })).toBe(false);
    const generating = loadSigmaDocuments(
      `${correlation('  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 1h\n  generate: true\n  condition: {gte: 2}\n')}---\n${FAILED}`,
      'x.yml',
    );
    expect(generating.correlations[0]!.generate).toBe(true);
    expect(silencedBySigmaCorrelations(generating.correlations).has({ id: null, name: 'failed_login' })).toBe(
      false,
    );
  });
});

describe('the specification examples, run', () => {
  const header = (type: string) =>
    `title: ${type} test\nid: 0e95725d-7320-415d-80f7-004da920fc12\ncorrelation:\n  type: ${type}\n`;

  it('event_count: 100 failed logins to a host in an hour', () => {
    const compiled = compileFile(
      `${header('event_count')}  rules:\n    - failed_login\n  group-by:\n    - ComputerName\n  timespan: 1h\n  condition:\n    gte: 100\n---\n${FAILED}`,
    );
    expect(compiled.spec.kind).toBe('slidingAggregate');
    const events = Array.from({ length: 100 }, (_, i) =>
      at(i * 30 * SECOND, { EventID: 4625, ComputerName: 'dc1' }, `f${i}`),
    );
    events.push(at(MINUTE, { EventID: 4624, ComputerName: 'dc1' })); // a success does not count
    events.sort((a, b) => a.ts - b.ts);
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, events);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ count: 100, keyValues: ['dc1'], lastTime: T0 + 99 * 30 * SECOND });
    expect(matches[0]!.events).toHaveLength(10); // the latest 10 as evidence
    // 99 within the hour is not enough.
    expect(
      runCorrelation(
        compiled.spec,
        eventTime,
        inOrder,
        events.filter((e) => e.id !== 'f0'),
      ),
    ).toEqual([]);
  });

  it('value_count: failed logons with 3 different users per source and destination in a day', () => {
    const compiled = compileFile(
      `${header('value_count')}  rules: [failed_login]\n  group-by:\n    - ComputerName\n    - WorkstationName\n  timespan: 1d\n  condition:\n    field: User\n    gte: 3\n---\n${FAILED}`,
    );
    const login = (offset: number, user: string, ws = 'ws1') =>
      at(offset, { EventID: 4625, ComputerName: 'dc1', WorkstationName: ws, User: user });
    const events = [login(0, 'a'), login(1, 'a'), login(2, 'b'), login(3, 'c', 'ws2'), login(4, 'c', 'ws1')];
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, events);
    expect(matches.map((m) => [m.keyValues, m.value, m.count])).toEqual([[['dc1', 'ws1'], 3, 4]]);
  });

  it('keeps its own copies of group-by and distinct values, not the larger strings they were cut from', () => {
    // The Avro map reader gives values as substrings of a map's text (V8 keeps a substring as a slice of
    // its parent): a group's key values and its distinct values live as long as its state, and must not
    // keep whole event data alive with them.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const compiled = compileFile(
      `${header('value_count')}  rules: [failed_login]\n  group-by:\n    - ComputerName\n  timespan: 1d\n  condition:\n    field: User\n    gte: 3\n---\n${FAILED}`,
    );
    if (compiled.spec.kind !== 'slidingAggregate') throw new Error(compiled.spec.kind);
    const input = compiled.spec.inputs[0]!;
    const held: unknown[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i++) {
      // 100 KB of one event's data; the values cut from it, each of its own length.
      const data = `${'x'.repeat(100_000)}host-${'h'.repeat(i)}|user-${'u'.repeat(i)}`;
      const cut = data.indexOf('|');
      const event = at(0, {
        EventID: 4625,
        ComputerName: data.slice(100_000, cut),
        User: data.slice(cut + 1),
      });
      held.push(input.key(event), input.keyValues(event), input.value!(event));
    }
    gc();
    gc();
    expect(held[1]).toEqual(['host-']);
    expect(held[2]).toBe('user-');
    // 200 × 100 KB = 20 MB if the kept values kept their parents.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(6 * 2 ** 20);
  });

  it('temporal: three recon commands in any order within 5 minutes, by host and user', () => {
    const recon = (n: string) =>
      ruleDoc(
        `recon_cmd_${n}`,
        `00000000-0000-4000-8000-00000000000${n === 'a' ? 1 : n === 'b' ? 2 : 3}`,
        `CommandLine: ${n}`,
      );
    const compiled = compileFile(
      `${header('temporal')}  rules:\n    - recon_cmd_a\n    - recon_cmd_b\n    - recon_cmd_c\n  group-by:\n    - ComputerName\n    - User\n  timespan: 5m\n---\n${recon('a')}---\n${recon('b')}---\n${recon('c')}`,
    );
    expect(compiled.spec.kind).toBe('slidingTemporal');
    const cmd = (offset: number, c: string, user = 'bob') =>
      at(offset, { CommandLine: c, ComputerName: 'h1', User: user }, `${c}@${offset}`);
    const events = [cmd(0, 'c'), cmd(MINUTE, 'a'), cmd(2 * MINUTE, 'b', 'eve'), cmd(5 * MINUTE, 'b')];
    expect(ids(runCorrelation(compiled.spec, eventTime, inOrder, events))).toEqual([
      ['c@0', `a@${MINUTE}`, `b@${5 * MINUTE}`],
    ]);
    // One millisecond past the timespan: the first command is out of the window.
    const late = [cmd(0, 'c'), cmd(MINUTE, 'a'), cmd(5 * MINUTE + 1, 'b')];
    expect(runCorrelation(compiled.spec, eventTime, inOrder, late)).toEqual([]);
  });

  it('temporal_ordered: a failed login followed by a successful one of the same user (runs as a sequence)', () => {
    const compiled = compileFile(
      `${header('temporal_ordered')}  rules:\n    - failed_login\n    - successful_login\n  group-by:\n    - User\n  timespan: 1h\n---\n${FAILED}---\n${SUCCESS}`,
    );
    expect(compiled.spec.kind).toBe('sequence');
    const ok = at(0, { EventID: 4624, User: 'u' }, 'ok-first');
    const fail = at(SECOND, { EventID: 4625, User: 'u' }, 'fail');
    const ok2 = at(2 * SECOND, { EventID: 4624, User: 'u' }, 'ok');
    expect(ids(runCorrelation(compiled.spec, eventTime, inOrder, [ok, fail, ok2]))).toEqual([['fail', 'ok']]);
  });

  it('value_sum: more than 1 MB sent by a source and user in an hour', () => {
    const compiled = compileFile(
      `${header('value_sum')}  rules: [website_access]\n  group-by:\n    - SourceIP\n    - User\n  timespan: 1h\n  condition:\n    field: bytes_sent\n    gt: 1000000\n---\n${ruleDoc('website_access', '00000000-0000-4000-8000-0000000000a1', 'EventID: 1')}`,
    );
    const sent = (offset: number, bytes: FieldValue) =>
      at(offset, { EventID: 1, SourceIP: '10.0.0.5', User: 'u', bytes_sent: bytes });
    const events = [sent(0, 600_000), sent(MINUTE, 'n/a'), sent(2 * MINUTE, '400000'), sent(3 * MINUTE, 1)];
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, events);
    expect(matches.map((m) => [m.value, m.lastTime - T0])).toEqual([[1_000_001, 3 * MINUTE]]);
  });

  it('value_avg: average traffic over 500 bytes per source and user in a day', () => {
    const compiled = compileFile(
      `${header('value_avg')}  rules: [rule_a]\n  group-by:\n    - SourceIP\n    - User\n  timespan: 24h\n  condition:\n    field: BytesOut\n    gt: 500\n---\n${ruleDoc('rule_a', '00000000-0000-4000-8000-0000000000a2', 'EventID: 3')}`,
    );
    const out = (offset: number, bytes: number) =>
      at(offset, { EventID: 3, SourceIP: '10.0.0.5', User: 'u', BytesOut: bytes });
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, [
      out(0, 100),
      out(1, 900),
      out(2, 600),
    ]);
    expect(matches.map((m) => m.value)).toEqual([(100 + 900 + 600) / 3]);
  });

  it('aliases: an internal error and a connection between the same two addresses, each named by its own fields', () => {
    const text = [
      `${header('temporal')}  rules:\n    - internal_error\n    - new_network_connection\n  group-by:\n    - internal_ip\n    - remote_ip\n  timespan: 10s`,
      '  aliases:\n    internal_ip:\n      internal_error: destination.ip\n      new_network_connection: source.ip',
      '    remote_ip:\n      internal_error: source.ip\n      new_network_connection: destination.ip',
      `---\n${ruleDoc('internal_error', '00000000-0000-4000-8000-0000000000b1', 'http.response.status_code: 500')}`,
      `---\n${ruleDoc('new_network_connection', '00000000-0000-4000-8000-0000000000b2', 'event.category: network')}`,
    ].join('\n');
    const compiled = compileFile(text);
    expect(compiled.groupByFields).toEqual(['destination.ip', 'source.ip']);
    const error = at(
      0,
      { 'http.response.status_code': 500, 'destination.ip': '10.0.0.1', 'source.ip': '203.0.113.9' },
      'err',
    );
    const wrongWay = at(
      SECOND,
      { 'event.category': 'network', 'source.ip': '203.0.113.9', 'destination.ip': '10.0.0.1' },
      'wrong',
    );
    const conn = at(
      2 * SECOND,
      { 'event.category': 'network', 'source.ip': '10.0.0.1', 'destination.ip': '203.0.113.9' },
      'conn',
    );
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, [error, wrongWay, conn]);
    expect(ids(matches)).toEqual([['err', 'conn']]);
    expect(matches[0]!.keyValues).toEqual(['10.0.0.1', '203.0.113.9']);
  });

  it('correlations of correlations: the specification example (10 failed logins, then a success, within 10 minutes)', () => {
    const text = [
      `title: brute force then success\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\ncorrelation:\n  type: temporal_ordered\n  rules:\n    - multiple_failed_login\n    - successful_login\n  group-by:\n    - User\n  timespan: 10m`,
      '---',
      'title: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n  type: event_count\n  rules:\n    - failed_login\n  group-by:\n    - User\n  timespan: 10m\n  condition:\n    gte: 10',
      '---',
      FAILED,
      '---',
      SUCCESS,
    ].join('\n');
    const compiled = compileFile(text);
    expect(compiled.spec.kind).toBe('chain');
    expect(compiled.correlations.map((c) => c.name)).toEqual(['multiple_failed_login']);
    expect(compiled.rules.map((r) => r.rule.name).sort()).toEqual(['failed_login', 'successful_login']);
    const fail = (offset: number, user = 'admin') =>
      at(offset, { EventID: 4625, User: user }, `fail${offset / SECOND}`);
    const success = (offset: number, user = 'admin') =>
      at(offset, { EventID: 4624, User: user }, `ok${offset / SECOND}`);
    // A success after 9 failures is not enough; after the 10th it is.
    const events = [
      ...Array.from({ length: 9 }, (_, i) => fail(i * SECOND)),
      success(9 * SECOND),
      fail(10 * SECOND),
      fail(11 * SECOND, 'other'),
      success(12 * SECOND, 'other'),
      success(13 * SECOND),
    ];
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, events);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ kind: 'chain', keyValues: ['admin'], lastTime: T0 + 13 * SECOND });
    expect(matches[0]!.events.at(-1)!.id).toBe('ok13');
    expect(matches[0]!.events.map((e) => e.id)).toContain('fail10');
  });

  it('correlations of correlations: a success long after a burst began, while the burst still holds, fires (temporal and temporal_ordered)', () => {
    // One failure every 30 s for an hour; the inner count (3 in 10 minutes) starts holding at 60 s and holds
    // on. A success at 45:15 comes with ~20 failures in its last 10 minutes: the brute force is going on.
    const inner =
      'title: Many failed\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d42\nname: many_failed\ncorrelation:\n  type: event_count\n  rules:\n    - failed_login\n  group-by:\n    - User\n  timespan: 10m\n  condition:\n    gte: 3';
    const outer = (type: string) =>
      `title: brute force then success\nid: b180ead8-d58f-40b2-ae54-c8940995b9b7\ncorrelation:\n  type: ${type}\n  rules:\n    - many_failed\n    - successful_login\n  group-by:\n    - User\n  timespan: 10m`;
    const events = Array.from({ length: 120 }, (_, i) =>
      at(i * 30 * SECOND, { EventID: 4625, User: 'bob' }, `fail${i}`),
    );
    events.push(at(45 * MINUTE + 15 * SECOND, { EventID: 4624, User: 'bob' }, 'ok'));
    events.sort((a, b) => a.ts - b.ts);
    for (const type of ['temporal_ordered', 'temporal']) {
      const compiled = compileFile([outer(type), inner, FAILED, SUCCESS].join('\n---\n'));
      const matches = runCorrelation(compiled.spec, eventTime, inOrder, events);
      // temporal: the success holds with the burst from 45:15 on, one match for as long as both do.
      expect(matches, type).toHaveLength(1);
      expect(matches[0]!.lastTime, type).toBe(T0 + 45 * MINUTE + 15 * SECOND);
      expect(matches[0]!.events.at(-1)!.id, type).toBe('ok');
    }
    // Five successes a minute apart from 45:15: temporal_ordered alerts per completed sequence (each success
    // after a failure at which the inner count held), as it does over plain rules; temporal once, while
    // both hold. A rule's suppress groups the former.
    const five = [...events.filter((e) => e.id !== 'ok')];
    for (let k = 0; k < 5; k++)
      five.push(at(45 * MINUTE + 15 * SECOND + k * MINUTE, { EventID: 4624, User: 'bob' }, `ok${k}`));
    five.sort((a, b) => a.ts - b.ts);
    const alerts = (type: string) =>
      runCorrelation(
        compileFile([outer(type), inner, FAILED, SUCCESS].join('\n---\n')).spec,
        eventTime,
        inOrder,
        five,
      );
    expect(alerts('temporal_ordered')).toHaveLength(5);
    expect(alerts('temporal')).toHaveLength(1);
    // The success 10 minutes and 1 ms after the burst's last failure is too late.
    const late = [...events.filter((e) => e.id !== 'ok')];
    late.push(at(119 * 30 * SECOND + 10 * MINUTE + 1, { EventID: 4624, User: 'bob' }, 'ok'));
    const ordered = compileFile([outer('temporal_ordered'), inner, FAILED, SUCCESS].join('\n---\n'));
    expect(runCorrelation(ordered.spec, eventTime, inOrder, late)).toEqual([]);
  });

  it('correlations of correlations: an event_count over a correlation counts its bursts, not the events it holds on', () => {
    const inner =
      'title: Many failed\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d43\nname: many_failed\ncorrelation:\n  type: event_count\n  rules:\n    - failed_login\n  group-by:\n    - User\n  timespan: 1m\n  condition:\n    gte: 3';
    const outer =
      'title: repeated bursts\nid: b180ead8-d58f-40b2-ae54-c8940995b9b8\ncorrelation:\n  type: event_count\n  rules:\n    - many_failed\n  group-by:\n    - User\n  timespan: 1h\n  condition:\n    gte: 2';
    const compiled = compileFile([outer, inner, FAILED].join('\n---\n'));
    // One burst of 20 failures (1 per second): the inner holds on 18 events but is one burst.
    const burst = (start: number, tag: string) =>
      Array.from({ length: 20 }, (_, i) =>
        at(start + i * SECOND, { EventID: 4625, User: 'bob' }, `${tag}${i}`),
      );
    expect(runCorrelation(compiled.spec, eventTime, inOrder, burst(0, 'a'))).toEqual([]);
    // A second burst 10 minutes later: two bursts.
    const two = runCorrelation(compiled.spec, eventTime, inOrder, [
      ...burst(0, 'a'),
      ...burst(10 * MINUTE, 'b'),
    ]);
    expect(two).toHaveLength(1);
    expect(two[0]!.lastTime).toBe(T0 + 10 * MINUTE + 2 * SECOND);
  });

  it("group-by reads fields through the rule's field map; a missing group-by field joins no group", () => {
    const mapped: ProcessingPipeline = {
      name: 'mapped',
      resolve: () => [
        { name: 'mapped', conditions: {}, fieldMap: { User: 'user.name', EventID: 'event.code' } },
      ],
    };
    const compiled = compileFile(
      `${header('event_count')}  rules: [failed_login]\n  group-by: [User]\n  timespan: 1h\n  condition:\n    gte: 2\n---\n${FAILED}`,
      mapped,
    );
    expect(compiled.groupByFields).toEqual(['user.name']);
    const events = [
      at(0, { 'event.code': 4625 }),
      at(1, { 'event.code': 4625 }),
      at(2, { 'event.code': 4625, 'user.name': 'x' }),
      at(3, { 'event.code': 4625, 'user.name': 'x' }, 'second'),
    ];
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, events);
    expect(matches.map((m) => [m.keyValues, m.count])).toEqual([[['x'], 2]]);
  });
});

describe('compile refusals', () => {
  const compileError = (text: string): { code: string; line: number; detail: string } => {
    try {
      compileFile(text);
    } catch (error) {
      const e = error as { code: string; line: number; detail: string };
      return { code: e.code, line: e.line, detail: e.detail };
    }
    throw new Error('compiled');
  };
  const head = 'title: c\nid: 0e95725d-7320-415d-80f7-004da920fc13\ncorrelation:\n';

  it('a reference nothing loaded has, at the reference', () => {
    expect(
      compileError(
        `${head}  type: event_count\n  rules:\n    - nope\n  timespan: 1h\n  condition: {gte: 1}\n`,
      ),
    ).toMatchObject({
      code: 'invalid-rule',
      line: 6,
      detail: expect.stringMatching(/"nope"/),
    });
  });

  it('one rule named twice, by its name and by its id, at the second reference', () => {
    expect(
      compileError(
        `${head}  type: temporal\n  rules:\n    - failed_login\n    - 53ba33fd-3a50-4468-a5ef-c583635cfa92\n  timespan: 1h\n---\n${FAILED}`,
      ),
    ).toMatchObject({
      code: 'invalid-rule',
      line: 7,
      detail: '`rules` names one rule twice: "failed_login" and "53ba33fd-3a50-4468-a5ef-c583635cfa92"',
    });
  });

  it('an alias without a field for one of the rules', () => {
    expect(
      compileError(
        `${head}  type: temporal\n  rules: [failed_login, successful_login]\n  group-by: [ip]\n  timespan: 1h\n  aliases:\n    ip:\n      failed_login: IpAddress\n---\n${FAILED}---\n${SUCCESS}`,
      ),
    ).toMatchObject({
      detail: expect.stringMatching(/alias `ip` gives no field for rule "successful_login"/),
    });
  });

  it('temporal with an upper bound, and an inner correlation decided only when its window closes', () => {
    expect(
      compileError(
        `${head}  type: temporal\n  rules: [failed_login, successful_login]\n  timespan: 1h\n  condition: {lt: 2}\n---\n${FAILED}---\n${SUCCESS}`,
      ),
    ).toMatchObject({
      code: 'unsupported',
    });
    const innerLt = [
      `${head}  type: temporal_ordered\n  rules: [few_failed, successful_login]\n  timespan: 1h`,
      '---\ntitle: few\nname: few_failed\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  timespan: 1h\n  condition: {lt: 3}',
      `---\n${FAILED}---\n${SUCCESS}`,
    ].join('\n');
    expect(compileError(innerLt)).toMatchObject({
      code: 'unsupported',
      detail: expect.stringMatching(/when its window closes/),
    });
  });
});

describe('on normalized SequorEvents (the Windows pipeline, SequorEventFields)', () => {
  it('the specification example: 10 failed logons of a user, then a success, within 10 minutes', () => {
    const text = [
      'title: brute force then success\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\ncorrelation:\n  type: temporal_ordered\n  rules:\n    - multiple_failed_login\n    - successful_login\n  group-by:\n    - TargetUserName\n  timespan: 10m',
      '---',
      'title: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n  type: event_count\n  rules:\n    - failed_login\n  group-by:\n    - TargetUserName\n  timespan: 10m\n  condition:\n    gte: 10',
      `---\n${FAILED}---\n${SUCCESS}`,
    ].join('\n');
    const loaded = loadSigmaDocuments(text, 'mr_brute.yml');
    expect(loaded.errors).toEqual([]);
    const references = new SigmaReferences(
      loaded.rules.map((rule) => compileSigmaRule(rule, defaultPipeline)),
      loaded.correlations,
    );
    const fields = new SequorEventFields(); // owned by this correlation: rebound per event
    const compiled = compileSigmaCorrelation(loaded.correlations[0]!, references, (e: SequorEvent) =>
      fields.bind(e),
    );
    expect(compiled.groupByFields).toEqual(['TargetUserName']);
    const logon = (offset: number, eventId: string, user: string, id: string): SequorEvent => {
      const base = sampleEvent();
      return {
        ...base,
        timestamp: T0 + offset,
        event: { ...base.event, id, code: eventId, provider: 'Microsoft-Windows-Security-Auditing' },
        winlog: {
          ...base.winlog!,
          event_id: eventId,
          channel: 'Security',
          event_data: { TargetUserName: user, LogonType: '3' },
        },
      };
    };
    const events = [
      ...Array.from({ length: 10 }, (_, i) => logon(i * SECOND, '4625', 'admin', `fail${i}`)),
      logon(11 * SECOND, '4624', 'bob', 'ok-bob'),
      logon(12 * SECOND, '4624', 'admin', 'ok-admin'),
    ];
    const time: EventTime<SequorEvent> = { timestamp: (e) => e.timestamp, tiebreaker: () => 0 };
    const matches = runCorrelation(compiled.spec, time, inOrder, events);
    expect(matches.map((m) => [m.keyValues, m.events.at(-1)!.event.id, m.events.length])).toEqual([
      [['admin'], 'ok-admin', 11],
    ]);
  });
});

describe("the caller's tuning (ruleExceptions)", () => {
  it('keeps the events a named rule excepts out, asking its exceptions once per event however many readers ask', () => {
    const text = `title: distinct users\nid: 6a2b1f8e-2c1d-4f3a-9b8e-1d2c3b4a5f60\ncorrelation:\n  type: value_count\n  rules: [failed_login]\n  group-by: [Host]\n  timespan: 10m\n  condition:\n    field: User\n    gte: 2\n---\n${FAILED}`;
    const loaded = loadSigmaDocuments(text, 'mr_test.yml');
    const rules = loaded.rules.map((rule) => compileSigmaRule(rule, anyEvent));
    const asked: string[] = [];
    const compiled = compileSigmaCorrelation(
      loaded.correlations[0]!,
      new SigmaReferences(rules, loaded.correlations),
      (e: Ev) => objectFieldSource(e.fields),
      {
        ruleExceptions: () => (e: Ev) => {
          asked.push(e.id);
          return e.fields['User'] === 'svc';
        },
      },
    );
    const failed = (ms: number, user: string) =>
      at(ms, { EventID: 4625, Host: 'h1', User: user }, `${user}${ms}`);
    const matches = runCorrelation(compiled.spec, eventTime, inOrder, [
      failed(0, 'svc'),
      failed(SECOND, 'admin'),
      failed(2 * SECOND, 'bob'),
    ]);
    // svc's failure is not counted: the second distinct user is bob, not admin.
    expect(ids(matches)).toEqual([['admin1000', 'bob2000']]);
    expect(asked).toEqual(['svc0', 'admin1000', 'bob2000']);
  });
});

describe('compileSigmaCorrelations (what a rule-set loader wires in)', () => {
  it('compiles each correlation on its own; inner ones silenced by generate: false run only inside the outer one', () => {
    const text = [
      'title: outer\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\ncorrelation:\n  type: temporal_ordered\n  rules: [multiple_failed_login, successful_login]\n  group-by: [User]\n  timespan: 10m',
      '---\ntitle: inner\nname: multiple_failed_login\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 10m\n  condition: {gte: 10}',
      '---\ntitle: broken\ncorrelation:\n  type: temporal\n  rules: [nothing_by_that_name, failed_login]\n  timespan: 1m',
      `---\n${FAILED}---\n${SUCCESS}`,
    ].join('\n');
    const loaded = loadSigmaDocuments(text, 'set.yml');
    const rules = loaded.rules.map((rule) => compileSigmaRule(rule, anyEvent));
    const set = compileSigmaCorrelations(
      rules,
      loaded.correlations,
      () => (e: Ev) => objectFieldSource(e.fields),
    );
    expect(set.alerting.map((c) => c.correlation.title)).toEqual(['outer']);
    expect(set.errors.map((e) => [e.line, e.detail])).toEqual([
      [21, expect.stringMatching(/nothing_by_that_name/)],
    ]);
    expect(rules.map((r) => set.silenced.has(r.rule))).toEqual([true, true]);
  });

  it('refuses value_percentile at compile, with the reason, and the rule it names stays silenced', () => {
    const text = `title: p\nid: 0e95725d-7320-415d-80f7-004da920fc14\ncorrelation:\n  type: value_percentile\n  rules: [failed_login]\n  group-by: [Host]\n  timespan: 24h\n  condition:\n    field: Image\n    lte: 1\n---\n${FAILED}`;
    const loaded = loadSigmaDocuments(text, 'set.yml');
    expect(loaded.errors).toEqual([]);
    const rules = loaded.rules.map((rule) => compileSigmaRule(rule, anyEvent));
    const set = compileSigmaCorrelations(
      rules,
      loaded.correlations,
      () => (e: Ev) => objectFieldSource(e.fields),
    );
    expect(set.alerting).toEqual([]);
    expect(set.errors.map((e) => [e.code, e.line, e.detail])).toEqual([
      ['unsupported', 4, expect.stringMatching(/value_percentile is refused/)],
    ]);
    // Like a correlation refused for any other reason at compile: its rules do not start alerting.
    expect(set.silenced.has(rules[0]!.rule)).toBe(true);
  });
});
