/**
 * The System numbers Sigma rules read (`winlog.level_raw`, `keywords_raw`, `task_raw`, `opcode_raw`):
 * catalogued by name and type, kept by a projection that asks for them, and compatible both ways with
 * events written before they existed (single-object and Confluent framing).
 */
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  AvroCodec,
  createEventCodec,
  createProjectedEventCodec,
  eventFieldCatalog,
  eventSchema,
} from '../src/index.js';
import { InMemorySchemaRegistry } from '../src/testing/index.js';
import { sampleEvent } from './sample-event.js';

const SYSTEM_FIELDS = ['level_raw', 'keywords_raw', 'task_raw', 'opcode_raw'] as const;

interface FieldNode {
  readonly name: string;
  readonly type: unknown;
}
interface RecordNode {
  readonly type: 'record';
  fields: FieldNode[];
}

/** `sequor.Event` as it was before the System numbers. */
function schemaWithoutSystemNumbers(): Schema {
  const copy = JSON.parse(JSON.stringify(eventSchema)) as RecordNode;
  const winlog = copy.fields.find((f) => f.name === 'winlog')!;
  const record = (winlog.type as unknown[]).find((b) => typeof b === 'object') as RecordNode;
  record.fields = record.fields.filter((f) => !(SYSTEM_FIELDS as readonly string[]).includes(f.name));
  return copy as unknown as Schema;
}

/** The sample event as a writer from before the System numbers holds it. */
function oldEvent(): Record<string, unknown> {
  const event = sampleEvent();
  const winlog: Record<string, unknown> = { ...event.winlog };
  for (const f of SYSTEM_FIELDS) delete winlog[f];
  return { ...event, winlog };
}

describe('the System numbers in the catalog', () => {
  it('are leaf fields of their types, after the event data', () => {
    expect(SYSTEM_FIELDS.map((f) => eventFieldCatalog.lookup(['winlog', f])?.type)).toEqual([
      'int',
      'string',
      'int',
      'int',
    ]);
    const winlog = (
      (eventSchema.fields.find((f) => f.name === 'winlog')!.type as readonly unknown[])[1] as {
        fields: readonly { name: string }[];
      }
    ).fields.map((f) => f.name);
    expect(winlog.slice(winlog.indexOf('event_data') + 1)).toEqual([...SYSTEM_FIELDS]);
  });
});

describe('projections with the System numbers', () => {
  it('keep each one asked for, and nothing of them otherwise', () => {
    const event = sampleEvent();
    const bytes = createEventCodec().encodeSingleObject(event);
    const decoded = createProjectedEventCodec(SYSTEM_FIELDS.map((f) => `winlog.${f}`)).decode(bytes);
    expect(decoded.winlog).toEqual({
      level_raw: 4,
      keywords_raw: '0x8000000000000000',
      task_raw: 13,
      opcode_raw: 0,
    });
    expect(createProjectedEventCodec(['winlog.channel']).decode(bytes).winlog).toEqual({
      channel: event.winlog?.channel,
    });
  });
});

describe('schema evolution with the System numbers', () => {
  const old = schemaWithoutSystemNumbers();

  it("today's reader decodes single-object events written before them: all null", () => {
    const writer = new AvroCodec<object>(old);
    const reader = createEventCodec({ writerSchemas: [old] });
    const decoded = reader.decode(writer.encodeSingleObject(oldEvent()));
    for (const f of SYSTEM_FIELDS) expect(decoded.winlog?.[f]).toBeNull();
    expect(decoded.winlog?.event_data).toEqual(sampleEvent().winlog?.event_data);
    expect(decoded.winlog?.channel).toBe(sampleEvent().winlog?.channel);
  });

  it("today's reader decodes Confluent frames written before them", async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = new AvroCodec<object>(old, { registry });
    const id = await writer.register(registry, 'sequor.events-value');
    const reader = createEventCodec({ registry });
    const decoded = await reader.decodeAsync(writer.encodeConfluent(oldEvent(), id));
    for (const f of SYSTEM_FIELDS) expect(decoded.winlog?.[f]).toBeNull();
    expect(decoded.winlog?.record_id).toBe(sampleEvent().winlog?.record_id);
  });

  it('a reader from before them decodes events written with them, skipping them', async () => {
    const registry = new InMemorySchemaRegistry();
    const writer = createEventCodec();
    const id = await writer.register(registry, 'sequor.events-value');
    const reader = new AvroCodec<Record<string, unknown>>(old, {
      registry,
      writerSchemas: [eventSchema as unknown as Schema],
    });
    const expected = oldEvent();
    expect(await reader.decodeAsync(writer.encodeConfluent(sampleEvent(), id))).toEqual(expected);
    expect(reader.decode(writer.encodeSingleObject(sampleEvent()))).toEqual(expected);
  });
});
