/**
 * Decode hardening: Kafka topics are partly attacker-written, so a record must decode or be refused with a
 * CodecError (which the caller dead-letters), in time and memory bounded by its length, on every path a
 * record from a topic takes through the codec:
 *
 * | path                                                                       | reads it        |
 * |----------------------------------------------------------------------------|-----------------|
 * | event, full reader (normalizer's, detector with a rules topic, CLI workers) | compiled reader |
 * | event, projected with the maps (detector with Sigma rules)                  | compiled reader |
 * | event, projected without maps (detector with the built-ins)                 | compiled reader |
 * | event, older writer (before the maps or the System numbers), any reader     | compiled reader |
 * | event, newer writer (a field of a type the compiled reader lacks)           | avsc, checked   |
 * | alert (a union of null, string, array), single-object and Confluent         | compiled reader |
 * | alert update                                                                | compiled reader |
 *
 * Every cut, every byte set to a few values and, at every position, crafted varints put in place of the
 * byte or before it (counts and lengths of ±2^25..2^53, a varint of 11 bytes, one reading as NaN or
 * Infinity, out-of-range union indexes, a count followed by a NaN length): each decode returns or throws a
 * CodecError. A hang fails the test by its timeout, an allocation past the heap by crashing; the fixes
 * make both impossible by construction (the checks below), so no decode is timed.
 */
import type { Schema } from 'avsc';
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { AlertUpdate, SequorEvent } from '../src/index.js';
import {
  AvroCodec,
  CodecError,
  avroType,
  createAlertCodec,
  createAlertUpdateCodec,
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
} from '../src/index.js';
import { compileAvroReader, MAX_EMPTY_ITEMS } from '../src/avro-reader.js';
import { readStringMap } from '../src/string-map.js';
import { InMemorySchemaRegistry, sampleAlert } from '../src/testing/index.js';
import { sampleEvent } from './sample-event.js';
import { olderEvent, olderEventSchema } from './decode-hardening-older.js';

/** Avro's zig-zag varint of `n` (float arithmetic: exact up to 2^53). */
function varint(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
/** 160 continuation bytes of zero then a zero: avsc's long arithmetic reads it as 0 * Infinity, NaN. */
const NAN_VARINT = [...new Array<number>(160).fill(0x80), 0x00];
const INFINITY_VARINT = [...new Array<number>(160).fill(0xff), 0x01];

const CRAFTED: readonly (readonly [string, readonly number[]])[] = [
  ['2^53', varint(2 ** 53)],
  ['-2^53', varint(-(2 ** 53))],
  ['2^40', varint(2 ** 40)],
  ['-2^40', varint(-(2 ** 40))],
  ['2^31', varint(2 ** 31)],
  ['2^25', varint(2 ** 25)],
  ['-2^25', varint(-(2 ** 25))],
  ['-1', varint(-1)],
  ['-3', varint(-3)],
  ['union index 9', varint(9)],
  ['varint of 11 bytes', [...new Array<number>(10).fill(0xff), 0x01]],
  ['NaN', NAN_VARINT],
  ['Infinity', INFINITY_VARINT],
  ['count 2^40, then a NaN length', [...varint(2 ** 40), ...NAN_VARINT]],
  ['count -2^40, then a NaN size', [...varint(-(2 ** 40)), ...NAN_VARINT]],
  ['count 2^40, then a length of -1', [...varint(2 ** 40), ...varint(-1)]],
];

/** The decode's outcome: 'ok' or the CodecError's reason; anything else thrown is returned as a failure. */
function outcome(codec: AvroCodec<unknown>, bytes: Buffer): string {
  try {
    codec.decode(bytes);
    return 'ok';
  } catch (error) {
    if (error instanceof CodecError) return error.reason;
    return `NOT A CodecError: ${String(error).slice(0, 200)}`;
  }
}

/** Every mutation of `record` (header of `header` bytes kept): cuts, byte values, crafted varints. */
function* mutations(record: Buffer, header: number): Generator<[string, Buffer]> {
  for (let i = 0; i < record.length; i++) yield [`cut at ${i}`, record.subarray(0, i)];
  for (let i = header; i < record.length; i++) {
    const b = record[i] as number;
    for (const v of [0x00, 0x01, 0x7f, 0x80, 0xff, b ^ 0x80, b ^ 0x01, (b + 2) & 0xff]) {
      const copy = Buffer.from(record);
      copy[i] = v;
      yield [`byte ${i} = ${v}`, copy];
    }
  }
  for (let i = header; i < record.length; i++)
    for (const [name, bytes] of CRAFTED) {
      const crafted = Buffer.from(bytes);
      yield [
        `${name} for byte ${i}`,
        Buffer.concat([record.subarray(0, i), crafted, record.subarray(i + 1)]),
      ];
      yield [`${name} before byte ${i}`, Buffer.concat([record.subarray(0, i), crafted, record.subarray(i)])];
    }
}

/** Decodes every mutation; returns the outcomes counted, and the first few that were not CodecErrors. */
function fuzz(codec: AvroCodec<unknown>, records: readonly Buffer[], header: number) {
  const counts: Record<string, number> = {};
  const failures: string[] = [];
  for (const record of records) {
    expect(outcome(codec, record)).toBe('ok');
    for (const [what, bytes] of mutations(record, header)) {
      const result = outcome(codec, bytes);
      if (result.startsWith('NOT')) {
        if (failures.length < 5) failures.push(`${what}: ${result}`);
        continue;
      }
      counts[result] = (counts[result] ?? 0) + 1;
    }
  }
  return { counts, failures };
}

type Json = Record<string, unknown>;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const EVENT = eventSchema as unknown as Schema;

/** A newer writer: today's event and a field whose type (an enum) only avsc reads, skipped by today's reader. */
function newerEventSchema(): Schema {
  const schema = clone(eventSchema) as unknown as { fields: Json[] };
  schema.fields.push(
    {
      name: 'labels',
      type: { type: 'array', items: { type: 'enum', name: 'Label', symbols: ['A', 'B'] } },
      default: [],
    },
    { name: 'notes', type: { type: 'array', items: 'string' }, default: [] },
  );
  return schema as unknown as Schema;
}

const windowsEvent = (): SequorEvent => {
  const base = sampleEvent();
  return sampleEvent({
    winlog: {
      ...(base.winlog as NonNullable<SequorEvent['winlog']>),
      event_data: {
        NewProcessName: 'C:\\Windows\\System32\\cmd.exe',
        CommandLine: 'cmd.exe /c whoami',
        SubjectUserName: 'alice',
        ParentProcessName: 'C:\\Windows\\explorer.exe',
      },
    },
  });
};
const zeekEvent = (): SequorEvent =>
  sampleEvent({
    winlog: null,
    zeek: { fields: { 'id.orig_h': '10.0.0.1', 'id.resp_p': '53', query: 'example.org', qtype_name: 'A' } },
  });
const alert = sampleAlert();

const update: AlertUpdate = {
  alert: { id: '0123456789abcdef0123456789abcdef' },
  timestamp: 1_700_000_000_000,
  rule: { id: 'r-1', name: 'Rule', version: 2 },
  suppression: {
    by: [
      { field: 'host.id', value: 'name:ws1' },
      { field: 'user.name', value: null },
    ],
    count: 3,
    window_start: 1_699_999_990_000,
    window_end: 1_700_000_090_000,
    first_time: 1_699_999_991_000,
    last_time: 1_699_999_999_000,
    closed_by: 'watermark',
  },
  last_evidence: ['e1', 'e2'],
};

/** Whether the codec's compiled reader (not avsc) reads frames of `writer` as `reader`. */
const compiled = (writer: Schema, reader: Schema): boolean =>
  compileAvroReader(avroType(writer).schema(), avroType(reader).schema({ exportAttrs: true })) !== undefined;

const MAPS = ['process.name', 'host.id', 'winlog.event_data', 'zeek.fields'];
const NO_MAPS = ['process.name', 'host.id', 'event.category', 'user.name'];
const MAPS_AND_SYSTEM = [...MAPS, 'winlog.level_raw', 'winlog.task_raw'];

interface Path {
  readonly name: string;
  readonly codec: () => AvroCodec<unknown>;
  readonly records: () => Buffer[];
  readonly header: number;
  readonly reader: 'compiled' | 'avsc';
  readonly writer: Schema;
  readonly readerSchema: Schema;
}

function paths(): Path[] {
  const older = olderEventSchema(false);
  const withMaps = olderEventSchema(true);
  const newer = newerEventSchema();
  const today = createEventCodec();
  const todayRecords = () => [windowsEvent(), zeekEvent()].map((e) => today.encodeSingleObject(e));
  const olderRecords = () => [
    new AvroCodec<Json>(older).encodeSingleObject(olderEvent(sampleEvent(), false)),
  ];
  const withMapsRecords = () =>
    [windowsEvent(), zeekEvent()].map((e) =>
      new AvroCodec<Json>(withMaps).encodeSingleObject(olderEvent(e, true)),
    );
  const alertSchema = createAlertCodec().type.schema() as Schema;
  const updateSchema = createAlertUpdateCodec().type.schema() as Schema;
  return [
    {
      name: 'event, full reader',
      codec: () => createEventCodec() as AvroCodec<unknown>,
      records: todayRecords,
      header: 10,
      reader: 'compiled',
      writer: EVENT,
      readerSchema: EVENT,
    },
    {
      name: 'event, projected with the maps',
      codec: () => createProjectedEventCodec(MAPS) as AvroCodec<unknown>,
      records: todayRecords,
      header: 10,
      reader: 'compiled',
      writer: EVENT,
      readerSchema: projectedEventSchema(MAPS),
    },
    {
      name: 'event, projected without maps',
      codec: () => createProjectedEventCodec(NO_MAPS) as AvroCodec<unknown>,
      records: todayRecords,
      header: 10,
      reader: 'compiled',
      writer: EVENT,
      readerSchema: projectedEventSchema(NO_MAPS),
    },
    {
      name: 'event, writer before the maps, full reader',
      codec: () => createEventCodec({ writerSchemas: [older] }) as AvroCodec<unknown>,
      records: olderRecords,
      header: 10,
      reader: 'compiled',
      writer: older,
      readerSchema: EVENT,
    },
    {
      name: 'event, writer before the System numbers, projected with the maps and them',
      codec: () =>
        createProjectedEventCodec(MAPS_AND_SYSTEM, { writerSchemas: [withMaps] }) as AvroCodec<unknown>,
      records: withMapsRecords,
      header: 10,
      reader: 'compiled',
      writer: withMaps,
      readerSchema: projectedEventSchema(MAPS_AND_SYSTEM),
    },
    {
      name: 'event, writer before the maps, projected without maps',
      codec: () => createProjectedEventCodec(NO_MAPS, { writerSchemas: [older] }) as AvroCodec<unknown>,
      records: olderRecords,
      header: 10,
      reader: 'compiled',
      writer: older,
      readerSchema: projectedEventSchema(NO_MAPS),
    },
    {
      name: 'event, newer writer (an enum array), full reader',
      codec: () => createEventCodec({ writerSchemas: [newer] }) as AvroCodec<unknown>,
      records: () => [
        new AvroCodec<Json>(newer).encodeSingleObject({
          ...(windowsEvent() as unknown as Json),
          labels: ['A', 'B'],
          notes: ['n1', 'n2'],
        }),
      ],
      header: 10,
      reader: 'avsc',
      writer: newer,
      readerSchema: EVENT,
    },
    {
      name: 'alert, single-object',
      codec: () => createAlertCodec() as AvroCodec<unknown>,
      records: () => [createAlertCodec().encodeSingleObject(alert)],
      header: 10,
      reader: 'compiled',
      writer: alertSchema,
      readerSchema: alertSchema,
    },
    {
      name: 'alert, Confluent',
      codec: () => {
        const codec = createAlertCodec();
        codec.addSchemaId(7, codec.type);
        return codec as AvroCodec<unknown>;
      },
      records: () => [createAlertCodec().encodeConfluent(alert, 7)],
      header: 5,
      reader: 'compiled',
      writer: alertSchema,
      readerSchema: alertSchema,
    },
    {
      name: 'alert update',
      codec: () => createAlertUpdateCodec() as AvroCodec<unknown>,
      records: () => [createAlertUpdateCodec().encodeSingleObject(update)],
      header: 10,
      reader: 'compiled',
      writer: updateSchema,
      readerSchema: updateSchema,
    },
  ];
}

describe('every decode path refuses hostile records with a CodecError, in bounded time', () => {
  for (const path of paths()) {
    it(`${path.name} (${path.reader})`, { timeout: 120_000 }, () => {
      expect(compiled(path.writer, path.readerSchema) ? 'compiled' : 'avsc').toBe(path.reader);
      const { counts, failures } = fuzz(path.codec(), path.records(), path.header);
      expect(failures).toEqual([]);
      // The mutations reach past the header: some are refused as cut short, some as malformed.
      expect(counts['truncated']).toBeGreaterThan(0);
      expect(counts['malformed']).toBeGreaterThan(0);
    });
  }
});

/** Offset of the first byte where `a` and `b` differ. */
function firstDifference(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

/** `record` with the bytes at [at, at + remove) replaced by `bytes`. */
const splice = (record: Buffer, at: number, remove: number, bytes: readonly number[]): Buffer =>
  Buffer.concat([record.subarray(0, at), Buffer.from(bytes), record.subarray(at + remove)]);

function reason(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof CodecError ? error.reason : `not a CodecError: ${String(error)}`;
  }
}

describe('the fixes, one hostile record each', () => {
  it('alert: a block count of 2^31 over nothing is cut short (avsc ran out of memory, killing the process)', () => {
    const codec = createAlertCodec();
    const empty = codec.encodeSingleObject({ ...alert, rule: { ...alert.rule, references: [] } });
    const one = codec.encodeSingleObject(alert);
    // The references' block count: 0 (none) in one, 2 (one item) in the other.
    const at = firstDifference(empty, one);
    expect(empty[at]).toBe(0);
    // 2^31 and -2^31: avsc's loop of empty strings past the end grew its array to 1.5 GB and aborted (11 s);
    // 2^25: a 256 MB array. Past an array's length (2^40) avsc's `new Array` throws: malformed, as before.
    for (const count of [2 ** 31, -(2 ** 31), 2 ** 25])
      expect(reason(() => codec.decode(splice(empty, at, 1, varint(count))))).toBe('truncated');
    for (const count of [2 ** 40, -(2 ** 40)])
      expect(reason(() => codec.decode(splice(empty, at, 1, varint(count))))).toBe('malformed');
    // A 2^31-string block with a real string after it is still cut short.
    expect(reason(() => codec.decode(splice(empty, at, 1, [...varint(2 ** 31), 2, 0x41])))).toBe('truncated');
  });

  const v1: Schema = {
    type: 'record',
    name: 'R',
    fields: [{ name: 'a', type: 'string' }],
  };
  const withExtra = (items: unknown): Schema =>
    ({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'string' },
        { name: 'extra', type: { type: 'array', items } },
        { name: 'e', type: { type: 'enum', name: 'E', symbols: ['X'] } },
      ],
    }) as Schema;

  it('avsc path: a block count of 2^31 or 2^40 over nothing is cut short (avsc looped out of memory)', () => {
    const codec = new AvroCodec<unknown>(withExtra('string'));
    expect(compileAvroReader(codec.type.schema(), codec.type.schema())).toBeUndefined();
    const ok = codec.encodeSingleObject({ a: 'x', extra: [], e: 'X' });
    const at = ok.length - 2; // extra's end (0), then the enum's index (0)
    for (const count of [2 ** 31, -(2 ** 31), 2 ** 25, 2 ** 40, -(2 ** 40)])
      expect(reason(() => codec.decode(splice(ok, at, 1, varint(count))))).toBe('truncated');
    expect(reason(() => codec.decode(splice(ok, at, 1, [...varint(2 ** 31), 2, 0x41])))).toBe('truncated');
  });

  it('avsc skip path (newer writer): a negative block size is refused (avsc moved backwards for ever)', () => {
    const reader = new AvroCodec<unknown>(v1, { writerSchemas: [withExtra('string')] });
    const writer = new AvroCodec<unknown>(withExtra('string'));
    const ok = writer.encodeSingleObject({ a: 'x', extra: [], e: 'X' });
    expect(reader.decode(ok)).toEqual({ a: 'x' });
    // extra: one block of -1 items (count, then its byte size) of size -2: back to the count, for ever.
    const at = ok.length - 2;
    const bad = splice(ok, at, 1, [...varint(-1), ...varint(-2), 2, 0x41, 0]);
    expect(reason(() => reader.decode(bad))).toBe('malformed');
    // A byte size that is not its items' bytes: avsc's read and skip would part ways.
    const wrong = splice(ok, at, 1, [...varint(-1), ...varint(1), 2, 0x41, 0]);
    expect(reason(() => reader.decode(wrong))).toBe('malformed');
    const right = splice(ok, at, 1, [...varint(-1), ...varint(2), 2, 0x41, 0]);
    expect(reader.decode(right)).toEqual({ a: 'x' });
  });

  it('avsc path: 2^40 nulls (no bytes each) are refused, a few are read', () => {
    const codec = new AvroCodec<{ extra: null[] }>(withExtra('null'));
    const ok = codec.encodeSingleObject({ a: 'x', extra: [null, null], e: 'X' } as never);
    expect(codec.decode(ok).extra).toEqual([null, null]);
    const at = ok.length - 3; // the count 2 (varint 4), the end 0, the enum 0
    expect(ok[at]).toBe(4);
    expect(reason(() => codec.decode(splice(ok, at, 1, varint(2 ** 40))))).toBe('malformed');
    expect(reason(() => codec.decode(splice(ok, at, 1, varint(MAX_EMPTY_ITEMS + 1))))).toBe('malformed');
    expect(codec.decode(splice(ok, at, 1, varint(1000))).extra).toHaveLength(1000);
  });

  it('avsc path: a recursive schema is checked through its own reference, each level', () => {
    const list = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
        { name: 'next', type: ['null', 'Node'] },
      ],
    } as Schema;
    const codec = new AvroCodec<unknown>(list);
    expect(compileAvroReader(codec.type.schema(), codec.type.schema())).toBeUndefined();
    const value = { kind: 'A', next: { kind: 'B', next: { kind: 'A', next: null } } };
    const ok = codec.encodeSingleObject(value);
    expect(codec.decode(ok)).toEqual(value);
    // The last node's enum index 0 made 5, then its union index 0 made 9: each level is checked.
    expect(reason(() => codec.decode(splice(ok, ok.length - 2, 1, varint(5))))).toBe('malformed');
    expect(reason(() => codec.decode(splice(ok, ok.length - 1, 1, varint(9))))).toBe('malformed');
    expect(reason(() => codec.decode(ok.subarray(0, ok.length - 1)))).toBe('truncated');
  });

  it('Confluent: an id whose schema the reader cannot read is refused per record, its loading does not fail', async () => {
    const registry = new InMemorySchemaRegistry();
    const alertId = await createAlertCodec().register(registry, 'alerts-value');
    const junkId = await registry.register('junk', JSON.stringify({ type: 'record', name: 'J', fields: [] }));
    // The registry's schema text for an id need not be a schema this process can parse.
    const broken = {
      getSchema: async () => '{"type": "nonsense"}',
      register: registry.register.bind(registry),
    };
    const events = createEventCodec({ registry });
    // Was: loadSchemaId rejected with incompatible-schema, the detector's batch preload threw it, and
    // the batch was tried again for ever (one record naming another subject's id stalled its partition).
    await expect(events.loadSchemaId(alertId)).resolves.toBeUndefined();
    await expect(events.loadSchemaId(junkId)).resolves.toBeUndefined();
    const frame = (id: number): Buffer => Buffer.from([0, 0, 0, 0, id, 2, 0x41]);
    expect(reason(() => events.decode(frame(alertId)))).toBe('incompatible-schema');
    expect(reason(() => events.decode(frame(junkId)))).toBe('incompatible-schema');
    await expect(events.decodeAsync(frame(alertId))).rejects.toMatchObject({ reason: 'incompatible-schema' });
    const viaBroken = createEventCodec({ registry: broken });
    await expect(viaBroken.loadSchemaId(9)).resolves.toBeUndefined();
    expect(reason(() => viaBroken.decode(frame(9)))).toBe('incompatible-schema');
    // An id of 2^31 or more is looked up as decode reads it (was: loaded as a negative id).
    const high = Buffer.from([0, 0x80, 0, 0, 1, 2, 0x41]);
    const seen: number[] = [];
    const recording = {
      getSchema: async (id: number) => {
        seen.push(id);
        throw new CodecError('unknown-schema-id', `no ${id}`, { schemaId: id });
      },
      register: registry.register.bind(registry),
    };
    await expect(createEventCodec({ registry: recording }).decodeAsync(high)).rejects.toMatchObject({
      reason: 'unknown-schema-id',
    });
    expect(seen).toEqual([2 ** 31 + 1]);
  });

  it('map<string>: a NaN key length under a count of 2^40 leaves the map invalid (it looped 2^40 times)', () => {
    for (const count of [2 ** 40, 3]) {
      const tap = { buf: Buffer.from([...varint(count), ...NAN_VARINT, 0, 0, 0]), pos: 0 };
      expect(readStringMap(tap)).toEqual({});
      expect(tap.pos).toBe(tap.buf.length + 1);
    }
  });

  it('compiled reader: a NaN string length is a value cut short (was trailing-bytes of NaN bytes)', () => {
    const codec = new AvroCodec<unknown>(v1);
    expect(compileAvroReader(codec.type.schema(), codec.type.schema())).toBeDefined();
    const ok = codec.encodeSingleObject({ a: 'xy' });
    expect(reason(() => codec.decode(splice(ok, 10, 1, NAN_VARINT)))).toBe('truncated');
  });

  it('compiled reader: an array count of 2^25 allocates no 256 MB array', () => {
    const codec = createEventCodec();
    const withCategories = (category: string[]): SequorEvent => {
      const e = windowsEvent();
      return { ...e, event: { ...e.event, category } };
    };
    const one = codec.encodeSingleObject(withCategories(['a']));
    const two = codec.encodeSingleObject(withCategories(['a', 'b']));
    // event.category's block count: 2 items in one record, 4 in the other.
    const at = firstDifference(one, two);
    expect([one[at], two[at]]).toEqual([2, 4]);
    const hostile = splice(one, at, 1, varint(2 ** 25));
    // The array dies with the decode; the heap's use right after it still counts it (no collection frees
    // it in between: the decode allocates nothing after it that could start one big enough).
    let grew = 0;
    for (let i = 0; i < 3; i++) {
      const before = getHeapStatistics().used_heap_size;
      expect(reason(() => codec.decode(hostile))).toBe('truncated');
      grew = Math.max(grew, getHeapStatistics().used_heap_size - before);
    }
    // A 2^25-slot array is 256 MB of pointers; the record itself is under a kilobyte.
    expect(grew).toBeLessThan(16 * 1024 * 1024);
  });
});
