/**
 * The event model's field catalog, built once by walking `schemas/event.avsc` (through the generated
 * `eventSchema` constant). Every leaf field gets its ECS name, storage path and type; `@timestamp` is the
 * ECS name of the stored `timestamp`.
 */
import { eventSchema } from './event.generated.js';
import type { FieldCatalog, FieldInfo, FieldType, MapFieldInfo } from './fields.js';

/** Storage names that differ from their ECS names (Avro names cannot start with `@`). */
const ecsNameOf: Readonly<Record<string, string>> = { timestamp: '@timestamp' };
/** Epoch-millisecond fields the EQL layer treats as time. */
const timestampFields = new Set(['@timestamp', 'event.ingested']);

type SchemaNode = unknown;

function fieldType(ecsName: string, leaf: string, avro: SchemaNode): FieldType {
  const isIp = leaf === 'ip';
  if (typeof avro === 'string') {
    switch (avro) {
      case 'string':
        return isIp ? 'ip' : 'string';
      case 'int':
        return 'int';
      case 'long':
        return timestampFields.has(ecsName) ? 'timestamp' : 'long';
      case 'float':
      case 'double':
        return 'double';
      case 'boolean':
        return 'boolean';
      default:
        throw new Error(`event catalog: unsupported Avro type ${avro} for ${ecsName}`);
    }
  }
  if (typeof avro === 'object' && avro !== null && (avro as { type?: unknown }).type === 'array') {
    const items = (avro as { items?: unknown }).items;
    if (items !== 'string') throw new Error(`event catalog: only string arrays are supported (${ecsName})`);
    return isIp ? 'ip[]' : 'string[]';
  }
  throw new Error(`event catalog: unsupported Avro type ${JSON.stringify(avro)} for ${ecsName}`);
}

interface RecordNode {
  readonly type: 'record';
  readonly fields: readonly { readonly name: string; readonly type: SchemaNode }[];
}

function isRecordNode(s: SchemaNode): s is RecordNode {
  return (
    typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'record'
  );
}

function isMapNode(s: SchemaNode): boolean {
  return typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'map';
}

/** Walks a record schema: its leaf fields, and its map fields (string maps only). */
function walkSchema(schema: SchemaNode): { leaves: FieldInfo[]; maps: MapFieldInfo[] } {
  const leaves: FieldInfo[] = [];
  const maps: MapFieldInfo[] = [];
  const walk = (node: RecordNode, storage: readonly string[], ecs: readonly string[]): void => {
    for (const f of node.fields) {
      const storagePath = [...storage, f.name];
      const ecsPath = [...ecs, storage.length === 0 ? (ecsNameOf[f.name] ?? f.name) : f.name];
      const branches = Array.isArray(f.type) ? f.type.filter((b) => b !== 'null') : [f.type];
      if (branches.length !== 1)
        throw new Error(`event catalog: unions of several types are not supported (${ecsPath.join('.')})`);
      const t = branches[0];
      const name = ecsPath.join('.');
      if (isRecordNode(t)) {
        walk(t, storagePath, ecsPath);
      } else if (isMapNode(t)) {
        if ((t as { values?: unknown }).values !== 'string')
          throw new Error(`event catalog: only string maps are supported (${name})`);
        maps.push(Object.freeze({ name, storagePath: Object.freeze(storagePath) }));
      } else {
        leaves.push(
          Object.freeze({ name, storagePath: Object.freeze(storagePath), type: fieldType(name, f.name, t) }),
        );
      }
    }
  };
  if (!isRecordNode(schema)) throw new Error('event catalog: the schema must be a record');
  walk(schema, [], []);
  return { leaves, maps };
}

/**
 * Walks a record schema and lists its leaf fields (map fields are not leaves: see `buildMapFieldInfos`).
 * Exported for catalogs over other record schemas (alerts).
 */
export function buildFieldInfos(schema: SchemaNode): FieldInfo[] {
  return walkSchema(schema).leaves;
}

/** The string-map fields of a record schema (`winlog.event_data`). */
export function buildMapFieldInfos(schema: SchemaNode): MapFieldInfo[] {
  return walkSchema(schema).maps;
}

/**
 * A FieldCatalog over a list of fields; lookups are one Map get on the joined path. With `maps`, a name
 * under a map field (`winlog.event_data.Image`, `zeek.fields.id.orig_h`) is a string field: the map's
 * entry for the rest of the name. Names an object inherits (`constructor`, `__proto__`) are no entry: a
 * decoded map is a plain object, and its property read would find the prototype's.
 */
export function createFieldCatalog(
  infos: readonly FieldInfo[],
  maps: readonly MapFieldInfo[] = [],
): FieldCatalog {
  const byName = new Map<string, FieldInfo>();
  for (const info of infos) byName.set(info.name, info);
  const frozen = Object.freeze([...infos]);
  const mapPaths = maps.map((m) => ({ info: m, path: m.name.split('.') }));
  const mapMember = (path: readonly string[]): FieldInfo | undefined => {
    for (const { info, path: prefix } of mapPaths) {
      if (path.length <= prefix.length || prefix.some((p, i) => path[i] !== p)) continue;
      const key = path.slice(prefix.length).join('.');
      if (key in Object.prototype || key === '__proto__') return undefined;
      return Object.freeze({
        name: path.join('.'),
        storagePath: Object.freeze([...info.storagePath, key]),
        type: 'string',
      });
    }
    return undefined;
  };
  return {
    lookup: (path) => byName.get(path.join('.')) ?? (mapPaths.length === 0 ? undefined : mapMember(path)),
    fields: () => frozen,
  };
}

/**
 * The key under which a format counts what it left out of a map (`@sequor/formats` event-data bounds):
 * not a field of the event (no Windows or Zeek field name starts with `#`).
 */
export const EVENT_DATA_TRUNCATED_KEY = '#truncated';

/** The string maps of `sequor.Event`: `winlog.event_data`, `zeek.fields`. */
export const eventMapFields: readonly MapFieldInfo[] = Object.freeze(buildMapFieldInfos(eventSchema));

/** Every leaf of `sequor.Event` by its ECS name, and every entry of its maps (`winlog.event_data.<name>`). */
export const eventFieldCatalog: FieldCatalog = createFieldCatalog(
  buildFieldInfos(eventSchema),
  eventMapFields,
);
