/**
 * The event model's field catalog, built once by walking `schemas/event.avsc` (through the generated
 * `eventSchema` constant). Every leaf field gets its ECS name, storage path and type; `@timestamp` is the
 * ECS name of the stored `timestamp`.
 */
import { eventSchema } from './event.generated.js';
import type { FieldCatalog, FieldInfo, FieldType } from './fields.js';

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

/** Walks a record schema and lists its leaf fields. Exported for catalogs over other record schemas (alerts). */
export function buildFieldInfos(schema: SchemaNode): FieldInfo[] {
  const out: FieldInfo[] = [];
  const walk = (node: RecordNode, storage: readonly string[], ecs: readonly string[]): void => {
    for (const f of node.fields) {
      const storagePath = [...storage, f.name];
      const ecsPath = [...ecs, storage.length === 0 ? (ecsNameOf[f.name] ?? f.name) : f.name];
      const branches = Array.isArray(f.type) ? f.type.filter((b) => b !== 'null') : [f.type];
      if (branches.length !== 1)
        throw new Error(`event catalog: unions of several types are not supported (${ecsPath.join('.')})`);
      const t = branches[0];
      if (isRecordNode(t)) {
        walk(t, storagePath, ecsPath);
      } else {
        const name = ecsPath.join('.');
        out.push(
          Object.freeze({ name, storagePath: Object.freeze(storagePath), type: fieldType(name, f.name, t) }),
        );
      }
    }
  };
  if (!isRecordNode(schema)) throw new Error('event catalog: the schema must be a record');
  walk(schema, [], []);
  return out;
}

/** A FieldCatalog over a list of fields; lookups are one Map get on the joined path. */
export function createFieldCatalog(infos: readonly FieldInfo[]): FieldCatalog {
  const byName = new Map<string, FieldInfo>();
  for (const info of infos) byName.set(info.name, info);
  const frozen = Object.freeze([...infos]);
  return {
    lookup: (path) => byName.get(path.join('.')),
    fields: () => frozen,
  };
}

/** Every leaf of `sequor.Event` by its ECS name. */
export const eventFieldCatalog: FieldCatalog = createFieldCatalog(buildFieldInfos(eventSchema));
