/**
 * The event's own data (`winlog.event_data`, `zeek.fields`): string maps in the schema, readable by name
 * through the catalog, decoded whole by a projection that asks for them, and compatible both ways with
 * events written before the maps existed.
 */
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '../src/index.js';
import {
  AvroCodec,
  createEventCodec,
  createProjectedEventCodec,
  eventFieldCatalog,
  eventMapFields,
  eventSchema,
} from '../src/index.js';
import { InMemorySchemaRegistry } from '../src/testing/index.js';
import { sampleEvent } from './sample-event.js';

interface FieldNode {
  readonly name: string;
  readonly type: unknown;
}
interface RecordNode {
  readonly type: 'record';
  fields: FieldNode[];
}

/** `sequor.Event` as it was before the maps: no `winlog.event_data`, no `zeek`. */
function schemaWithoutMaps(): Schema {
  const copy = JSON.parse(JSON.stringify(eventSchema)) as RecordNode;
  copy.fields = copy.fields.filter((f) => f.name !== 'zeek');
  const winlog = copy.fields.find((f) => f.name === 'winlog')!;
  const record = (winlog.type as unknown[]).find((b) => typeof b === 'object') as RecordNode;
  record.fields = record.fields.filter((f) => f.name !== 'event_data');
  return copy as unknown as Schema;
}

const zeekEvent = (): SequorEvent =>
  sampleEvent({
    winlog: null,
    zeek: { fields: { 'id.orig_h': '10.0.0.1', query: 'example.org', qtype_name: 'A' } },
  });

describe('the event-data maps in the catalog', () => {
  it('lists the two maps, and no map among the leaf fields', () => {
    expect(eventMapFields.map((m) => m.name)).toEqual(['winlog.event_data', 'zeek.fields']);
    const leaves = [...eventFieldCatalog.fields()].map((f) => f.name);
    expect(leaves).not.toContain('winlog.event_data');
    expect(leaves).not.toContain('zeek.fields');
  });

  it('reads an entry as a string field, dotted Zeek names as one key', () => {
    expect(eventFieldCatalog.lookup(['winlog', 'event_data', 'TargetObject'])).toEqual({
      name: 'winlog.event_data.TargetObject',
      storagePath: ['winlog', 'event_data', 'TargetObject'],
      type: 'string',
    });
    expect(eventFieldCatalog.lookup(['zeek', 'fields', 'id', 'orig_h'])?.storagePath).toEqual([
      'zeek',
      'fields',
      'id.orig_h',
    ]);
  });

  it('the map itself, and names every object inherits, are no field', () => {
    expect(eventFieldCatalog.lookup(['winlog', 'event_data'])).toBeUndefined();
    expect(eventFieldCatalog.lookup(['winlog', 'event_data', 'constructor'])).toBeUndefined();
    expect(eventFieldCatalog.lookup(['winlog', 'event_data', '__proto__'])).toBeUndefined();
    expect(eventFieldCatalog.lookup(['zeek', 'fields', 'toString'])).toBeUndefined();
  });
});

describe('projections with the maps', () => {
  const full = createEventCodec();

  it('decode the whole map for the map name or any entry of it, nothing of it otherwise', () => {
    const event = sampleEvent();
    const bytes = full.encodeSingleObject(event);
    for (const name of ['winlog.event_data', 'winlog.event_data.Image']) {
      const decoded = createProjectedEventCodec([name]).decode(bytes);
      expect(decoded.winlog).toEqual({ event_data: event.winlog?.event_data });
    }
    expect(createProjectedEventCodec(['winlog.channel']).decode(bytes).winlog).toEqual({
      channel: event.winlog?.channel,
    });
    const zeek = zeekEvent();
    expect(createProjectedEventCodec(['zeek.fields']).decode(full.encodeSingleObject(zeek)).zeek).toEqual(
      zeek.zeek,
    );
  });
});

describe('schema evolution with the maps', () => {
  const old = schemaWithoutMaps();

  it("today's reader decodes events written before the maps: both null", () => {
    const writer = new AvroCodec<object>(old);
    const reader = createEventCodec({ writerSchemas: [old] });
    const before = sampleEvent();
    const { zeek: _zeek, ...withoutZeek } = before;
    const written = { ...withoutZeek, winlog: { ...before.winlog, event_data: undefined } };
    delete (written.winlog as { event_data?: unknown }).event_data;
    const decoded = reader.decode(writer.encodeSingleObject(written));
    expect(decoded.winlog?.event_data).toBeNull();
    expect(decoded.zeek).toBeNull();
    expect(decoded.winlog?.channel).toBe(before.winlog?.channel);
  });

  it('a reader from before the maps decodes Confluent frames written with them, skipping the maps', async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = createEventCodec();
    const id = await writer.register(registry, 'sequor.events-value');
    const reader = new AvroCodec<Record<string, unknown>>(old, { registry });
    const decoded = await reader.decodeAsync(writer.encodeConfluent(zeekEvent(), id));
    expect(decoded['zeek']).toBeUndefined();
    expect(decoded['timestamp']).toBe(zeekEvent().timestamp);
    const withData = await reader.decodeAsync(writer.encodeConfluent(sampleEvent(), id));
    expect(withData['winlog']).toEqual({ ...sampleEvent().winlog, event_data: undefined });
  });
});
