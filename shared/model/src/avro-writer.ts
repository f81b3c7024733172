/**
 * A straight-line Avro binary writer generated once from a record schema: one block per field with its
 * name as a constant, so encoding an event is a run of property loads and byte writes instead of avsc's
 * walk through its type objects (a union index lookup per nullable field). It writes exactly the bytes
 * avsc writes (same zig-zag varints, same UTF-8 routine) for the values it accepts, and accepts only
 * values it can prove valid: anything else (a wrong type, an unsafe long, a value bigger than the buffer)
 * throws `FALLBACK`, and the codec encodes that value with avsc instead, which writes it or refuses it with
 * its own error. Schemas with types it does not write (float, bytes, enums, wider unions) get no writer.
 */

/** Thrown by a compiled writer for a value it does not write: encode it with avsc. */
export const FALLBACK: unique symbol = Symbol('avro-writer fallback');

/** Writes `value` into `buf` from `pos`; returns the end position. Throws FALLBACK (see above). */
export type CompiledAvroWriter = (value: unknown, buf: Buffer, pos: number) => number;

interface WriterContext {
  readonly lines: string[];
  next: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Unsupported extends Error {}

/** A writer for `schema` (a record, as JSON), or undefined when it holds a type this writer does not write. */
export function compileAvroWriter(schema: unknown): CompiledAvroWriter | undefined {
  const ctx: WriterContext = { lines: [], next: 0 };
  try {
    emitType(ctx, schema, 'value', new Map());
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const body = `let pos = start;\n${ctx.lines.join('\n')}\nreturn pos;`;
  // Generated once from the schema (names checked against NAME); no value ever becomes code.
  const factory = new Function(
    'FALLBACK',
    'writeLong',
    'writeString',
    `return function writeAvro(value, buf, start) {\n${body}\n};`,
  ) as (...helpers: unknown[]) => CompiledAvroWriter;
  return factory(FALLBACK, writeLong, writeString);
}

function emitType(ctx: WriterContext, type: unknown, v: string, named: Map<string, unknown>): void {
  const { lines } = ctx;
  if (typeof type === 'string') {
    const known = named.get(type);
    if (known !== undefined) return emitType(ctx, known, v, named);
    switch (type) {
      case 'string':
        lines.push(`if (typeof ${v} !== 'string') throw FALLBACK;`, `pos = writeString(buf, pos, ${v});`);
        return;
      case 'int':
        lines.push(
          `if (typeof ${v} !== 'number' || (${v} | 0) !== ${v}) throw FALLBACK;`,
          `if (pos + 5 > buf.length) throw FALLBACK;`,
          `pos = writeLong(buf, pos, ${v});`,
        );
        return;
      case 'long':
        // avsc's isSafeLong: within ±(2^53 - 2).
        lines.push(
          `if (!Number.isInteger(${v}) || ${v} < -9007199254740990 || ${v} > 9007199254740990) throw FALLBACK;`,
          `if (pos + 10 > buf.length) throw FALLBACK;`,
          `pos = writeLong(buf, pos, ${v});`,
        );
        return;
      default:
        throw new Unsupported(type);
    }
  }
  if (Array.isArray(type)) {
    // ["null", T] (either order), as avsc's unwrapped unions: index 0 or 1 as a zig-zag long (0x00, 0x02).
    if (type.length !== 2 || !type.includes('null')) throw new Unsupported('union');
    const nullIndex = type.indexOf('null');
    const other = type[1 - nullIndex];
    lines.push(
      `if (pos + 1 > buf.length) throw FALLBACK;`,
      `if (${v} === null) buf[pos++] = ${nullIndex * 2};`,
      `else if (${v} === undefined) throw FALLBACK;`,
      `else {`,
      `buf[pos++] = ${(1 - nullIndex) * 2};`,
    );
    emitType(ctx, other, v, named);
    lines.push('}');
    return;
  }
  if (typeof type !== 'object' || type === null) throw new Unsupported(String(type));
  const t = type as {
    type?: unknown;
    name?: unknown;
    fields?: unknown;
    items?: unknown;
    values?: unknown;
  };
  switch (t.type) {
    case 'record': {
      if (typeof t.name === 'string') named.set(t.name, type);
      if (!Array.isArray(t.fields)) throw new Unsupported('record');
      lines.push(`if (typeof ${v} !== 'object' || ${v} === null) throw FALLBACK;`);
      for (const f of t.fields as { name?: unknown; type?: unknown }[]) {
        if (typeof f.name !== 'string' || !NAME.test(f.name)) throw new Unsupported('field name');
        const fv = `f${ctx.next++}`;
        lines.push(`{ const ${fv} = ${v}.${f.name};`);
        emitType(ctx, f.type, fv, named);
        lines.push('}');
      }
      return;
    }
    case 'array': {
      const item = `i${ctx.next++}`;
      const n = `n${ctx.next++}`;
      lines.push(
        `if (!Array.isArray(${v})) throw FALLBACK;`,
        `{ const ${n} = ${v}.length;`,
        `if (pos + 10 > buf.length) throw FALLBACK;`,
        `if (${n} !== 0) {`,
        `pos = writeLong(buf, pos, ${n});`,
        `for (let k = 0; k < ${n}; k++) { const ${item} = ${v}[k];`,
      );
      emitType(ctx, t.items, item, named);
      lines.push('} }', `if (pos + 1 > buf.length) throw FALLBACK;`, `buf[pos++] = 0; }`);
      return;
    }
    case 'map': {
      const item = `m${ctx.next++}`;
      const keys = `k${ctx.next++}`;
      lines.push(
        `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) throw FALLBACK;`,
        `{ const ${keys} = Object.keys(${v});`,
        `if (pos + 10 > buf.length) throw FALLBACK;`,
        `if (${keys}.length !== 0) {`,
        `pos = writeLong(buf, pos, ${keys}.length);`,
        `for (let k = 0; k < ${keys}.length; k++) { pos = writeString(buf, pos, ${keys}[k]); const ${item} = ${v}[${keys}[k]];`,
      );
      emitType(ctx, t.values, item, named);
      lines.push('} }', `if (pos + 1 > buf.length) throw FALLBACK;`, `buf[pos++] = 0; }`);
      return;
    }
    default:
      if (typeof t.type === 'string' && t.name === undefined && t.fields === undefined)
        return emitType(ctx, t.type, v, named); // { "type": "string" }
      throw new Unsupported(String(t.type));
  }
}

/** avsc's `Tap#writeLong` (zig-zag varint; float arithmetic beyond ±2^30), byte for byte. */
function writeLong(buf: Buffer, pos: number, n: number): number {
  if (n >= -1073741824 && n < 1073741824) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    for (;;) {
      const low = m & 0x7f;
      m >>= 7;
      if (m === 0) {
        buf[pos] = low;
        return pos + 1;
      }
      buf[pos++] = low | 0x80;
    }
  }
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  for (;;) {
    // `& 0x7f` truncates f to an integer first, as avsc's does.
    const low = f & 0x7f;
    f /= 128;
    if (f < 1) {
      buf[pos] = low;
      return pos + 1;
    }
    buf[pos++] = low | 0x80;
  }
}

/** avsc's `Tap#writeString` (length, then its own UTF-8 up to 64 bytes, `utf8Write` beyond), byte for byte. */
function writeString(buf: Buffer, start: number, s: string): number {
  const len = Buffer.byteLength(s);
  if (start + 10 + len > buf.length) throw FALLBACK;
  let pos = writeLong(buf, start, len);
  const end = pos + len;
  if (len > 64) {
    buf.write(s, pos, len, 'utf8'); // what avsc's utf8Write writes
    return end;
  }
  // avsc loops over byte positions, not characters; past the string's end it writes only beyond `end`,
  // where the next value's bytes go (or nothing is read): only the bytes before `end` matter.
  for (let i = 0; i < s.length && pos < end; i++) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 0x80) {
      buf[pos++] = c1;
    } else if (c1 < 0x800) {
      buf[pos++] = (c1 >> 6) | 0xc0;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      i++;
      buf[pos++] = (c1 >> 18) | 0xf0;
      buf[pos++] = ((c1 >> 12) & 0x3f) | 0x80;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else {
      buf[pos++] = (c1 >> 12) | 0xe0;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    }
  }
  return end;
}
