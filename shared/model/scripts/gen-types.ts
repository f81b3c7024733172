/**
 * Generates `src/event.generated.ts` from `schemas/event.avsc`, `src/alert.generated.ts` from
 * `schemas/alert.avsc` and `src/alert-update.generated.ts` from `schemas/alert-update.avsc`: the root interface (`SequorEvent`, `Alert`) and one interface per nested record,
 * plus the schema itself as a constant, so the package needs no file I/O at run time and the TypeScript
 * view cannot drift from the Avro contract (a unit test regenerates in memory and compares).
 * Run: `npm run gen -w @sequor/model` (after editing a schema).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type AvroSchema = string | AvroSchema[] | AvroRecord | AvroArray | AvroMap | { type: string };
interface AvroField {
  name: string;
  type: AvroSchema;
  doc?: string;
  default?: unknown;
}
interface AvroRecord {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: AvroField[];
}
interface AvroArray {
  type: 'array';
  items: AvroSchema;
}
interface AvroMap {
  type: 'map';
  values: AvroSchema;
}

const primitives: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  string: 'string',
  bytes: 'Uint8Array',
};

/** One schema and what is generated from it. */
export interface GenTarget {
  /** Repository-relative paths. */
  readonly schemaPath: string;
  readonly generatedPath: string;
  /** The root record's interface name. */
  readonly rootName: string;
  /** Nested records' prefix, unless their name has it: `Host` -> `EventHost`, keeping clear of DOM/Node globals such as `File`. */
  readonly nestedPrefix: string;
  /** The exported constant holding the schema. */
  readonly schemaConst: string;
  /** `readonly` fields and arrays: a value that is built once and only read (an alert). */
  readonly readonly: boolean;
}

export const eventTarget: GenTarget = {
  schemaPath: 'schemas/event.avsc',
  generatedPath: 'shared/model/src/event.generated.ts',
  rootName: 'SequorEvent',
  nestedPrefix: 'Event',
  schemaConst: 'eventSchema',
  readonly: false,
};

export const alertTarget: GenTarget = {
  schemaPath: 'schemas/alert.avsc',
  generatedPath: 'shared/model/src/alert.generated.ts',
  rootName: 'Alert',
  nestedPrefix: 'Alert',
  schemaConst: 'alertSchema',
  readonly: true,
};

export const alertUpdateTarget: GenTarget = {
  schemaPath: 'schemas/alert-update.avsc',
  generatedPath: 'shared/model/src/alert-update.generated.ts',
  rootName: 'AlertUpdate',
  nestedPrefix: 'AlertUpdate',
  schemaConst: 'alertUpdateSchema',
  readonly: true,
};

export const targets: readonly GenTarget[] = [eventTarget, alertTarget, alertUpdateTarget];

/** `sequor.Event` is `SequorEvent`; nested records get the target's prefix (`Host` -> `EventHost`). */
export function interfaceName(
  record: { name: string },
  isRoot: boolean,
  target: GenTarget = eventTarget,
): string {
  const short = record.name.split('.').pop() ?? record.name;
  if (isRoot) return target.rootName;
  return short.startsWith(target.nestedPrefix) ? short : `${target.nestedPrefix}${short}`;
}

function isRecord(s: AvroSchema): s is AvroRecord {
  return typeof s === 'object' && !Array.isArray(s) && s.type === 'record';
}
function isArray(s: AvroSchema): s is AvroArray {
  return typeof s === 'object' && !Array.isArray(s) && s.type === 'array';
}
function isMap(s: AvroSchema): s is AvroMap {
  return typeof s === 'object' && !Array.isArray(s) && s.type === 'map';
}

function docComment(doc: string | undefined, indent: string): string {
  return doc === undefined ? '' : `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n`;
}

/** Renders the generated module's full text for a parsed schema. Pure: same input, same output. */
export function renderTypes(schema: AvroRecord, target: GenTarget): string {
  const blocks: string[] = [];
  // Record names seen so far (full and short): a later field may name one instead of repeating it.
  const named = new Map<string, string>();
  // Avro: a nested record without a namespace takes its enclosing record's.
  let namespace = schema.namespace;
  const ro = target.readonly ? 'readonly ' : '';
  const tsType = (s: AvroSchema): string => {
    if (typeof s === 'string') {
      const p = primitives[s] ?? named.get(s);
      if (p === undefined) throw new Error(`gen-types: unknown type name: ${s}`);
      return p;
    }
    // `T | null`, null last, whatever the union's branch order (which Avro fixes for the default).
    if (Array.isArray(s))
      return [...s.filter((b) => b !== 'null').map(tsType), ...(s.includes('null') ? ['null'] : [])].join(
        ' | ',
      );
    if (isArray(s)) {
      const item = tsType(s.items);
      if (item.includes('|')) return target.readonly ? `ReadonlyArray<${item}>` : `Array<${item}>`;
      return `${ro}${item}[]`;
    }
    // A map decodes to a plain object keyed by its keys (avsc): a record of strings to values.
    if (isMap(s)) return `${target.readonly ? 'Readonly' : ''}Record<string, ${tsType(s.values)}>`;
    if (isRecord(s)) return renderRecord(s, false);
    const p = primitives[s.type];
    if (p === undefined) throw new Error(`gen-types: unsupported Avro type ${JSON.stringify(s)}`);
    return p;
  };
  const renderRecord = (r: AvroRecord, isRoot: boolean): string => {
    const name = interfaceName(r, isRoot, target);
    const enclosing = namespace;
    namespace = r.namespace ?? enclosing;
    named.set(r.name, name);
    if (namespace !== undefined) named.set(`${namespace}.${r.name}`, name);
    // Reserve the slot first so a record precedes the records nested in it (reading order).
    const slot = blocks.push('') - 1;
    const lines = r.fields.map((f) => `${docComment(f.doc, '  ')}  ${ro}${f.name}: ${tsType(f.type)};`);
    namespace = enclosing;
    blocks[slot] = `${docComment(r.doc, '')}export interface ${name} {\n${lines.join('\n')}\n}\n`;
    return name;
  };
  renderRecord(schema, true);
  const fullName = schema.namespace === undefined ? schema.name : `${schema.namespace}.${schema.name}`;
  return [
    `// Generated by shared/model/scripts/gen-types.ts from ${target.schemaPath}. Do not edit: run \`npm run gen -w @sequor/model\`.`,
    '',
    ...blocks,
    `/** The Avro schema the types above were generated from (the \`${fullName}\` writer/reader schema). */`,
    `export const ${target.schemaConst} = ${JSON.stringify(schema, null, 2)} as const;`,
    '',
  ].join('\n');
}

/** `renderTypes` for `schemas/event.avsc`. */
export function renderEventTypes(schema: AvroRecord): string {
  return renderTypes(schema, eventTarget);
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The module text `target` should have, from its schema file as it is now. */
export function generateFromDisk(target: GenTarget = eventTarget): string {
  return renderTypes(
    JSON.parse(readFileSync(path.join(repoRoot, target.schemaPath), 'utf8')) as AvroRecord,
    target,
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const target of targets) {
    writeFileSync(path.join(repoRoot, target.generatedPath), generateFromDisk(target));
    console.log(`wrote ${target.generatedPath}`);
  }
}
