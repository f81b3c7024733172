import { describe, expect, it } from 'vitest';
import type { Schema } from 'avsc';
import {
  AvroCodec,
  CodecError,
  avroType,
  canonicalForm,
  createEventCodec,
  eventSchema,
  rabinFingerprint64,
  rabinFingerprintBytes,
  schemaFingerprint,
} from '../src/index.js';
import { InMemorySchemaRegistry } from '../src/testing/index.js';
import type { SequorEvent } from '../src/index.js';
import { sampleEvent } from './sample-event.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CodecError) return e;
    throw e;
  }
  throw new Error('expected a CodecError');
}

describe('CRC-64-AVRO (Rabin) fingerprint', () => {
  it('matches the Avro spec value for "int" (Java SchemaNormalization: 0x7275d51a3f395c8f)', () => {
    expect(rabinFingerprint64(utf8('"int"'))).toBe(0x7275d51a3f395c8fn);
    expect(hex(rabinFingerprintBytes(utf8('"int"')))).toBe('8f5c393f1ad57572');
  });

  // Values computed with the Python `avro` 1.12.2 package: Schema.fingerprint('CRC-64-AVRO').
  it.each([
    ['"long"', 'b71df49344e154d0'],
    ['"string"', 'c70345637248018f'],
    ['"bytes"', '651920c3da16c04f'],
    ['"null"', '8a8f25cce724dd63'],
  ])('matches the Python avro package for %s', (schema, expected) => {
    expect(hex(schemaFingerprint(avroType(schema)))).toBe(expected);
  });

  it('fingerprints a record with namespace, enum, fixed, map and a named reference as Python avro does', () => {
    const schema = {
      type: 'record',
      name: 'X',
      namespace: 'n',
      doc: 'd',
      fields: [
        { name: 'a', type: ['null', { type: 'array', items: 'string' }], default: null },
        { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } },
        { name: 'f', type: { type: 'fixed', name: 'F', size: 4 } },
        { name: 'm', type: { type: 'map', values: 'long' } },
        { name: 'r', type: 'E' },
      ],
    } as Schema;
    const type = avroType(schema);
    expect(canonicalForm(type)).toBe(
      '{"name":"n.X","type":"record","fields":[{"name":"a","type":["null",{"type":"array","items":"string"}]},{"name":"e","type":{"name":"n.E","type":"enum","symbols":["A","B"]}},{"name":"f","type":{"name":"n.F","type":"fixed","size":4}},{"name":"m","type":{"type":"map","values":"long"}},{"name":"r","type":"n.E"}]}',
    );
    expect(hex(schemaFingerprint(type))).toBe('a82a9279c48976fb');
  });
});

describe('AvroCodec framings', () => {
  const codec = createEventCodec();
  const event = sampleEvent();

  it('single-object: C3 01, the fingerprint, the body; round trips', () => {
    const bytes = codec.encodeSingleObject(event);
    expect([...bytes.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    expect(hex(bytes.subarray(2, 10))).toBe(codec.fingerprintHex);
    expect(bytes.subarray(10)).toEqual(avroType(eventSchema as unknown as Schema).toBuffer(event));
    expect(codec.decode(bytes)).toEqual(event);
  });

  it('Confluent: 00, big-endian id, the body; round trips', async () => {
    const registry = new InMemorySchemaRegistry();
    const id = await codec.register(registry, 'sequor.events-value');
    const bytes = codec.encodeConfluent(event, id);
    expect([...bytes.subarray(0, 5)]).toEqual([0, 0, 0, 0, id]);
    expect(codec.decode(bytes)).toEqual(event);
  });

  it('decodes into plain objects with null groups kept', () => {
    const minimal = sampleEvent({ host: null, process: null, registry: null, winlog: null });
    const decoded = codec.decode(codec.encodeSingleObject(minimal));
    expect(decoded).toEqual(minimal);
    expect(decoded.host).toBeNull();
    expect(typeof (decoded as unknown as { toBuffer?: unknown }).toBuffer).toBe('undefined');
  });

  it('grows its encode buffer for large values', () => {
    const small = new AvroCodec<SequorEvent>(eventSchema as unknown as Schema, { initialBufferSize: 16 });
    const big = sampleEvent({
      process: {
        entity_id: null,
        pid: 1,
        name: 'x.exe',
        executable: null,
        command_line: 'a'.repeat(100_000),
        parent: null,
      },
    });
    expect(small.decode(small.encodeSingleObject(big))).toEqual(big);
    expect(small.decode(small.encodeSingleObject(event))).toEqual(event);
  });

  it('returns buffers it does not reuse', () => {
    const a = codec.encodeSingleObject(event);
    const copy = Buffer.from(a);
    codec.encodeSingleObject(sampleEvent({ timestamp: 1 }));
    expect(a).toEqual(copy);
  });
});

describe('AvroCodec errors', () => {
  const codec = createEventCodec();
  const good = codec.encodeSingleObject(sampleEvent());

  it('unknown fingerprint', () => {
    const bad = Buffer.from(good);
    bad[5] = (bad[5] as number) ^ 0xff;
    const e = codecError(() => codec.decode(bad));
    expect(e.reason).toBe('unknown-fingerprint');
    expect(e.detail.fingerprint).toBe(hex(bad.subarray(2, 10)));
  });

  it('unknown schema id, and the registry fills it in via decodeAsync', async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = createEventCodec();
    const id = await writer.register(registry, 's');
    const bytes = writer.encodeConfluent(sampleEvent(), id);
    const reader = createEventCodec({ registry });
    expect(codecError(() => reader.decode(bytes))).toMatchObject({
      reason: 'unknown-schema-id',
      detail: { schemaId: id },
    });
    expect(await reader.decodeAsync(bytes)).toEqual(sampleEvent());
    expect(reader.decode(bytes)).toEqual(sampleEvent());
    await expect(reader.decodeAsync(writer.encodeConfluent(sampleEvent(), 99))).rejects.toMatchObject({
      reason: 'unknown-schema-id',
    });
    await expect(createEventCodec().decodeAsync(bytes)).rejects.toMatchObject({
      reason: 'unknown-schema-id',
    });
  });

  it('registry failures are retriable', async () => {
    const failing = {
      getSchema: () => Promise.reject(new Error('503')),
      register: () => Promise.reject(new Error('503')),
    };
    const reader = createEventCodec({ registry: failing });
    const bytes = codec.encodeConfluent(sampleEvent(), 7);
    const err = await reader.decodeAsync(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CodecError);
    expect(err).toMatchObject({ reason: 'registry-failed', retriable: true });
  });

  it('truncated headers and bodies', () => {
    expect(codecError(() => codec.decode(new Uint8Array(0))).reason).toBe('truncated');
    expect(codecError(() => codec.decode(good.subarray(0, 6))).reason).toBe('truncated');
    expect(codecError(() => codec.decode(good.subarray(0, good.length - 3))).reason).toBe('truncated');
    expect(codecError(() => codec.decode(Uint8Array.of(0, 0, 1))).reason).toBe('truncated');
  });

  it('bad magic and trailing bytes', () => {
    expect(codecError(() => codec.decode(utf8('{"EventID":4624}'))).reason).toBe('bad-magic');
    expect(codecError(() => codec.decode(Uint8Array.of(0xc3, 0x02, ...good.subarray(2)))).reason).toBe(
      'bad-magic',
    );
    expect(codecError(() => codec.decode(Buffer.concat([good, Buffer.of(0)]))).reason).toBe('trailing-bytes');
  });

  it('values that do not match the schema', () => {
    const bad = { ...sampleEvent(), timestamp: 'yesterday' } as unknown as SequorEvent;
    expect(codecError(() => codec.encodeSingleObject(bad)).reason).toBe('invalid-value');
  });
});

describe('schema evolution', () => {
  const v1 = {
    type: 'record',
    name: 'Ev',
    namespace: 't',
    fields: [
      { name: 'timestamp', type: 'long' },
      { name: 'host', type: ['null', 'string'], default: null },
    ],
  } as Schema;
  const v2 = {
    ...(v1 as object),
    fields: [
      ...(v1 as { fields: object[] }).fields,
      { name: 'tags', type: ['null', { type: 'array', items: 'string' }], default: null },
    ],
  } as Schema;

  it('a reader that added a field decodes old single-object frames, filling the default', () => {
    const writer = new AvroCodec<{ timestamp: number; host: string | null }>(v1);
    const reader = new AvroCodec<{ timestamp: number; host: string | null; tags: string[] | null }>(v2, {
      writerSchemas: [v1],
    });
    expect(reader.fingerprintHex).not.toBe(writer.fingerprintHex);
    expect(reader.decode(writer.encodeSingleObject({ timestamp: 5, host: 'h' }))).toEqual({
      timestamp: 5,
      host: 'h',
      tags: null,
    });
  });

  it("a reader whose sequor.Event gained a nullable field decodes events written with today's schema", () => {
    const current = JSON.parse(JSON.stringify(eventSchema)) as { fields: object[] };
    const next = {
      ...current,
      fields: [
        ...current.fields,
        { name: 'related', type: ['null', { type: 'array', items: 'string' }], default: null },
      ],
    } as unknown as Schema;
    const writer = createEventCodec();
    const reader = new AvroCodec<SequorEvent & { related: string[] | null }>(next, {
      writerSchemas: [eventSchema as unknown as Schema],
    });
    expect(reader.decode(writer.encodeSingleObject(sampleEvent()))).toEqual({
      ...sampleEvent(),
      related: null,
    });
  });

  it('an old reader decodes new Confluent frames, ignoring the new field', async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = new AvroCodec<object>(v2);
    const id = await writer.register(registry, 'ev');
    const reader = new AvroCodec<object>(v1, { registry });
    expect(
      await reader.decodeAsync(writer.encodeConfluent({ timestamp: 5, host: null, tags: ['a'] }, id)),
    ).toEqual({ timestamp: 5, host: null });
  });

  it('incompatible writer schemas are refused when added', () => {
    const reader = new AvroCodec<object>(v2);
    const e = codecError(() =>
      reader.addWriterSchema({
        type: 'record',
        name: 't.Ev',
        fields: [{ name: 'timestamp', type: 'string' }],
      } as Schema),
    );
    expect(e.reason).toBe('incompatible-schema');
  });

  it('the same schema registered twice gets the same id', async () => {
    const registry = new InMemorySchemaRegistry();
    const a = await registry.register('x', JSON.stringify(v1));
    const b = await registry.register('y', JSON.stringify({ ...(v1 as object), doc: 'docs do not matter' }));
    expect(b).toBe(a);
    expect(await registry.register('x', JSON.stringify(v2))).not.toBe(a);
  });
});

describe('writer schemas by fingerprint, frame after frame', () => {
  it('decodes frames of different writer schemas interleaved, each with its own, and refuses an unknown one', () => {
    const v1: Schema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };
    const v2: Schema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'long', default: 7 },
      ],
    };
    const other: Schema = { type: 'record', name: 'R', fields: [{ name: 'z', type: 'int' }] };
    const reader = new AvroCodec<{ a: string; b: number }>(v2, { writerSchemas: [v1] });
    const fromV1 = new AvroCodec<{ a: string }>(v1).encodeSingleObject({ a: 'one' });
    const fromV2 = new AvroCodec<{ a: string; b: number }>(v2).encodeSingleObject({ a: 'two', b: 2 });
    const unknown = new AvroCodec<{ z: number }>(other).encodeSingleObject({ z: 1 });
    for (let i = 0; i < 3; i++) {
      expect(reader.decode(fromV1)).toEqual({ a: 'one', b: 7 });
      expect(reader.decode(fromV1)).toEqual({ a: 'one', b: 7 });
      expect(reader.decode(fromV2)).toEqual({ a: 'two', b: 2 });
      expect(codecError(() => reader.decode(unknown)).reason).toBe('unknown-fingerprint');
    }
  });
});
