/**
 * The compiled reader (avro-reader.ts) against avsc's own decode (the oracle, avsc-oracle.ts): engaged for
 * the event schema and its projections, the same values and key order, and the same refusal reason for
 * every cut and every corrupted byte of an event.
 */
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import type { Alert, SequorEvent } from '../src/index.js';
import {
  alertSchema,
  AvroCodec,
  avroType,
  CodecError,
  createAlertCodec,
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
} from '../src/index.js';
import type { AvroChecker } from '../src/avro-reader.js';
import { compileAvroChecker, compileAvroReader } from '../src/avro-reader.js';
import { avscDecoder, type Decoder } from './avsc-oracle.js';
import { sampleEvent } from './sample-event.js';
import { olderEvent, olderEventSchema } from './decode-hardening-older.js';
import { scenarioEvents } from '../../../test/bench/paths/_events.js';

const EVENT = eventSchema as unknown as Schema;
const PROJECTIONS = [['winlog.event_data'], ['process.name', 'host.id', 'zeek.fields', 'event.category']];

function pairs(): [Decoder<unknown>, Decoder<unknown>][] {
  return [
    [createEventCodec(), avscDecoder(EVENT)],
    ...PROJECTIONS.map(
      (fields) =>
        [createProjectedEventCodec(fields), avscDecoder(projectedEventSchema(fields), EVENT)] as [
          Decoder<unknown>,
          Decoder<unknown>,
        ],
    ),
  ];
}

/** The decoded value as JSON (key order included), or the CodecError's reason. */
function outcome(codec: Decoder<unknown>, bytes: Buffer): string {
  try {
    return JSON.stringify(codec.decode(bytes));
  } catch (error) {
    return error instanceof CodecError ? error.reason : `not a CodecError: ${String(error)}`;
  }
}

const zeekEvent = (): SequorEvent =>
  sampleEvent({ winlog: null, zeek: { fields: { 'id.orig_h': '10.0.0.1', query: 'example.org' } } });

describe('the compiled Avro reader', () => {
  it('reads the event schema and its projections (the codecs use it)', () => {
    expect(compileAvroReader(EVENT, EVENT)).toBeDefined();
    for (const fields of PROJECTIONS)
      expect(compileAvroReader(EVENT, projectedEventSchema(fields))).toBeDefined();
  });

  it('reads a reader field the writer lacks as its null default, as avsc does (an older event writer)', () => {
    const writer: Schema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    const reader: Schema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'b', type: ['null', 'string'], default: null },
        { name: 'a', type: 'string' },
      ],
    };
    expect(compileAvroReader(writer, reader)).toBeDefined();
    const codec = new AvroCodec<{ a: string; b: string | null }>(reader, { writerSchemas: [writer] });
    const written = new AvroCodec<{ a: string }>(writer).encodeSingleObject({ a: 'x' });
    const decoded = codec.decode(written);
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(avscDecoder(reader, writer).decode(written)));
    expect(JSON.stringify(decoded)).toBe('{"b":null,"a":"x"}');
  });

  it('is not made for what it does not read: a default other than null, an enum', () => {
    const writer: Schema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    const reader: Schema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'string' },
        { name: 'b', type: ['string', 'null'], default: 'none' },
      ],
    };
    expect(compileAvroReader(writer, reader)).toBeUndefined();
    // No default at all: avsc refuses the pair, and so does the compiled reader.
    const noDefault: Schema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'string' },
        { name: 'c', type: ['null', 'string'] },
      ],
    };
    expect(compileAvroReader(writer, noDefault)).toBeUndefined();
    const codec = new AvroCodec<{ a: string; b: string | null }>(reader, { writerSchemas: [writer] });
    const written = new AvroCodec<{ a: string }>(writer).encodeSingleObject({ a: 'x' });
    expect(codec.decode(written)).toEqual({ a: 'x', b: 'none' });
    const withEnum: Schema = {
      type: 'record',
      name: 'E',
      fields: [{ name: 'e', type: { type: 'enum', name: 'K', symbols: ['A', 'B'] } }],
    };
    expect(compileAvroReader(withEnum, withEnum)).toBeUndefined();
  });

  it('builds plain objects in the reader schema order, as avsc reads them', () => {
    const bytes = createEventCodec().encodeSingleObject(sampleEvent());
    for (const [ours, theirs] of pairs()) {
      const a = ours.decode(bytes) as object;
      expect(JSON.stringify(a)).toBe(JSON.stringify(theirs.decode(bytes)));
      expect(a).toEqual(theirs.decode(bytes));
      expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    }
  });

  it('reads events of older writers (before the maps, before the System numbers) as avsc does, and their cuts', () => {
    const events = [sampleEvent(), zeekEvent(), ...scenarioEvents(600)];
    for (const maps of [false, true]) {
      const older = olderEventSchema(maps);
      const writer = new AvroCodec<unknown>(older);
      const records = events.map((e) => writer.encodeSingleObject(olderEvent(e, maps)));
      for (const fields of [undefined, ...PROJECTIONS, ['winlog.level_raw', 'winlog.event_data']]) {
        const reader = fields === undefined ? EVENT : projectedEventSchema(fields);
        const ours =
          fields === undefined
            ? createEventCodec({ writerSchemas: [older] })
            : createProjectedEventCodec(fields, { writerSchemas: [older] });
        expect(
          compileAvroReader(avroType(older).schema(), avroType(reader).schema({ exportAttrs: true })),
        ).toBeDefined();
        const theirs = avscDecoder(reader, older);
        for (const bytes of records) {
          const a = ours.decode(bytes);
          expect(JSON.stringify(a)).toBe(JSON.stringify(theirs.decode(bytes)));
          expect(a).toEqual(theirs.decode(bytes));
        }
        const first = records[0] as Buffer;
        for (let at = 10; at < first.length; at++)
          expect(outcome(ours, first.subarray(0, at))).toBe(outcome(theirs, first.subarray(0, at)));
      }
    }
  });

  it('refuses every cut of an event with the same reason as avsc', () => {
    for (const event of [sampleEvent(), zeekEvent()]) {
      const bytes = createEventCodec().encodeSingleObject(event);
      for (const [ours, theirs] of pairs())
        for (let at = 10; at < bytes.length; at++) {
          const cut = bytes.subarray(0, at);
          expect(outcome(ours, cut)).toBe(outcome(theirs, cut));
        }
    }
  });

  it('reads or refuses every corrupted byte of an event as avsc does (full schema: nothing skipped)', () => {
    // One-byte varints only: a corrupted count of billions would keep avsc (the oracle) looping. Not with
    // projections: avsc's skip of a block with a negative byte size moves backwards, for ever (below).
    for (const event of [sampleEvent(), zeekEvent()]) {
      const bytes = createEventCodec().encodeSingleObject(event);
      const [ours, theirs] = pairs()[0] as [Decoder<unknown>, Decoder<unknown>];
      for (let at = 10; at < bytes.length; at++)
        for (const byte of [0x00, 0x01, 0x02, 0x40, 0x7f]) {
          const corrupted = Buffer.from(bytes);
          corrupted[at] = byte;
          expect(outcome(ours, corrupted)).toBe(outcome(theirs, corrupted));
        }
    }
  });

  it('refuses a skipped block with a negative byte size as truncated (avsc would loop for ever)', () => {
    const bytes = createEventCodec().encodeSingleObject(sampleEvent());
    // event.category ['registry']: its block count 1 (02) and item length 8 (10), rewritten as a block of
    // -51 items whose byte size reads as -52.
    const at = bytes.indexOf(Buffer.from([0x02, 0x10, ...Buffer.from('registry')]));
    expect(at).toBeGreaterThan(0);
    const corrupted = Buffer.from(bytes);
    corrupted[at + 1] = 0x02;
    const projected = createProjectedEventCodec(['winlog.event_data']);
    expect(() => projected.decode(corrupted)).toThrow(expect.objectContaining({ reason: 'truncated' }));
    expect(outcome(createEventCodec(), corrupted)).toBe(outcome(avscDecoder(EVENT), corrupted));
  });

  it('reads alerts (a union of null, string and array) as avsc does, and every cut and corrupted byte', () => {
    const codec = createAlertCodec();
    const schema = codec.type.schema();
    expect(compileAvroReader(schema, schema)).toBeDefined();
    const avsc = avscDecoder<Alert>(alertSchema as unknown as Schema);
    // Corrupted bytes make counts and lengths avsc alone may loop on for minutes or die of (a fatal
    // 'invalid size'): for those the oracle is avsc behind the codec's check, as the codec used it, and
    // only the outcome is compared (the check refuses a block whose byte size is not its items' as
    // malformed where the reader reads the items and finds the value cut short).
    const check = compileAvroChecker(schema) as AvroChecker;
    const checked = (bytes: Buffer): string => {
      const tap = { buf: bytes, pos: 10 };
      try {
        check(tap);
      } catch {
        return 'refused';
      }
      if (!(tap.pos <= bytes.length)) return 'refused';
      const decoded = outcome(avsc, bytes);
      return decoded.startsWith('{') ? decoded : 'refused';
    };
    const ours = (bytes: Buffer): string => {
      const decoded = outcome(codec, bytes);
      return decoded.startsWith('{') ? decoded : 'refused';
    };
    const evidence = (values: (string | string[] | null)[]): Alert['evidence'][number] => ({
      event_id: 'e1',
      timestamp: 1_699_999_990_000,
      origin: { format: 'winlogbeat', topic: null, partition: 3, offset: 2 ** 40 },
      fields: values.map((value, i) => ({ name: `f${i}`, value })),
    });
    const base: Alert = {
      alert: { id: 'a1' },
      timestamp: 1_700_000_000_000,
      rule: {
        id: 'r',
        name: 'Rule é',
        version: 1,
        type: 'sigma',
        severity: 'high',
        risk_score: 73,
        references: ['x', 'y'],
        revision: null,
        level: 'high',
        tags: [],
        author: ['a'],
      },
      threat: [
        {
          framework: 'MITRE ATT&CK',
          tactic: { id: 'TA0006', name: 'Credential Access' },
          technique: null,
          subtechnique: { id: 'T1003.001', name: 'LSASS Memory' },
        },
      ],
      entity: { host: { id: 'h', name: null }, user: { id: null, name: 'u' } },
      keys: [{ field: 'host.id', value: null }],
      event: { first_time: 1, last_time: 2, count: 2 },
      evidence: [evidence(['v', null, ['a', 'b'], []]), evidence([])],
      message: 'm',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
    };
    const alerts = [base, { ...base, threat: [], keys: [], evidence: [] }];
    for (const alert of alerts) {
      const bytes = codec.encodeSingleObject(alert);
      expect(JSON.stringify(codec.decode(bytes))).toBe(JSON.stringify(avsc.decode(bytes)));
      expect(codec.decode(bytes)).toEqual(alert);
      for (let at = 10; at < bytes.length; at++) {
        expect(outcome(codec, bytes.subarray(0, at))).toBe(outcome(avsc, bytes.subarray(0, at)));
        for (const byte of [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x40, 0x7f, 0x80, 0xff]) {
          const corrupted = Buffer.from(bytes);
          corrupted[at] = byte;
          expect(ours(corrupted)).toBe(checked(corrupted));
        }
      }
    }
  });

  it('leaves to avsc a union avsc wraps (two branches of one kind)', () => {
    const wrapped: Schema = {
      type: 'record',
      name: 'W',
      fields: [{ name: 'v', type: ['null', 'int', 'long'] }],
    };
    expect(compileAvroReader(wrapped, wrapped)).toBeUndefined();
  });
});
