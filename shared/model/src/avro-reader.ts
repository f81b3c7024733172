/**
 * A straight-line Avro binary reader generated once from a writer schema and the reader schema it is
 * read as (the same schema, or a projection of it: `projection.ts`): one function per record with its
 * fields read in the writer's order (those the reader lacks skipped) and built by one object literal in the
 * reader's order, instead of avsc's walk through its type and resolver objects (a closure and a union
 * resolver per nullable field). Every event the detector reads goes through it.
 *
 * It reads exactly what avsc reads, the same values and the same key order, and fails where avsc fails:
 * the byte-level routines below copy avsc's Tap (a read past the end reads zeros and leaves the position
 * past the end, which the codec reports as truncated; a bad union index throws; an unsafe long throws).
 * Unlike avsc, a loop over a block count stops once past the end (a hostile count cannot spin). Records
 * come out as plain objects (avsc's are instances of a generated class with no methods).
 *
 * A reader field the writer lacks reads as its default when that is `null` (pass the reader schema with its
 * attributes for that). Schemas with anything else (other defaults, aliases, enums, bytes, floats, promotions, wider
 * unions, arrays of items that take no bytes) get no reader: the codec decodes those with avsc, after
 * `compileAvroChecker`'s walk of the body (below) has bounded what avsc's loops will do.
 */
import { readStringMap } from './string-map.js';

/** The read position, as avsc's Tap (`readStringMap` takes the same object). */
export interface ReadTap {
  buf: Buffer;
  pos: number;
}

/** Reads one value from `tap.pos`, leaving `tap.pos` after it (past the buffer's end when truncated). */
export type CompiledAvroReader = (tap: ReadTap) => unknown;

class Unsupported extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface NodeBuffer {
  utf8Slice(start: number, end: number): string;
}
const nativeUtf8 = typeof (Buffer.prototype as unknown as Partial<NodeBuffer>).utf8Slice === 'function';

// avsc's Tap routines, over a ReadTap.
function readLong(t: ReadTap): number {
  const buf = t.buf;
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    b = buf[t.pos++] as number;
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (h) {
    let f = n;
    let fk = 268435456;
    do {
      b = buf[t.pos++] as number;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  return (n >> 1) ^ -(n & 1);
}
function skipLong(t: ReadTap): void {
  const buf = t.buf;
  while ((buf[t.pos++] as number) & 0x80);
}
function readSafeLong(t: ReadTap): number {
  const n = readLong(t);
  if (!(n >= -9007199254740990 && n <= 9007199254740990)) throw new Error('potential precision loss');
  return n;
}
function readString(t: ReadTap): string | undefined {
  const len = readLong(t);
  // Not `len < 0`: a varint of 150 bytes reads as NaN, which would leave the position NaN.
  if (!(len >= 0)) {
    t.pos = t.buf.length + 1;
    return '';
  }
  const pos = t.pos;
  t.pos += len;
  if (t.pos > t.buf.length) return undefined;
  return nativeUtf8
    ? (t.buf as unknown as NodeBuffer).utf8Slice(pos, t.pos)
    : t.buf.toString('utf8', pos, t.pos);
}
function skipString(t: ReadTap): void {
  const len = readLong(t);
  if (!(len >= 0)) t.pos = t.buf.length + 1;
  else t.pos += len;
}
function readNull(): null {
  return null;
}
function skipNothing(): void {}
function badUnion(index: number): never {
  throw new Error(`invalid union index: ${index}`);
}
/** avsc's array and map skip: blocks of items, or of bytes when the count is negative. */
function skipBlocks(t: ReadTap, skipItem: (t: ReadTap) => void): void {
  let n: number;
  while ((n = readLong(t))) {
    if (n < 0) {
      const len = readLong(t);
      // A negative byte size would move backwards (avsc could loop for ever): bad input, left invalid.
      t.pos = !(len >= 0) ? t.buf.length + 1 : t.pos + len;
    } else {
      while (n-- && t.pos <= t.buf.length) skipItem(t);
    }
    if (t.pos > t.buf.length) return;
  }
}
function skipMapEntry(skipValue: (t: ReadTap) => void): (t: ReadTap) => void {
  return (t) => {
    skipString(t);
    skipValue(t);
  };
}
/**
 * avsc's ArrayType._read, the array sized by the first block as avsc does, but to at most the bytes left
 * (each item takes one at least): avsc's `new Array(count)` for a hostile count of 2^25 allocates 256 MB.
 */
function readArray(t: ReadTap, readItem: (t: ReadTap) => unknown): unknown[] {
  let val: unknown[] | undefined;
  let i = 0;
  let n: number;
  while ((n = readLong(t))) {
    if (n < 0) {
      n = -n;
      skipLong(t);
    }
    if (val === undefined) {
      // avsc's `new Array(n)` throws for a count past an array's length (malformed): the same here.
      if (n > 0xffffffff) throw new RangeError('Invalid array length');
      val = new Array<unknown>(Math.max(0, Math.min(n, t.buf.length - t.pos)));
    }
    while (n-- && t.pos <= t.buf.length) val[i++] = readItem(t);
    if (t.pos > t.buf.length) return val;
  }
  return val || [];
}

const RUNTIME = {
  readLong,
  skipLong,
  readSafeLong,
  readString,
  skipString,
  readNull,
  skipNothing,
  badUnion,
  skipBlocks,
  skipMapEntry,
  readArray,
  readStringMap,
};

interface Ctx {
  readonly lines: string[];
  /** Named types of the writer and of the reader, by full name (a schema names a type once). */
  readonly writerNames: Map<string, unknown>;
  readonly readerNames: Map<string, unknown>;
  /** Generated functions by (writer, reader) pair, so a named type reused is generated once. */
  readonly done: Map<string, string>;
  next: number;
}

const PRIMITIVE_READ: Readonly<Record<string, string>> = {
  null: 'readNull',
  string: 'readString',
  long: 'readSafeLong',
  int: 'readLong',
};
const PRIMITIVE_SKIP: Readonly<Record<string, string>> = {
  null: 'skipNothing',
  string: 'skipString',
  long: 'skipLong',
  int: 'skipLong',
};

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The type a schema node stands for: a named type's definition for its name. */
function deref(node: unknown, names: Map<string, unknown>, namespace: string | undefined): unknown {
  if (typeof node === 'string' && !(node in PRIMITIVE_READ)) {
    const found =
      names.get(node) ?? (namespace === undefined ? undefined : names.get(`${namespace}.${node}`));
    if (found === undefined) throw new Unsupported(`unknown type ${node}`);
    return found;
  }
  if (
    isObj(node) &&
    typeof node['type'] === 'string' &&
    node['type'] in PRIMITIVE_READ &&
    Object.keys(node).length === 1
  )
    return node['type'];
  return node;
}

function fullName(node: Obj, namespace: string | undefined): string {
  const name = node['name'] as string;
  if (name.includes('.')) return name;
  const ns = (node['namespace'] as string | undefined) ?? namespace;
  return ns === undefined || ns === '' ? name : `${ns}.${name}`;
}

/** Registers every named type under `node` (records), so that later references resolve. */
function collectNames(node: unknown, names: Map<string, unknown>, namespace: string | undefined): void {
  if (Array.isArray(node)) {
    for (const branch of node) collectNames(branch, names, namespace);
    return;
  }
  if (!isObj(node)) return;
  if (node['type'] === 'record') {
    const name = fullName(node, namespace);
    names.set(name, node);
    const ns = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined;
    for (const field of node['fields'] as Obj[]) collectNames(field['type'], names, ns);
  } else if (node['type'] === 'array') collectNames(node['items'], names, namespace);
  else if (node['type'] === 'map') collectNames(node['values'], names, namespace);
  else if (node['type'] !== undefined && !((node['type'] as string) in PRIMITIVE_READ))
    throw new Unsupported(`type ${String(node['type'])}`);
}

function fresh(ctx: Ctx, prefix: string): string {
  return `${prefix}${ctx.next++}`;
}

/**
 * avsc's bucket of a union branch (`getTypeBucket`): with `wrapUnions: 'auto'` a union with two branches of
 * one bucket is wrapped (`{ string: 'x' }`), which this reader does not build. (A `map<string>` is the
 * codec's logical type, string-map.ts, which avsc leaves out of the count: the caller leaves it out too.)
 */
function unionBucket(branch: unknown): string {
  if (typeof branch === 'string') return branch === 'int' || branch === 'long' ? 'number' : branch;
  if (!isObj(branch)) throw new Unsupported('schema');
  const type = branch['type'];
  return type === 'map' || type === 'record' ? 'object' : String(type);
}

/** Whether a value of `node` can take no bytes (null, a record of such fields; a record in progress: no). */
function takesNoBytes(
  node: unknown,
  names: Map<string, unknown>,
  ns: string | undefined,
  seen: Set<string> = new Set(),
): boolean {
  const t = deref(node, names, ns);
  if (t === 'null') return true;
  if (!isObj(t) || t['type'] !== 'record') return false;
  const name = fullName(t, ns);
  if (seen.has(name)) return false;
  seen.add(name);
  const inner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined;
  return (t['fields'] as Obj[]).every((f) => takesNoBytes(f['type'], names, inner, seen));
}

/** The name of a generated function `(t) => value` reading writer type `w` as reader type `r`. */
function emitRead(ctx: Ctx, w0: unknown, r0: unknown, ns: string | undefined): string {
  const w = deref(w0, ctx.writerNames, ns);
  const r = deref(r0, ctx.readerNames, ns);
  if (typeof w === 'string' || typeof r === 'string') {
    if (w !== r) throw new Unsupported(`${String(w)} read as ${String(r)}`);
    return PRIMITIVE_READ[w as string] as string;
  }
  if (Array.isArray(w) || Array.isArray(r)) {
    if (!Array.isArray(w) || !Array.isArray(r) || w.length !== r.length || w.length < 2)
      throw new Unsupported('union');
    const name = fresh(ctx, 'u');
    if (
      w.length === 2 &&
      deref(w[0], ctx.writerNames, ns) === 'null' &&
      deref(r[0], ctx.readerNames, ns) === 'null'
    ) {
      const branch = emitRead(ctx, w[1], r[1], ns);
      ctx.lines.push(
        `function ${name}(t) { const i = readLong(t); if (i === 0) return null; if (i === 1) return ${branch}(t); return badUnion(i); }`,
      );
      return name;
    }
    // Any other union (the alert's null | string | array<string>): branch for branch the same kinds, and
    // one avsc reads unwrapped (no two branches of one bucket), so a value is its branch's value.
    const counted = r
      .map((b: unknown) => deref(b, ctx.readerNames, ns))
      .filter((b) => !(isObj(b) && b['type'] === 'map' && b['values'] === 'string'))
      .map(unionBucket);
    if (new Set(counted).size !== counted.length) throw new Unsupported('a union avsc wraps');
    const branches = w.map((b: unknown, i: number) => emitRead(ctx, b, r[i], ns));
    const cases = branches.map((b, i) => `if (i === ${i}) return ${b}(t);`).join(' ');
    ctx.lines.push(`function ${name}(t) { const i = readLong(t); ${cases} return badUnion(i); }`);
    return name;
  }
  if (!isObj(w) || !isObj(r) || w['type'] !== r['type']) throw new Unsupported('different types');
  if (w['type'] === 'map') {
    if (
      deref(w['values'], ctx.writerNames, ns) !== 'string' ||
      deref(r['values'], ctx.readerNames, ns) !== 'string'
    )
      throw new Unsupported('map of non-strings');
    return 'readStringMap';
  }
  if (w['type'] === 'array') {
    // Items of no bytes would let a count loop without moving: avsc's walk, with its check, reads those.
    if (takesNoBytes(w['items'], ctx.writerNames, ns)) throw new Unsupported('array of empty items');
    const item = emitRead(ctx, w['items'], r['items'], ns);
    const name = fresh(ctx, 'a');
    ctx.lines.push(`function ${name}(t) { return readArray(t, ${item}); }`);
    return name;
  }
  if (w['type'] === 'record') return emitRecord(ctx, w, r, ns);
  throw new Unsupported(`type ${String(w['type'])}`);
}

function emitRecord(ctx: Ctx, w: Obj, r: Obj, ns: string | undefined): string {
  const wName = fullName(w, ns);
  if (fullName(r, ns) !== wName) throw new Unsupported('record names differ');
  const key = `${wName}:${JSON.stringify(r['fields'])}`;
  const done = ctx.done.get(key);
  if (done !== undefined) return done;
  const name = fresh(ctx, 'r');
  ctx.done.set(key, name);
  const inner = wName.includes('.') ? wName.slice(0, wName.lastIndexOf('.')) : undefined;
  const wFields = w['fields'] as Obj[];
  const rFields = r['fields'] as Obj[];
  const rByName = new Map(rFields.map((f) => [f['name'] as string, f]));
  for (const f of [...wFields, ...rFields]) {
    const fieldName = f['name'] as string;
    if (!NAME.test(fieldName) || fieldName === '__proto__' || f['aliases'] !== undefined)
      throw new Unsupported('field name');
  }
  // A reader field the writer lacks reads as its default: only `null` (a field added as `T | null`, as
  // every field the event schema gained), which needs the reader schema's attributes (`schema({ exportAttrs:
  // true })`); any other default is avsc's business.
  const defaulted = new Set<string>();
  for (const f of rFields)
    if (!wFields.some((g) => g['name'] === f['name'])) {
      const type = deref(f['type'], ctx.readerNames, inner);
      if (f['default'] !== null || !Array.isArray(type) || deref(type[0], ctx.readerNames, inner) !== 'null')
        throw new Unsupported('reader field the writer lacks, without a null default');
      defaulted.add(f['name'] as string);
    }
  const body: string[] = [];
  wFields.forEach((f, i) => {
    const readerField = rByName.get(f['name'] as string);
    if (readerField === undefined) body.push(`${emitSkip(ctx, f['type'], inner)}(t);`);
    else body.push(`const f${i} = ${emitRead(ctx, f['type'], readerField['type'], inner)}(t);`);
  });
  const literal = rFields
    .map((f) =>
      defaulted.has(f['name'] as string)
        ? `${f['name'] as string}: null`
        : `${f['name'] as string}: f${wFields.findIndex((g) => g['name'] === f['name'])}`,
    )
    .join(', ');
  ctx.lines.push(`function ${name}(t) {\n${body.join('\n')}\nreturn { ${literal} };\n}`);
  return name;
}

/** The name of a generated function `(t) => void` skipping writer type `w`. */
function emitSkip(ctx: Ctx, w0: unknown, ns: string | undefined): string {
  const w = deref(w0, ctx.writerNames, ns);
  if (typeof w === 'string') return PRIMITIVE_SKIP[w] as string;
  const name = fresh(ctx, 's');
  if (Array.isArray(w)) {
    // avsc's UnionType._skip: `types[index]._skip`, a TypeError for an index out of range.
    const branches = w.map((b: unknown) => emitSkip(ctx, b, ns));
    const cases = branches.map((b, i) => `if (i === ${i}) return ${b}(t);`).join(' ');
    ctx.lines.push(`function ${name}(t) { const i = readLong(t); ${cases} return badUnion(i); }`);
    return name;
  }
  if (!isObj(w)) throw new Unsupported('schema');
  if (w['type'] === 'map') {
    const entry = fresh(ctx, 'e');
    ctx.lines.push(`const ${entry} = skipMapEntry(${emitSkip(ctx, w['values'], ns)});`);
    ctx.lines.push(`function ${name}(t) { skipBlocks(t, ${entry}); }`);
  } else if (w['type'] === 'array') {
    if (takesNoBytes(w['items'], ctx.writerNames, ns)) throw new Unsupported('array of empty items');
    ctx.lines.push(`function ${name}(t) { skipBlocks(t, ${emitSkip(ctx, w['items'], ns)}); }`);
  } else if (w['type'] === 'record') {
    const wName = fullName(w, ns);
    const inner = wName.includes('.') ? wName.slice(0, wName.lastIndexOf('.')) : undefined;
    const calls = (w['fields'] as Obj[]).map((f) => `${emitSkip(ctx, f['type'], inner)}(t);`).join(' ');
    ctx.lines.push(`function ${name}(t) { ${calls} }`);
  } else throw new Unsupported(`type ${String(w['type'])}`);
  return name;
}

/**
 * A reader of values written with `writer` as `reader` (both record schemas as JSON, e.g. avsc's
 * `type.schema()`), or undefined when they hold anything this reader does not read.
 */
export function compileAvroReader(writer: unknown, reader: unknown): CompiledAvroReader | undefined {
  const ctx: Ctx = { lines: [], writerNames: new Map(), readerNames: new Map(), done: new Map(), next: 0 };
  let root: string;
  try {
    if (!isObj(writer) || !isObj(reader) || writer['type'] !== 'record')
      throw new Unsupported('not a record');
    collectNames(writer, ctx.writerNames, undefined);
    collectNames(reader, ctx.readerNames, undefined);
    root = emitRecord(ctx, writer, reader, undefined);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const names = Object.keys(RUNTIME);
  // Generated once from the schemas (field names checked against NAME); no value ever becomes code.
  const factory = new Function(...names, `${ctx.lines.join('\n')}\nreturn ${root};`) as (
    ...args: unknown[]
  ) => CompiledAvroReader;
  return factory(...names.map((n) => RUNTIME[n as keyof typeof RUNTIME]));
}

/**
 * Walks one value written with a schema, as a check before avsc decodes it (the codec's fallback for what
 * `compileAvroReader` does not read: the alert schema, an older writer with fields to default). avsc's
 * loops trust the input: a block count runs its loop that many times whatever the bytes left (2^40 strings
 * past the end: an endless loop, then out of memory, which kills the process), a negative block size moves
 * its skip backwards, and its first block's count preallocates the array (2^25: 256 MB for a 20-byte
 * record). This walk reads the same bytes in the same order, so a body it accepts is one avsc reads in time
 * and memory bounded by its length:
 * - a block count of items that take at least one byte each may not exceed the bytes left (else the value is
 *   cut short: truncated), and of items that take none (null, an empty record) not `MAX_EMPTY_ITEMS`;
 * - a block's byte size (negative count) must be the bytes its items take (avsc skips by it, reads by items);
 * - a string/bytes length must be a length (not negative, not NaN from a 150-byte varint) within the bytes;
 * - a union or enum index must name a branch or symbol.
 * It leaves `tap.pos` after the value, or past the buffer's end when the value is cut short, and throws for
 * anything else (the codec's `malformed`).
 */
export type AvroChecker = (tap: ReadTap) => void;

/** Most zero-byte items (nulls, empty records) one value may hold: they cost avsc time, not bytes. */
export const MAX_EMPTY_ITEMS = 65_536;

function invalidate(t: ReadTap): void {
  t.pos = t.buf.length + 1;
}

/** A string or bytes length read at the tap: -1 (and the tap invalid) when it is not one. */
function checkedLength(t: ReadTap): number {
  const len = readLong(t);
  if (!(len >= 0 && t.pos + len <= t.buf.length)) {
    invalidate(t);
    return -1;
  }
  return len;
}

/** Zero-byte items the value being checked may still hold (over all its blocks: each costs a byte). */
let emptyItemsLeft = 0;

function checkBlocks(t: ReadTap, item: AvroChecker, itemMinBytes: number): void {
  const buf = t.buf;
  for (;;) {
    let n = readLong(t);
    if (n === 0 || !(t.pos <= buf.length)) return;
    if (!Number.isFinite(n)) throw new Error(`invalid block count: ${n}`);
    let size = -1;
    if (n < 0) {
      n = -n;
      size = readLong(t);
      if (!(size >= 0)) throw new Error(`invalid block size: ${size}`);
    }
    const from = t.pos;
    if (itemMinBytes === 0) {
      emptyItemsLeft -= n;
      if (emptyItemsLeft < 0) throw new Error(`more than ${MAX_EMPTY_ITEMS} empty items`);
    } else if (n * itemMinBytes > buf.length - from) {
      invalidate(t);
      return;
    }
    while (n-- > 0 && t.pos <= buf.length) item(t);
    if (!(t.pos <= buf.length)) return;
    if (size >= 0 && t.pos - from !== size)
      throw new Error(`block size ${size} is not its items' ${t.pos - from} bytes`);
  }
}

interface CheckCtx {
  readonly names: Map<string, Obj>;
  readonly checkers: Map<string, AvroChecker>;
  readonly minBytes: Map<string, number>;
}

/** Fewest bytes a value of `node` takes (a named type in progress: 0, a safe lower bound). */
function minBytesOf(node: unknown, ctx: CheckCtx): number {
  if (typeof node === 'string') {
    if (node === 'null') return 0;
    if (node === 'float') return 4;
    if (node === 'double') return 8;
    const named = ctx.names.get(node);
    if (named === undefined) return 1;
    return minBytesOf(named, ctx);
  }
  if (Array.isArray(node)) return 1;
  if (!isObj(node)) throw new Unsupported('schema');
  const type = node['type'];
  if (type === 'record' || type === 'error') {
    const name = node['name'] as string;
    const known = ctx.minBytes.get(name);
    if (known !== undefined) return known;
    ctx.minBytes.set(name, 0);
    let sum = 0;
    for (const f of node['fields'] as Obj[]) sum += minBytesOf(f['type'], ctx);
    ctx.minBytes.set(name, sum);
    return sum;
  }
  if (type === 'fixed') return node['size'] as number;
  if (type === 'enum' || type === 'array' || type === 'map') return 1;
  return minBytesOf(type, ctx);
}

function collectCheckNames(node: unknown, names: Map<string, Obj>): void {
  if (Array.isArray(node)) {
    for (const branch of node) collectCheckNames(branch, names);
    return;
  }
  if (!isObj(node)) return;
  const type = node['type'];
  if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
    const name = node['name'] as string;
    // avsc's `schema()` gives every named type its full name, and refers to it by that name later.
    if (typeof name !== 'string') throw new Unsupported('named type without a name');
    names.set(name, node);
    if (type !== 'enum' && type !== 'fixed')
      for (const f of node['fields'] as Obj[]) collectCheckNames(f['type'], names);
  } else if (type === 'array') collectCheckNames(node['items'], names);
  else if (type === 'map') collectCheckNames(node['values'], names);
  else collectCheckNames(type, names);
}

const skipFixedBytes =
  (size: number): AvroChecker =>
  (t) => {
    t.pos += size;
  };

function checkerOf(node: unknown, ctx: CheckCtx): AvroChecker {
  if (typeof node === 'string') {
    switch (node) {
      case 'null':
        return skipNothing;
      case 'boolean':
        return skipFixedBytes(1);
      case 'int':
      case 'long':
        return skipLong;
      case 'float':
        return skipFixedBytes(4);
      case 'double':
        return skipFixedBytes(8);
      case 'string':
      case 'bytes':
        return (t) => {
          const len = checkedLength(t);
          if (len >= 0) t.pos += len;
        };
    }
    const named = ctx.names.get(node);
    if (named === undefined) throw new Unsupported(`unknown type ${node}`);
    const done = ctx.checkers.get(node);
    if (done !== undefined) return done;
    // A recursive type refers to itself: a forward reference until its checker is made.
    const ref: { check?: AvroChecker } = {};
    ctx.checkers.set(node, (t) => (ref.check as AvroChecker)(t));
    const made = namedChecker(named, ctx);
    ref.check = made;
    ctx.checkers.set(node, made);
    return made;
  }
  if (Array.isArray(node)) {
    const branches = node.map((b: unknown) => checkerOf(b, ctx));
    return (t) => {
      const i = readLong(t);
      const branch = branches[i];
      if (branch === undefined) {
        if (t.pos > t.buf.length) return;
        badUnion(i);
      }
      branch(t);
    };
  }
  if (!isObj(node)) throw new Unsupported('schema');
  const type = node['type'];
  if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed')
    return checkerOf(node['name'], ctx);
  if (type === 'array') {
    const item = checkerOf(node['items'], ctx);
    const min = minBytesOf(node['items'], ctx);
    return (t) => checkBlocks(t, item, min);
  }
  if (type === 'map') {
    const value = checkerOf(node['values'], ctx);
    const min = 1 + minBytesOf(node['values'], ctx);
    const entry: AvroChecker = (t) => {
      const len = checkedLength(t);
      if (len < 0) return;
      t.pos += len;
      value(t);
    };
    return (t) => checkBlocks(t, entry, min);
  }
  // A primitive with attributes ({ "type": "long", "logicalType": ... }): its type's bytes.
  return checkerOf(type, ctx);
}

function namedChecker(node: Obj, ctx: CheckCtx): AvroChecker {
  const type = node['type'];
  if (type === 'fixed') return skipFixedBytes(node['size'] as number);
  if (type === 'enum') {
    const count = (node['symbols'] as unknown[]).length;
    return (t) => {
      const i = readLong(t);
      if (!(i >= 0 && i < count) && t.pos <= t.buf.length) throw new Error(`invalid enum index: ${i}`);
    };
  }
  const fields = (node['fields'] as Obj[]).map((f) => checkerOf(f['type'], ctx));
  return (t) => {
    for (let i = 0; i < fields.length && t.pos <= t.buf.length; i++) (fields[i] as AvroChecker)(t);
  };
}

/**
 * The check of values written with `writer` (a schema as avsc's `type.schema()` gives it: full names), or
 * undefined when it is not a schema this understands.
 */
export function compileAvroChecker(writer: unknown): AvroChecker | undefined {
  const ctx: CheckCtx = { names: new Map(), checkers: new Map(), minBytes: new Map() };
  try {
    collectCheckNames(writer, ctx.names);
    const check = checkerOf(writer, ctx);
    return (t) => {
      emptyItemsLeft = MAX_EMPTY_ITEMS;
      check(t);
    };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
