import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { CodecError, createEventCodec } from '@sequor/model';
import { InMemorySchemaRegistry } from '@sequor/model/testing';
import type { RecordDecoder, SourceFormat } from '@sequor/formats';
import { getFormat, parseSourceBindings } from '@sequor/formats';
import type { NormalizeProcessor, RawRecord } from '../src/index.js';
import {
  confluentEventEncoder,
  createNormalizeProcessor,
  NORMALIZED_HEADERS,
  parsePartitionKeyFields,
  singleObjectEventEncoder,
  UnboundTopicError,
} from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const securityDatasets = path.resolve(repoRoot, '../shared/datasets/security-datasets');
const zeekFixtures = path.join(repoRoot, 'shared/formats/test/fixtures/zeek');

const lines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
const datasetLines = (file: string): string[] => lines(path.join(securityDatasets, file));
const zeekLines = (file: string): string[] => lines(path.join(zeekFixtures, file));

const codec = createEventCodec();
const MiB = 1 << 20;

function processor(
  bindings = 'flat-windows:windows.raw',
  options: { maxRecordBytes?: number } = {},
): NormalizeProcessor {
  return createNormalizeProcessor({
    bindings: parseSourceBindings(bindings),
    encoder: singleObjectEventEncoder(),
    ...options,
  });
}

function raw(
  topic: string,
  offset: number,
  value: string | Uint8Array | null,
  extra: Partial<RawRecord> = {},
): RawRecord {
  return {
    topic,
    partition: 0,
    offset,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    ...extra,
  };
}

/** The single output of a record, decoded back from its Avro value. */
function only(
  p: NormalizeProcessor,
  record: RawRecord,
): { key: string; event: SequorEvent; headers: Record<string, unknown> } {
  const result = p.process(record);
  expect(result.deadLetter).toBeUndefined();
  expect(result.outputs).toHaveLength(1);
  const out = result.outputs[0]!;
  const decoded = codec.decode(out.value);
  // The Avro bytes say exactly what the in-memory event says.
  expect(decoded).toEqual(out.event);
  return { key: out.key, event: decoded, headers: out.headers };
}

// Expected per file: lines, events and dead letters by reason (events of channels no mapping knows,
// TaskScheduler, WMI-Activity, Directory Service, pass with their own data; see
// shared/formats/test/windows/datasets.test.ts).
const datasets: Readonly<
  Record<string, { lines: number; events: number; deadLetters: Record<string, number> }>
> = {
  'cmd_service_mod_fax.json': { lines: 437, events: 437, deadLetters: {} },
  'empire_psexec_dcerpc_tcp_svcctl.json': {
    lines: 4348,
    events: 4348,
    deadLetters: {},
  },
  'empire_shell_dcerpc_smb_service_dll_hijack.json': {
    lines: 6349,
    events: 6349,
    deadLetters: {},
  },
  'empire_shell_reg_dump_sam.json': { lines: 738, events: 738, deadLetters: {} },
  'reg_disable_eventlog_service_startuptype_modification_via_registry.json': {
    lines: 3872,
    events: 3872,
    deadLetters: {},
  },
};

describe('NormalizeProcessor over every Security-Datasets file', () => {
  // Plain loops and one assertion per property at the end: 6,000 `expect` calls per file would be slower
  // than the normalization under test.
  it.each(Object.entries(datasets))(
    '%s: records = outputs + dead letters, every output keyed by host.id',
    { timeout: 30_000 },
    (file, want) => {
      const p = processor();
      const all = datasetLines(file);
      let outputs = 0;
      const reasons: Record<string, number> = {};
      const problems: string[] = [];
      all.forEach((line, offset) => {
        const result = p.process(raw('windows.raw', offset, line));
        if (result.deadLetter !== undefined) {
          const d = result.deadLetter;
          if (result.outputs.length !== 0 || d.errorType !== 'NormalizeError' || d.format !== 'flat-windows')
            problems.push(`dead letter at ${offset}: ${d.message}`);
          reasons[d.reason] = (reasons[d.reason] ?? 0) + 1;
        }
        for (const out of result.outputs) {
          outputs++;
          const o = out.event.origin;
          if (out.key !== out.event.host?.id || !out.key.startsWith('name:'))
            problems.push(`key ${out.key} at ${offset}`);
          if (
            o.format !== 'flat-windows' ||
            o.topic !== 'windows.raw' ||
            o.partition !== 0 ||
            o.offset !== offset
          )
            problems.push(`origin at ${offset}`);
          if (out.value[0] !== 0xc3 || out.value[1] !== 0x01) problems.push(`framing at ${offset}`);
        }
      });
      expect(problems).toEqual([]);
      expect(all.length).toBe(want.lines);
      expect(outputs).toBe(want.events);
      expect(reasons).toEqual(want.deadLetters);
      const c = p.counters();
      expect(c.total).toEqual({
        records: want.lines,
        events: want.events,
        empty: 0,
        deadLetters: want.lines - want.events,
      });
      expect(c.byFormat['flat-windows']).toEqual(c.total);
      expect(c.deadLettersByReason).toEqual(want.deadLetters);
      expect(c.keyedBy).toEqual({ 'host.id': want.events, 'host.name': 0, 'user.id': 0, 'event.id': 0 });
    },
  );

  it('a 4624 network logon onto WORKSTATION6, decoded from Avro', () => {
    const all = datasetLines('empire_shell_dcerpc_smb_service_dll_hijack.json');
    const offset = all.findIndex(
      (l) =>
        l.includes('"EventID":4624') &&
        l.includes('"LogonType":"3"') &&
        l.includes('"TargetUserName":"pgustavo"') &&
        l.includes('WORKSTATION6'),
    );
    expect(offset).toBeGreaterThanOrEqual(0);
    const { key, event, headers } = only(processor(), raw('windows.raw', offset, all[offset]!));
    expect(key).toBe('name:workstation6');
    expect(event.event.code).toBe('4624');
    expect(event.event.category).toEqual(['authentication']);
    expect(event.event.outcome).toBe('success');
    expect(event.winlog?.logon?.type).toBe('Network');
    expect(event.winlog?.channel).toBe('Security');
    expect(event.user).toEqual({
      id: 'S-1-5-21-4228717743-1032521047-1810997296-1104',
      name: 'pgustavo',
      domain: expect.stringMatching(/^THESHIRE/),
    });
    expect(event.source?.ip).toBe('172.18.39.5');
    expect(event.host?.id).toBe('name:workstation6');
    expect(headers[NORMALIZED_HEADERS.format]).toBe('flat-windows');
  });

  it('the Sysmon 13 write of the Fax service ImagePath, decoded from Avro', () => {
    const all = datasetLines('cmd_service_mod_fax.json');
    const offset = all.findIndex(
      (l) => l.includes('"EventID":13,') && l.includes('Fax\\\\ImagePath') && l.includes('T1543.003'),
    );
    const { key, event } = only(processor(), raw('windows.raw', offset, all[offset]!));
    expect(key).toBe('name:workstation5');
    expect(event.timestamp).toBe(Date.parse('2020-10-21T08:45:33.693Z'));
    expect(event.event.code).toBe('13');
    expect(event.registry).toEqual({
      hive: 'HKLM',
      key: 'System\\CurrentControlSet\\Services\\Fax',
      path: 'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
      value: 'ImagePath',
      data: {
        strings: [
          'C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c "write-host \'T1543.003 Test\'"',
        ],
        type: null,
      },
    });
    expect(event.process?.entity_id).toBe('{39e4a257-f131-5f8b-0b00-000000000700}');
    expect(event.process?.name).toBe('services.exe');
    expect(event.origin).toEqual({ format: 'flat-windows', topic: 'windows.raw', partition: 0, offset });
  });

  it('a Sysmon 1 process create with its GUID and parent, decoded from Avro', () => {
    const all = datasetLines('cmd_service_mod_fax.json');
    const offset = all.findIndex(
      (l) => l.includes('"EventID":1,') && l.includes('{39e4a257-d62d-5f90-8710-000000000700}'),
    );
    const { event } = only(processor(), raw('windows.raw', offset, all[offset]!));
    expect(event.event.code).toBe('1');
    expect(event.event.category).toEqual(['process']);
    expect(event.process?.entity_id).toBe('{39e4a257-d62d-5f90-8710-000000000700}');
    expect(event.process?.pid).toBe(3112);
    expect(event.process?.executable).toBe('C:\\Windows\\System32\\sc.exe');
    expect(event.process?.parent?.entity_id).toBe('{39e4a257-d603-5f90-8010-000000000700}');
    expect(event.process?.parent?.name).toBe('cmd.exe');
    expect(event.user?.id).toBe('name:workstation5\\wardog');
  });
});

describe('NormalizeProcessor: Zeek streams', () => {
  it('a winreg BaseRegSetValue from a TSV log: headers give nothing, data lines give keyed events', () => {
    const p = processor('zeek-dce-rpc:zeek.dce_rpc');
    const log = zeekLines('dce_rpc.log');
    const results = log.map((line, offset) => p.process(raw('zeek.dce_rpc', offset, line)));
    expect(results.every((r) => r.deadLetter === undefined)).toBe(true);
    const outputs = results.flatMap((r) => r.outputs);
    const dataLines = log.filter((l) => !l.startsWith('#'));
    expect(outputs).toHaveLength(dataLines.length);
    expect(p.counters().total).toEqual({
      records: log.length,
      events: dataLines.length,
      empty: log.length - dataLines.length,
      deadLetters: 0,
    });
    const setValue = outputs.find(
      (o) => o.event.dce_rpc?.operation === 'BaseRegSetValue' && o.event.host?.ip?.[0] === '10.0.0.5',
    )!;
    const event = codec.decode(setValue.value);
    expect(setValue.key).toBe('ip:10.0.0.5');
    expect(event.dce_rpc).toEqual({
      named_pipe: '\\PIPE\\winreg',
      endpoint: 'winreg',
      operation: 'BaseRegSetValue',
    });
    expect(event.source).toEqual({ ip: '10.0.0.23', port: 49710, bytes: null });
    expect(event.network?.connection_id).toBe('CjhGID4nQcgTWjvg4c');
    expect(event.timestamp).toBe(1709287200121);
    expect(event.origin).toEqual({
      format: 'zeek-dce-rpc',
      topic: 'zeek.dce_rpc',
      partition: 0,
      offset: log.indexOf(log.find((l) => l.includes('BaseRegSetValue'))!),
    });
  });

  it('keeps one decoder per partition: a header on partition 0 does not make partition 1 readable', () => {
    const p = processor('zeek-dce-rpc:zeek.dce_rpc');
    const log = zeekLines('dce_rpc.log');
    const header = log.filter((l) => l.startsWith('#') && !l.startsWith('#close'));
    const data = log.find((l) => !l.startsWith('#'))!;
    header.forEach((line, offset) => p.process(raw('zeek.dce_rpc', offset, line)));
    expect(p.process(raw('zeek.dce_rpc', 100, data)).outputs).toHaveLength(1);
    expect(p.process(raw('zeek.dce_rpc', 0, data, { partition: 1 })).deadLetter?.reason).toBe('bad-header');
    // After a revocation the partition starts over: its next owner must see a header again.
    p.releasePartition('zeek.dce_rpc', 0);
    expect(p.process(raw('zeek.dce_rpc', 101, data)).deadLetter?.reason).toBe('bad-header');
  });

  it('checkpoints a partition (its Zeek header) so a fresh decoder of it resumes where it stood', () => {
    const p = processor('zeek-dce-rpc:zeek.dce_rpc,flat-windows:windows');
    const log = zeekLines('dce_rpc.log');
    const header = log.filter((l) => l.startsWith('#') && !l.startsWith('#close'));
    const data = log.find((l) => !l.startsWith('#'))!;
    expect(p.isFresh('zeek.dce_rpc', 0)).toBe(true);
    header.forEach((line, offset) => p.process(raw('zeek.dce_rpc', offset, line)));
    expect(p.isFresh('zeek.dce_rpc', 0)).toBe(false);
    const checkpoint = p.checkpoint('zeek.dce_rpc', 0)!;
    expect(checkpoint).toMatch(/^zeek-tsv-header:1:/);
    expect(p.checkpoint('zeek.dce_rpc', 1)).toBeUndefined();

    p.releasePartition('zeek.dce_rpc', 0);
    expect(p.isFresh('zeek.dce_rpc', 0)).toBe(true);
    expect(p.resumePartition('zeek.dce_rpc', 0, checkpoint)).toBe(true);
    expect(p.process(raw('zeek.dce_rpc', 100, data)).outputs).toHaveLength(1);
    // Only a fresh decoder is seeded, and a JSON format keeps no stream state.
    expect(p.resumePartition('zeek.dce_rpc', 0, checkpoint)).toBe(false);
    expect(p.resumePartition('windows', 0, checkpoint)).toBe(false);
    expect(p.checkpoint('windows', 0)).toBeUndefined();
    expect(p.resumePartition('unbound', 0, checkpoint)).toBe(false);
  });
});

describe('NormalizeProcessor: malformed input becomes a dead-letter verdict, and the stream goes on', () => {
  const good = datasetLines('cmd_service_mod_fax.json')[0]!;
  const ts = '"@timestamp":"2020-10-21T08:45:33.686Z"';
  const cases: readonly [string, string | Uint8Array | null, string][] = [
    ['truncated JSON', good.slice(0, good.length / 2), 'malformed'],
    ['binary garbage', Uint8Array.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x01]), 'malformed'],
    ['an empty record', '', 'malformed'],
    ['a tombstone', null, 'malformed'],
    ['a JSON array', '[1,2,3]', 'malformed'],
    ['a missing timestamp', '{"EventID":4624,"Channel":"Security","Hostname":"WS1"}', 'missing-field'],
    [
      'a number for a time',
      '{"EventID":4624,"Channel":"Security","Hostname":"WS1","@timestamp":12345}',
      'wrong-type',
    ],
    [
      'an array for a host name',
      `{"EventID":4624,"Channel":"Security","Hostname":["WS1"],${ts}}`,
      'wrong-type',
    ],
    [
      'an event code out of range',
      `{"EventID":99999,"Channel":"Security","Hostname":"WS1",${ts}}`,
      'wrong-type',
    ],
    ['an empty channel name', `{"EventID":4624,"Channel":"","Hostname":"WS1",${ts}}`, 'wrong-type'],
  ];

  it.each(cases)('%s', (_name, value, reason) => {
    const p = processor();
    const result = p.process(raw('windows.raw', 7, value, { key: 'k' }));
    expect(result.outputs).toHaveLength(0);
    expect(result.deadLetter?.reason).toBe(reason);
    expect(result.deadLetter?.errorType).toBe('NormalizeError');
    expect(result.deadLetter?.message).toContain('windows.raw[0]@7');
    expect(p.process(raw('windows.raw', 8, good)).outputs).toHaveLength(1);
    expect(p.counters().total).toEqual({ records: 2, events: 1, empty: 0, deadLetters: 1 });
    expect(p.counters().deadLettersByReason).toEqual({ [reason]: 1 });
  });

  it('refuses a 10 MB record as too-large without parsing it', () => {
    let decoded = 0;
    const spy: SourceFormat = {
      ...getFormat('flat-windows'),
      createDecoder: (options) => {
        const inner = getFormat('flat-windows').createDecoder(options);
        return {
          decode: (value, origin) => (decoded++, inner.decode(value, origin)),
        } satisfies RecordDecoder;
      },
    };
    const p = createNormalizeProcessor({
      bindings: [{ topic: 't', format: spy }],
      encoder: singleObjectEventEncoder(),
      maxRecordBytes: MiB,
    });
    const huge = Buffer.alloc(10 * MiB, 0x7b);
    const result = p.process(raw('t', 0, huge));
    expect(result.deadLetter?.reason).toBe('too-large');
    expect(result.deadLetter?.message).toContain(`${10 * MiB} bytes exceed the limit of ${MiB}`);
    expect(decoded).toBe(0);
    expect(p.process(raw('t', 1, good)).outputs).toHaveLength(1);
    expect(decoded).toBe(1);
  });

  it('a Zeek TSV line with the wrong column count, then good lines', () => {
    const p = processor('zeek-dce-rpc:zeek.dce_rpc');
    const log = zeekLines('dce_rpc.log');
    const header = log.filter(
      (l) => l.startsWith('#fields') || l.startsWith('#types') || l.startsWith('#separator'),
    );
    const data = log.filter((l) => !l.startsWith('#'));
    let offset = 0;
    for (const line of header) p.process(raw('zeek.dce_rpc', offset++, line));
    const short = data[0]!.split('\t').slice(0, -2).join('\t');
    expect(p.process(raw('zeek.dce_rpc', offset++, short)).deadLetter?.reason).toBe('column-count');
    expect(p.process(raw('zeek.dce_rpc', offset++, data[1]!)).outputs).toHaveLength(1);
  });

  it('an event the schema refuses is invalid-value; a format that throws a bug is unexpected-error', () => {
    const bad: SourceFormat = {
      ...getFormat('flat-windows'),
      createDecoder: (options) => {
        const inner = getFormat('flat-windows').createDecoder(options);
        return {
          decode(value, origin) {
            const text = Buffer.from(value).toString('utf8');
            if (text === 'bug') throw new TypeError('cannot read properties of undefined');
            const [event] = inner.decode(Buffer.from(good), origin) as SequorEvent[];
            const broken = { ...event! };
            // A format bug that writes text into a long: the codec refuses it.
            (broken as unknown as { timestamp: unknown }).timestamp = 'not a time';
            return [event!, broken];
          },
        };
      },
    };
    const p = createNormalizeProcessor({
      bindings: [{ topic: 't', format: bad }],
      encoder: singleObjectEventEncoder(),
    });
    const invalid = p.process(raw('t', 0, 'x'));
    expect(invalid.outputs).toHaveLength(0);
    expect(invalid.deadLetter).toMatchObject({ reason: 'invalid-value', errorType: 'CodecError' });
    expect(invalid.deadLetter?.error).toBeInstanceOf(CodecError);
    const bug = p.process(raw('t', 1, 'bug'));
    expect(bug.deadLetter).toMatchObject({
      reason: 'unexpected-error',
      errorType: 'TypeError',
      message: 'cannot read properties of undefined',
    });
    expect(p.counters().deadLettersByReason).toEqual({ 'invalid-value': 1, 'unexpected-error': 1 });
  });

  it('a topic no binding names is a wiring bug: it throws', () => {
    expect(() => processor().process(raw('elsewhere', 0, good))).toThrow(UnboundTopicError);
  });
});

describe('NormalizeProcessor: headers, keys and framing', () => {
  const good = datasetLines('cmd_service_mod_fax.json')[0]!;

  it('passes the raw headers through and adds format and key-field headers', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const p = processor();
    const result = p.process(
      raw('windows.raw', 0, good, {
        headers: { traceparent: Buffer.from(traceparent), 'x-repeat': ['a', 'b'] },
      }),
    );
    const headers = result.outputs[0]!.headers;
    expect(Buffer.from(headers['traceparent'] as Buffer).toString()).toBe(traceparent);
    expect(headers['x-repeat']).toEqual(['a', 'b']);
    expect(headers[NORMALIZED_HEADERS.format]).toBe('flat-windows');
    expect(headers[NORMALIZED_HEADERS.partitionKeyFields]).toBe('host.id,host.name,user.id');
    expect(headers[NORMALIZED_HEADERS.partitionKeyField]).toBe('host.id');
  });

  it("gives header-less records one headers object per key field, never another record's headers", () => {
    const p = processor();
    const plain = (offset: number, extra: Partial<RawRecord> = {}) =>
      p.process(raw('windows.raw', offset, good, extra)).outputs[0]!.headers;
    const first = plain(0);
    const traced = plain(1, { headers: { traceparent: 'x' } });
    const again = plain(2, { headers: {} });
    // Built once for the topic and key field, not per record.
    expect(again).toBe(first);
    expect(traced).not.toBe(first);
    expect(again).toEqual({
      [NORMALIZED_HEADERS.format]: 'flat-windows',
      [NORMALIZED_HEADERS.partitionKeyFields]: 'host.id,host.name,user.id',
      [NORMALIZED_HEADERS.partitionKeyField]: 'host.id',
    });
  });

  it('keys by the configured fields and says so in the headers', () => {
    const p = createNormalizeProcessor({
      bindings: parseSourceBindings('flat-windows:windows.raw'),
      encoder: singleObjectEventEncoder(),
      partitionKeyFields: parsePartitionKeyFields('user.id,host.id'),
    });
    const sysmon1 = datasetLines('cmd_service_mod_fax.json').find((l) => l.includes('"EventID":1,'))!;
    const out = p.process(raw('windows.raw', 0, sysmon1)).outputs[0]!;
    expect(out.key).toBe('name:workstation5\\wardog');
    expect(out.headers[NORMALIZED_HEADERS.partitionKeyFields]).toBe('user.id,host.id');
    expect(out.headers[NORMALIZED_HEADERS.partitionKeyField]).toBe('user.id');
    expect(p.counters().keyedBy).toEqual({ 'user.id': 1, 'host.id': 0, 'event.id': 0 });
  });

  it('frames Confluent when given a schema id, and the codec reads it back', async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = createEventCodec();
    const id = await writer.register(registry, 'sequor.events-value');
    const p = createNormalizeProcessor({
      bindings: parseSourceBindings('flat-windows:windows.raw'),
      encoder: confluentEventEncoder(writer, id),
    });
    const out = p.process(raw('windows.raw', 3, good)).outputs[0]!;
    expect(out.value[0]).toBe(0);
    expect(out.value.readUInt32BE(1)).toBe(id);
    const reader = createEventCodec({ registry });
    expect(await reader.decodeAsync(out.value)).toEqual(out.event);
  });

  it('accepts Kafka offsets as decimal strings', () => {
    const out = processor().process(raw('windows.raw', 0, good, { offset: '9007199254740' })).outputs[0]!;
    expect(out.event.origin.offset).toBe(9007199254740);
  });
});
