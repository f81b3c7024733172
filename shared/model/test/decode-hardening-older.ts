/**
 * Older event writers still on topics, as schema evolution leaves them (fields were only ever added, each
 * nullable with a null default), derived from today's schema so that they follow it.
 */
import type { Schema } from 'avsc';
import type { SequorEvent } from '../src/index.js';
import { eventSchema } from '../src/index.js';

type Json = Record<string, unknown>;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/**
 * An older event writer still on topics: before 3469dfb (no winlog.event_data, no zeek; with `maps` false)
 * or before f39f9b9 (the maps, not the System numbers appended after event_data).
 */
export function olderEventSchema(maps: boolean): Schema {
  const schema = clone(eventSchema) as unknown as { fields: Json[] };
  if (!maps) schema.fields = schema.fields.filter((f) => f['name'] !== 'zeek');
  const winlog = schema.fields.find((f) => f['name'] === 'winlog') as Json;
  const record = (winlog['type'] as unknown[])[1] as { fields: Json[] };
  const eventData = record.fields.findIndex((f) => f['name'] === 'event_data');
  record.fields = record.fields.slice(0, maps ? eventData + 1 : eventData);
  return schema as unknown as Schema;
}

/** `event` as an older writer (`olderEventSchema(maps)`) wrote it. */
export function olderEvent(event: SequorEvent, maps: boolean): Json {
  const e = clone(event) as unknown as Json;
  if (!maps) delete e['zeek'];
  const winlog = e['winlog'] as Json | null;
  if (winlog != null) {
    const keep = Object.keys(winlog);
    for (const key of keep.slice(keep.indexOf('event_data') + (maps ? 1 : 0))) delete winlog[key];
  }
  return e;
}
