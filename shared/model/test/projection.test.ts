import { describe, expect, it } from 'vitest';
import {
  CodecError,
  createEventCodec,
  createProjectedEventCodec,
  EVENT_CORE_FIELDS,
  projectedEventSchema,
} from '../src/index.js';
import { InMemorySchemaRegistry } from '../src/testing/index.js';
import { sampleEvent } from './sample-event.js';

interface Named {
  readonly name: string;
  readonly type: unknown;
}
const fieldNames = (record: unknown): string[] => (record as { fields: Named[] }).fields.map((f) => f.name);
const field = (record: unknown, name: string): Named =>
  (record as { fields: Named[] }).fields.find((f) => f.name === name)!;
/** The record branch of a `["null", record]` field. */
const branch = (f: Named): unknown => (f.type as unknown[]).find((b) => typeof b === 'object');

describe('projectedEventSchema', () => {
  it('keeps the asked fields and the core ones, nested records cut to what is asked, names as written', () => {
    const schema = projectedEventSchema(['process.parent.name', 'host.id', 'file.Ext.header_bytes']);
    expect(schema).toMatchObject({ type: 'record', name: 'Event', namespace: 'sequor' });
    expect(fieldNames(schema)).toEqual(['timestamp', 'event', 'host', 'process', 'file', 'origin']);
    expect(fieldNames(field(schema, 'event').type)).toEqual(['id', 'sequence']);
    expect(fieldNames(field(schema, 'origin').type)).toEqual(['format', 'topic', 'partition', 'offset']);
    expect(fieldNames(branch(field(schema, 'host')))).toEqual(['id']);
    const process = branch(field(schema, 'process'));
    expect(fieldNames(process)).toEqual(['parent']);
    expect(fieldNames(branch(field(process, 'parent')))).toEqual(['name']);
    expect(branch(field(schema, 'file'))).toMatchObject({ name: 'File' });
    expect(fieldNames(branch(field(branch(field(schema, 'file')), 'Ext')))).toEqual(['header_bytes']);
  });

  it('skips names the model does not have (an optional ?field reads null in every event anyway)', () => {
    expect(projectedEventSchema(['no.such.field', 'host.id'])).toEqual(projectedEventSchema(['host.id']));
  });

  it('the core fields are the engine time and tiebreakers, the id and the origin', () => {
    expect(fieldNames(projectedEventSchema([]))).toEqual(['timestamp', 'event', 'origin']);
    expect(EVENT_CORE_FIELDS).toContain('@timestamp');
  });
});

describe('createProjectedEventCodec', () => {
  const full = createEventCodec();
  const event = sampleEvent();

  it('decodes full-schema single-object frames into the projection: asked fields as written, the rest absent', () => {
    const codec = createProjectedEventCodec(['registry.data.strings', 'host.name', 'process.name']);
    const decoded = codec.decode(full.encodeSingleObject(event));
    expect(decoded.timestamp).toBe(event.timestamp);
    expect(decoded.event).toEqual({ id: event.event.id, sequence: event.event.sequence });
    expect(decoded.origin).toEqual(event.origin);
    expect(decoded.host).toEqual({ name: event.host?.name });
    expect(decoded.process).toEqual({ name: event.process?.name });
    expect(decoded.registry).toEqual({ data: { strings: event.registry?.data?.strings } });
    expect(decoded.user).toBeUndefined();
    expect(decoded.file).toBeUndefined();
  });

  it('decodes Confluent frames through the writer schema the registry names', async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = createEventCodec({ registry });
    const id = await writer.register(registry, 'events-value');
    const codec = createProjectedEventCodec(['host.id'], { registry });
    const decoded = await codec.decodeAsync(writer.encodeConfluent(event, id));
    expect(decoded.host).toEqual({ id: event.host?.id });
  });

  it('refuses what the full codec refuses', () => {
    const codec = createProjectedEventCodec(['host.id']);
    const bytes = full.encodeSingleObject(event);
    expect(() => codec.decode(bytes.subarray(0, bytes.length - 3))).toThrow(CodecError);
    expect(() => codec.decode(Buffer.from([0x7b, 0x7d]))).toThrow(CodecError);
  });
});
