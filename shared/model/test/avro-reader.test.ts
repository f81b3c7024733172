/**
 * The compiled reader (avro-reader.ts) against avsc's own decode (the oracle, avsc-oracle.ts): engaged for
 * the event schema and its projections, the same values and key order, and the same refusal reason for
 * every cut and every corrupted byte of an event.
 */
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '../src/index.js';
import {
  AvroCodec,
  avroType,
  CodecError,
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
} from '../src/index.js';
import { compileAvroReader } from '../src/avro-reader.js';
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
});
