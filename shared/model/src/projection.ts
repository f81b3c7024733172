/**
 * Projected reader schemas: `sequor.Event` cut down to the fields a consumer reads. Decoding with one
 * resolves every record through avsc's schema resolution (`createResolver`), which reads past each writer
 * field the reader lacks without building its value: no string is decoded, no object allocated for it.
 * The detector decodes with the fields its loaded rules read (conditions, keys, evidence, message) plus
 * the ones every decoded event needs (`EVENT_CORE_FIELDS`); late events and dead letters forward the
 * record's own bytes, so nothing is lost by not decoding the rest.
 *
 * A map field (`winlog.event_data`, `zeek.fields`) is decoded whole when it, or any entry of it, is asked
 * for: a rule reading `winlog.event_data.Image` (or a Sigma rule, which may read any name) gets the map.
 *
 * A projected event is typed `SequorEvent` but lacks the fields left out: they are `undefined`, which
 * every field accessor (and EQL) reads as null, exactly as a null field.
 *
 * ```ts
 * const codec = createProjectedEventCodec(['process.name', 'host.id']);
 * const event = codec.decode(record.value); // event.process.name, event.host.id; event.registry undefined
 * ```
 */
import type { Schema } from 'avsc';
import type { AvroCodecOptions } from './codec.js';
import { AvroCodec } from './codec.js';
import { eventFieldCatalog, eventMapFields } from './catalog.js';
import { eventSchema } from './event.generated.js';
import type { SequorEvent } from './event.generated.js';
import type { FieldCatalog } from './fields.js';

/**
 * What every decoded event carries whatever the rules read: its time and tiebreakers (the engine's
 * event time: `@timestamp`, then `event.sequence`, then `origin.offset`), its id (alert ids, evidence)
 * and its origin (evidence).
 */
export const EVENT_CORE_FIELDS: readonly string[] = Object.freeze([
  '@timestamp',
  'event.id',
  'event.sequence',
  'origin.format',
  'origin.topic',
  'origin.partition',
  'origin.offset',
]);

type Node = unknown;
interface FieldNode {
  readonly name: string;
  readonly type: Node;
  readonly [key: string]: unknown;
}
interface RecordNode {
  readonly type: 'record';
  readonly name: string;
  readonly fields: readonly FieldNode[];
  readonly [key: string]: unknown;
}

function isRecord(node: Node): node is RecordNode {
  return (
    typeof node === 'object' &&
    node !== null &&
    !Array.isArray(node) &&
    (node as RecordNode).type === 'record'
  );
}

/** A tree of the storage paths wanted: a leaf (empty map) keeps the whole field. */
type Wanted = Map<string, Wanted>;

function addPath(tree: Wanted, path: readonly string[]): void {
  let at = tree;
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string;
    let next = at.get(name);
    if (next === undefined) at.set(name, (next = new Map()));
    // An ancestor already kept whole stays whole.
    else if (next.size === 0 && i < path.length - 1) return;
    if (i === path.length - 1) next.clear();
    at = next;
  }
}

/** The record `node` with only the `wanted` fields; a nested record is cut in turn unless kept whole. */
function projectRecord(node: RecordNode, wanted: Wanted): RecordNode {
  const fields: FieldNode[] = [];
  for (const field of node.fields) {
    const sub = wanted.get(field.name);
    if (sub === undefined) continue;
    fields.push(sub.size === 0 ? field : { ...field, type: projectType(field.type, sub, field.name) });
  }
  // The same full name as the writer's record: schema resolution matches records by name.
  return { ...node, fields };
}

function projectType(type: Node, wanted: Wanted, where: string): Node {
  if (isRecord(type)) return projectRecord(type, wanted);
  // A nullable record (`["null", {record}]`): cut the record branch, keep the rest as written.
  if (Array.isArray(type))
    return type.map((branch: Node) => (isRecord(branch) ? projectRecord(branch, wanted) : branch));
  throw new Error(`projection: ${where} is not a record, but fields under it were asked for`);
}

/**
 * The `sequor.Event` reader schema with `fields` (ECS names, e.g. `process.parent.name`, `@timestamp`)
 * and `EVENT_CORE_FIELDS`. Names the catalog does not know are skipped: the model lacks them, so they
 * read as null in every event anyway (an optional `?field` of a rule).
 */
export function projectedEventSchema(
  fields: Iterable<string>,
  catalog: FieldCatalog = eventFieldCatalog,
): Schema {
  const wanted: Wanted = new Map();
  for (const name of [...EVENT_CORE_FIELDS, ...fields]) {
    // A map (`winlog.event_data`) or one of its entries (`winlog.event_data.Image`): the whole map.
    const map = eventMapFields.find((m) => name === m.name || name.startsWith(`${m.name}.`));
    if (map !== undefined) {
      addPath(wanted, map.storagePath);
      continue;
    }
    const info = catalog.lookup(name.split('.'));
    if (info !== undefined) addPath(wanted, info.storagePath);
  }
  return projectRecord(eventSchema as unknown as RecordNode, wanted) as unknown as Schema;
}

/**
 * A codec that decodes events written with the full `sequor.Event` schema (single-object frames by its
 * fingerprint; Confluent frames by the registry's writer schema, as any codec) into the projection on
 * `fields`. For decoding only: it cannot encode a whole event.
 */
export function createProjectedEventCodec(
  fields: Iterable<string>,
  options: AvroCodecOptions = {},
  catalog: FieldCatalog = eventFieldCatalog,
): AvroCodec<SequorEvent> {
  return new AvroCodec<SequorEvent>(projectedEventSchema(fields, catalog), {
    ...options,
    writerSchemas: [eventSchema as unknown as Schema, ...(options.writerSchemas ?? [])],
  });
}
