/**
 * Reads the event model's fields from an ECS JSON document (Elastic Endpoint, Winlogbeat after its
 * ingest pipeline). The field catalog is compiled once into a tree of the model's groups in schema
 * order, and that tree into straight-line code for nested documents (`compileNestedReader`): a group
 * the document lacks costs one property read, a present group reads each of its fields once, by a
 * constant key, from the object already in hand. Accepts nested objects and dotted keys (`{"event":{"code":"4624"}}`,
 * `{"event.code":"4624"}`, `{"process":{"parent.pid":4}}`): where both are written, the key written
 * higher up wins (`event.code` at the top over `event: {code}`), and a dotted key is only looked for in
 * objects that have one, which most documents never do. Each value's type is checked and written into
 * the event, creating groups as needed; values the document does not carry are left as they are, so a
 * mapper's own values stay where the shipper was silent.
 */
import type { FieldInfo, FieldType, SequorEvent } from '@sequor/model';
import { eventFieldCatalog } from '@sequor/model';
import { isExactLong } from '../avro-long.js';
import type { GroupPath } from './blank.js';
import { blank } from './blank.js';
import { RecordProblem } from './problem.js';
import type { Json } from './values.js';
import { describe, isObject, readTimestamp } from './values.js';

/** One leaf field of the model, as the walk reads it. */
interface LeafReader {
  readonly kind: 'leaf';
  readonly name: string;
  readonly type: FieldType;
  /** The last segment: the key in the object of its group (`code` for `event.code`). */
  readonly key: string;
  /** For each depth d above the leaf's group, the dotted rest of its name from there (`event.code`, ...). */
  readonly dottedRest: readonly string[];
  /** The group that holds it, to create on the first write. */
  readonly group: GroupReader;
}

/** One group of the model (`process`, `process.parent`), its leaves and groups in schema order. */
interface GroupReader {
  readonly kind: 'group';
  readonly key: string;
  /** The blank() path of the group: `process.parent`. */
  readonly path: GroupPath;
  /** Storage keys from the event down to this group: `['process', 'parent']`. */
  readonly storagePath: readonly string[];
  readonly members: (LeafReader | GroupReader)[];
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

/** The copied fields as a tree, in catalog (schema) order: the order fields are checked and written. */
const root: GroupReader = (() => {
  const top: GroupReader = { kind: 'group', key: '', path: '' as GroupPath, storagePath: [], members: [] };
  const groups = new Map<string, GroupReader>([['', top]]);
  const groupOf = (segments: readonly string[]): GroupReader => {
    const path = segments.join('.');
    let g = groups.get(path);
    if (g === undefined) {
      const parent = groupOf(segments.slice(0, -1));
      g = {
        kind: 'group',
        key: segments[segments.length - 1] as string,
        path: path as GroupPath,
        storagePath: segments,
        members: [],
      };
      parent.members.push(g);
      groups.set(path, g);
    }
    return g;
  };
  for (const info of eventFieldCatalog.fields() as Iterable<FieldInfo>) {
    if (notCopied.has(info.name)) continue;
    // Copied fields are stored under their ECS names (only `@timestamp` differs, and it is not copied).
    const segments = info.name.split('.');
    if (segments.join('.') !== info.storagePath.join('.'))
      throw new Error(`ecs-fields: ${info.name} is stored as ${info.storagePath.join('.')}`);
    const group = groupOf(segments.slice(0, -1));
    group.members.push({
      kind: 'leaf',
      name: info.name,
      type: info.type,
      key: segments[segments.length - 1] as string,
      dottedRest: segments.slice(0, -1).map((_, d) => segments.slice(d).join('.')),
      group,
    });
  }
  return top;
})();

/** An object above the group being read that has dotted keys, and its depth (0 = the document). */
interface DottedAncestor {
  readonly node: Json;
  readonly depth: number;
}

function hasDottedKey(node: Json): boolean {
  for (const k in node) if (k.includes('.')) return true;
  return false;
}

const noAncestors: readonly DottedAncestor[] = Object.freeze([]);

/** Copies every model field the document carries into `ev` (creating groups); returns how many it copied. */
export function overlayEcsFields(ev: SequorEvent, doc: Json): number {
  return readNested(ev, doc);
}

type FieldsReader = (ev: SequorEvent, doc: Json) => number;

/**
 * `readGroup(ev, root, doc, 0, [])` as straight-line code generated once from the tree: one block per
 * field with its key as a constant (`doc["event"]["kind"]`), so each read is a property load the engine
 * caches per document shape, instead of a lookup by a key that changes every call. It walks nested
 * objects only; wherever an object on the way has a dotted key, the groups below it go to `readGroup`,
 * which handles dotted keys (so both read every document alike, and the differential test checks it).
 * Keys are written with JSON.stringify: no text from a document ever becomes code.
 */
function compileNestedReader(top: GroupReader): FieldsReader {
  const leaves: LeafReader[] = [];
  const groups: GroupReader[] = [];
  const lines: string[] = ['let copied = 0;'];
  let n = 0;
  const emit = (group: GroupReader, node: string, depth: number): void => {
    // Set at the first group member: the dotted-key ancestors the groups below this one are read with.
    const below = `below${n++}`;
    lines.push(`let ${below};`);
    for (const m of group.members) {
      const key = JSON.stringify(m.key);
      if (m.kind === 'leaf') {
        const leaf = leaves.push(m) - 1;
        const v = `v${n++}`;
        const value =
          m.type === 'string' || m.type === 'ip'
            ? `typeof ${v} === 'string' ? ${v} : coerce(${v}, L[${leaf}])`
            : `coerce(${v}, L[${leaf}])`;
        lines.push(
          `{ const ${v} = ${node}[${key}];`,
          `if (${v} !== undefined && ${v} !== null) { groupIn(ev, L[${leaf}].group)[${key}] = ${value}; copied++; } }`,
        );
        continue;
      }
      const g = groups.push(m) - 1;
      const child = `c${n++}`;
      lines.push(
        `{ const ${child} = ${node}[${key}];`,
        `if (${below} === undefined) ${below} = hasDottedKey(${node}) ? [{ node: ${node}, depth: ${depth} }] : NONE;`,
        `if (${below}.length !== 0) copied += readGroup(ev, G[${g}], isObject(${child}) ? ${child} : undefined, ${depth + 1}, ${below});`,
        `else if (isObject(${child})) {`,
      );
      emit(m, child, depth + 1);
      lines.push('} }');
    }
  };
  emit(top, 'doc', 0);
  lines.push('return copied;');
  // Generated once at load, from the schema only.
  const factory = new Function(
    'L',
    'G',
    'NONE',
    'isObject',
    'hasDottedKey',
    'readGroup',
    'coerce',
    'groupIn',
    `return function readEcsFields(ev, doc) {\n${lines.join('\n')}\n};`,
  ) as (...helpers: unknown[]) => FieldsReader;
  return factory(leaves, groups, noAncestors, isObject, hasDottedKey, readGroup, coerce, groupIn);
}

const readNested: FieldsReader = compileNestedReader(root);

/**
 * Reads the members of `group`. `node` is the document's object at the group's place (undefined when
 * the nested path breaks there); `ancestors` are the objects above it with dotted keys, shallowest
 * first: a leaf's value is the first of those carrying its dotted rest, else `node[key]`.
 */
function readGroup(
  ev: SequorEvent,
  group: GroupReader,
  node: Json | undefined,
  depth: number,
  ancestors: readonly DottedAncestor[],
): number {
  let copied = 0;
  // The ancestors of this group's own groups: ours, plus `node` if it has dotted keys (found once, when needed).
  let below: readonly DottedAncestor[] | undefined;
  const members = group.members;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as LeafReader | GroupReader;
    if (m.kind === 'group') {
      const child: unknown = node?.[m.key];
      const childNode = isObject(child) ? child : undefined;
      below ??= node !== undefined && hasDottedKey(node) ? [...ancestors, { node, depth }] : ancestors;
      // Nothing below can be read: no object there, and no dotted key above that could name it.
      if (childNode === undefined && below.length === 0) continue;
      copied += readGroup(ev, m, childNode, depth + 1, below);
      continue;
    }
    let raw: unknown;
    let found = false;
    for (let a = 0; a < ancestors.length; a++) {
      const anc = ancestors[a] as DottedAncestor;
      const v = anc.node[m.dottedRest[anc.depth] as string];
      if (v !== undefined) {
        raw = v;
        found = true;
        break;
      }
    }
    if (!found) raw = node?.[m.key];
    if (raw === undefined || raw === null) continue;
    groupIn(ev, m.group)[m.key] = coerce(raw, m);
    copied++;
  }
  return copied;
}

/** The event's group for `group`, created (and its parents) if null. */
function groupIn(ev: SequorEvent, group: GroupReader): Record<string, unknown> {
  let node = ev as unknown as Record<string, unknown>;
  const path = group.storagePath;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    let next = node[key] as Record<string, unknown> | null | undefined;
    if (next === null || next === undefined) {
      next = blank(path.slice(0, i + 1).join('.') as GroupPath) as unknown as Record<string, unknown>;
      node[key] = next;
    }
    node = next;
  }
  return node;
}

const integerText = /^-?\d{1,15}$/;

function coerce(v: unknown, f: LeafReader): unknown {
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

/** `event.id` as the document carries it, or null. */
export function ecsEventId(doc: Json): string | null {
  const event = doc['event'];
  const v = isObject(event) ? event['id'] : doc['event.id'];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new RecordProblem('wrong-type', `event.id: expected a string, got ${describe(v)}`);
}
