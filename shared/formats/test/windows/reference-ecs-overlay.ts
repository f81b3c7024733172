/**
 * THE REFERENCE, not used by the decoders: the generic ECS overlay that `src/windows/ecs-fields.ts`
 * (a tree compiled once from the catalog) replaced, kept only so the differential test can check that
 * both read every document alike. It looks every catalog field up from the document's root.
 *
 * Reads the event model's fields from an ECS JSON document (Elastic Endpoint, Winlogbeat after its
 * ingest pipeline): every leaf of the field catalog, compiled once into a list of readers. Accepts
 * both nested objects and dotted keys (`{"event":{"code":"4624"}}` and `{"event.code":"4624"}`), checks
 * each value's type and writes it into the event, creating groups as needed. Values the document
 * does not carry are left as they are, so a mapper's own values stay where the shipper was silent.
 */
import type { FieldInfo, FieldType, SequorEvent } from '@sequor/model';
import { eventFieldCatalog } from '@sequor/model';
import { isExactLong } from '../../src/avro-long.js';
import { blank } from '../../src/windows/blank.js';
import { RecordProblem } from '../../src/windows/problem.js';
import type { Json } from '../../src/windows/values.js';
import { describe, isObject, readTimestamp } from '../../src/windows/values.js';

interface CompiledField {
  readonly name: string;
  readonly type: FieldType;
  /** ECS path segments, and for each depth the dotted key of the rest (`['event','code']` -> `'event.code'`, `'code'`). */
  readonly segments: readonly string[];
  readonly dottedRest: readonly string[];
  readonly storagePath: readonly string[];
  /** For each intermediate storage group, its blank() path (`process.parent`). */
  readonly groupPaths: readonly string[];
}

/** Fields a format sets itself from other sources, never copied from the document. */
const notCopied = new Set([
  '@timestamp',
  'event.id',
  'origin.format',
  'origin.topic',
  'origin.partition',
  'origin.offset',
]);

function compile(info: FieldInfo): CompiledField {
  const segments = info.name.split('.');
  return {
    name: info.name,
    type: info.type,
    segments,
    dottedRest: segments.map((_, i) => segments.slice(i).join('.')),
    storagePath: info.storagePath,
    groupPaths: info.storagePath.slice(0, -1).map((_, i) => info.storagePath.slice(0, i + 1).join('.')),
  };
}

const compiled: readonly CompiledField[] = [...eventFieldCatalog.fields()]
  .filter((f) => !notCopied.has(f.name))
  .map(compile);

/** The fields by top-level group, so a document without a group skips all of its fields at once. */
const byGroup: readonly (readonly [string, readonly CompiledField[]])[] = (() => {
  const m = new Map<string, CompiledField[]>();
  for (const f of compiled) {
    const top = f.segments[0] as string;
    const list = m.get(top) ?? [];
    list.push(f);
    m.set(top, list);
  }
  return [...m];
})();

function hasDottedTopLevelKey(doc: Json): boolean {
  for (const k in doc) if (k.includes('.')) return true;
  return false;
}

function lookup(doc: Json, f: CompiledField): unknown {
  let node: Json = doc;
  const last = f.segments.length - 1;
  for (let i = 0; i < last; i++) {
    // A dotted key for the rest of the path at this level (`"event.code"`, or `"code"` under `event`) ...
    const dotted = node[f.dottedRest[i] as string];
    if (dotted !== undefined) return dotted;
    // ... else go down one level.
    const child = node[f.segments[i] as string];
    if (!isObject(child)) return undefined;
    node = child;
  }
  return node[f.segments[last] as string];
}

const integerText = /^-?\d{1,15}$/;

function coerce(v: unknown, f: CompiledField): unknown {
  switch (f.type) {
    case 'string':
    case 'ip':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v) && f.type === 'string') return String(v);
      break;
    case 'int':
    case 'long': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && integerText.test(v) ? Number(v) : NaN;
      // Avro int is 32-bit, and the codec writes a long exactly within ±2^52: a larger value would not survive it.
      if (isExactLong(n) && (f.type === 'long' || (n >= -2147483648 && n <= 2147483647))) return n + 0; // -0 is 0
      break;
    }
    case 'double':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      break;
    case 'timestamp':
      return readTimestamp(v, f.name, true);
    case 'string[]':
    case 'ip[]':
      // ECS keyword fields may hold one value or an array of them.
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [...(v as string[])];
      break;
    default: {
      const never: never = f.type;
      throw new Error(`unhandled field type ${String(never)}`);
    }
  }
  throw new RecordProblem('wrong-type', `${f.name}: expected ${f.type}, got ${describe(v)}`);
}

/** Copies every model field the document carries into `ev` (creating groups); returns how many it copied. */
export function referenceOverlayEcsFields(ev: SequorEvent, doc: Json): number {
  let copied = 0;
  // Most documents are nested (no dotted keys): then a group absent at the top level has nothing to copy.
  const dotted = hasDottedTopLevelKey(doc);
  for (const [group, fields] of byGroup) {
    if (!dotted && doc[group] === undefined) continue;
    copied += overlayGroup(ev, doc, fields);
  }
  return copied;
}

function overlayGroup(ev: SequorEvent, doc: Json, fields: readonly CompiledField[]): number {
  let copied = 0;
  for (const f of fields) {
    const raw = lookup(doc, f);
    if (raw === undefined || raw === null) continue;
    const value = coerce(raw, f);
    let node = ev as unknown as Record<string, unknown>;
    for (let i = 0; i < f.groupPaths.length; i++) {
      const key = f.storagePath[i] as string;
      let next = node[key] as Record<string, unknown> | null | undefined;
      if (next === null || next === undefined) {
        next = blank(f.groupPaths[i] as Parameters<typeof blank>[0]) as unknown as Record<string, unknown>;
        node[key] = next;
      }
      node = next;
    }
    node[f.storagePath[f.storagePath.length - 1] as string] = value;
    copied++;
  }
  return copied;
}
