/**
 * A writer schema avsc can resolve is never refused because our own reader's compiler fails on it: avsc
 * reads it instead (behind the check walk). A refused schema id is refused for good, so a compiler fault
 * would otherwise dead-letter every record of a valid writer.
 */
import type { Schema } from 'avsc';
import { describe, expect, it, vi } from 'vitest';
import type * as AvroReader from '../src/avro-reader.js';

const fault = vi.hoisted(() => ({ on: false }));

vi.mock('../src/avro-reader.js', async (importOriginal) => {
  const actual = await importOriginal<typeof AvroReader>();
  return {
    ...actual,
    compileAvroReader: (writer: unknown, reader: unknown) => {
      // The codec's own schema read as itself is one object passed twice; a resolution passes two.
      if (fault.on && writer !== reader) throw new Error('a fault of the reader compiler');
      return actual.compileAvroReader(writer, reader);
    },
  };
});

const { AvroCodec, createEventCodec, eventSchema } = await import('../src/index.js');
const { sampleEvent } = await import('./sample-event.js');

/** `sequor.Event` without its last winlog field: an older writer. */
function olderSchema(): Schema {
  const copy = JSON.parse(JSON.stringify(eventSchema)) as { fields: { name: string; type: unknown }[] };
  const winlog = copy.fields.find((f) => f.name === 'winlog')!;
  const record = (winlog.type as unknown[]).find((b) => typeof b === 'object') as {
    fields: { name: string }[];
  };
  record.fields = record.fields.filter((f) => f.name !== 'opcode_raw');
  return copy as unknown as Schema;
}

describe('a fault of the compiled reader', () => {
  it('falls back to avsc for that writer instead of refusing it', () => {
    const old = olderSchema();
    const event = sampleEvent();
    const { opcode_raw: _dropped, ...winlog } = event.winlog!;
    const bytes = new AvroCodec<object>(old).encodeSingleObject({ ...event, winlog });
    fault.on = true;
    try {
      const reader = createEventCodec({ writerSchemas: [old] });
      const decoded = reader.decode(bytes);
      expect(decoded.winlog?.opcode_raw).toBeNull();
      expect(decoded.winlog?.event_data).toEqual(event.winlog?.event_data);
    } finally {
      fault.on = false;
    }
  });
});
