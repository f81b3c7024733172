/**
 * Avro framings for Kafka record values, generic over any avsc Type (events, alerts):
 * - single-object encoding (Avro spec): `C3 01`, the writer schema's 8-byte little-endian CRC-64-AVRO
 *   fingerprint of its Parsing Canonical Form, then the binary body;
 * - Confluent wire format: `00`, the 4-byte big-endian schema registry id, then the binary body.
 * One decoder accepts both (by the first byte) and resolves the writer schema by fingerprint (schemas it
 * was told about) or by id (a SchemaRegistry), decoding through an avsc resolver when the writer schema
 * differs from the reader's (schema evolution). Per record: no JSON, no allocation beyond the output.
 */
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { SequorError } from './errors.js';
import type { CompiledAvroWriter } from './avro-writer.js';
import { compileAvroWriter } from './avro-writer.js';
import type { AvroChecker, CompiledAvroReader, ReadTap } from './avro-reader.js';
import { compileAvroChecker, compileAvroReader } from './avro-reader.js';
import { rabinFingerprintBytes } from './rabin.js';
import { stringMapTypeHook } from './string-map.js';

export const SINGLE_OBJECT_MAGIC = Object.freeze([0xc3, 0x01] as const);
export const CONFLUENT_MAGIC = 0x00;
const SINGLE_OBJECT_HEADER = 10;
const CONFLUENT_HEADER = 5;

export type CodecErrorReason =
  | 'bad-magic'
  | 'truncated'
  | 'trailing-bytes'
  | 'malformed'
  | 'unknown-fingerprint'
  | 'unknown-schema-id'
  | 'incompatible-schema'
  | 'invalid-value'
  | 'registry-failed';

/** Why a value could not be framed/encoded or decoded; `reason` is stable for metrics and dead-letter headers. */
export class CodecError extends SequorError {
  constructor(
    readonly reason: CodecErrorReason,
    message: string,
    readonly detail: { readonly schemaId?: number; readonly fingerprint?: string } = {},
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(`${reason}: ${message}`, options);
  }
}

/**
 * Where Confluent schema ids resolve. `getSchema` returns the schema JSON text; `register` returns the id
 * for `schema` under `subject` (the same id again for a schema already registered).
 */
export interface SchemaRegistry {
  getSchema(id: number): Promise<string>;
  register(subject: string, schema: string): Promise<number>;
}

export function avroType(schema: Schema | string | Type): Type {
  if (avro.Type.isType(schema)) return schema as Type;
  const parsed: Schema = typeof schema === 'string' ? (JSON.parse(schema) as Schema) : schema;
  // Plain records and `T | null` unions. A fresh options object each time: avsc stores its name
  // registry in it, and a shared one would make a second parse of the same schema a duplicate name.
  // `map<string>` reads through string-map.ts (same values and schema, faster).
  return avro.Type.forSchema(parsed, {
    omitRecordMethods: true,
    wrapUnions: 'auto',
    typeHook: stringMapTypeHook,
  });
}

/** Parsing Canonical Form (Avro spec) of a type: full names, no docs/defaults/aliases, fixed key order. */
export function canonicalForm(type: Type): string {
  return JSON.stringify(type.schema());
}

/** CRC-64-AVRO fingerprint of the type's canonical form, as the 8 little-endian bytes framed on the wire. */
export function schemaFingerprint(type: Type): Uint8Array {
  return rabinFingerprintBytes(Buffer.from(canonicalForm(type), 'utf8'));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

interface WriterEntry {
  readonly type: Type;
  /** null when the writer schema is the reader's own: decode directly. */
  readonly resolver: ReturnType<Type['createResolver']> | null;
  /** Straight-line reader of this writer's bodies as the reader schema (avro-reader.ts); avsc when none. */
  readonly read: CompiledAvroReader | undefined;
  /**
   * When avsc reads: the walk of the body that must pass first (avro-reader.ts `compileAvroChecker`), as
   * avsc trusts block counts and sizes (a crafted record hangs it, or kills the process out of memory).
   */
  readonly check: AvroChecker | undefined;
}

export interface AvroCodecOptions {
  /** Older (or newer) writer schemas to accept in single-object frames, found by fingerprint. */
  readonly writerSchemas?: readonly (Schema | string | Type)[];
  /** Resolves Confluent schema ids not seen before (decodeAsync / loadSchemaId). */
  readonly registry?: SchemaRegistry;
  /** Initial size of the reusable encode buffer; it grows as needed. */
  readonly initialBufferSize?: number;
}

/**
 * Encoder/decoder for one reader schema. Not safe to share across worker threads (it reuses one scratch
 * buffer); one instance per process or per consumer is the intended use.
 */
export class AvroCodec<T> {
  readonly type: Type;
  readonly canonicalForm: string;
  /** 8 bytes, little-endian, as framed. */
  readonly fingerprint: Uint8Array;
  readonly fingerprintHex: string;
  private readonly byFingerprint = new Map<string, WriterEntry>();
  private readonly byId = new Map<number, WriterEntry>();
  /**
   * Ids whose registry schema this reader cannot read (another subject's, or no schema at all), with why: a
   * record naming one is refused as incompatible-schema, as a record is, instead of its loading failing
   * (which would fail the batch over and over: a crafted record would stall its partition).
   */
  private readonly refusedIds = new Map<number, string>();
  private readonly pendingIds = new Map<number, Promise<void>>();
  private readonly registry: SchemaRegistry | undefined;
  private scratch: Buffer;
  /** The writer schema of the last single-object frame decoded, by its fingerprint's 8 bytes. */
  private lastFingerprint: Uint8Array;
  private lastEntry: WriterEntry;
  /** Straight-line writer for values it can prove valid (avro-writer.ts); avsc writes the rest. */
  private readonly writer: CompiledAvroWriter | undefined;

  constructor(schema: Schema | string | Type, options: AvroCodecOptions = {}) {
    this.type = avroType(schema);
    this.writer = compileAvroWriter(this.type.schema());
    this.canonicalForm = canonicalForm(this.type);
    this.fingerprint = schemaFingerprint(this.type);
    this.fingerprintHex = hex(this.fingerprint);
    this.registry = options.registry;
    this.scratch = Buffer.allocUnsafe(options.initialBufferSize ?? 16 * 1024);
    this.lastEntry = this.ownEntry();
    this.lastFingerprint = this.fingerprint;
    this.byFingerprint.set(this.fingerprintHex, this.lastEntry);
    for (const w of options.writerSchemas ?? []) this.addWriterSchema(w);
  }

  /** Accept single-object frames written with `schema` (resolved into this codec's reader schema). */
  addWriterSchema(schema: Schema | string | Type): string {
    const entry = this.writerEntry(avroType(schema));
    const fp = hex(schemaFingerprint(entry.type));
    this.byFingerprint.set(fp, entry);
    if (fp === hex(this.lastFingerprint)) this.lastEntry = entry;
    return fp;
  }

  /** Accept Confluent frames with `id`, written with `schema`. */
  addSchemaId(id: number, schema: Schema | string | Type): void {
    this.byId.set(id, this.writerEntry(avroType(schema)));
  }

  /** Registers this codec's schema under `subject` and remembers the id for decoding; returns the id. */
  async register(registry: SchemaRegistry, subject: string): Promise<number> {
    let id: number;
    try {
      id = await registry.register(subject, this.canonicalForm);
    } catch (cause) {
      throw new CodecError(
        'registry-failed',
        `registering ${subject} failed`,
        {},
        { retriable: true, cause },
      );
    }
    this.byId.set(id, this.ownEntry());
    return id;
  }

  encodeSingleObject(value: T): Buffer {
    const out = this.encodeWithHeader(value, SINGLE_OBJECT_HEADER);
    out[0] = 0xc3;
    out[1] = 0x01;
    out.set(this.fingerprint, 2);
    return out;
  }

  encodeConfluent(value: T, schemaId: number): Buffer {
    const out = this.encodeWithHeader(value, CONFLUENT_HEADER);
    out[0] = CONFLUENT_MAGIC;
    out.writeUInt32BE(schemaId, 1);
    return out;
  }

  /**
   * Decodes a single-object or Confluent frame. Synchronous: a Confluent id must have been loaded
   * (`register`, `addSchemaId`, `loadSchemaId` or an earlier `decodeAsync`), else `unknown-schema-id`.
   */
  decode(bytes: Uint8Array): T {
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length === 0) throw new CodecError('truncated', 'empty value');
    let entry: WriterEntry;
    let start: number;
    if (buf[0] === 0xc3) {
      if (buf.length < SINGLE_OBJECT_HEADER)
        throw new CodecError(
          'truncated',
          `single-object header needs ${SINGLE_OBJECT_HEADER} bytes, got ${buf.length}`,
        );
      if (buf[1] !== 0x01)
        throw new CodecError('bad-magic', `single-object marker C3 ${buf[1]?.toString(16).padStart(2, '0')}`);
      // A stream's records share one writer schema (a projected reader's is not its own): the last one
      // found is compared byte by byte, without a native call or a key string.
      const last = this.lastFingerprint;
      let i = 0;
      while (i < 8 && buf[2 + i] === last[i]) i++;
      if (i === 8) {
        entry = this.lastEntry;
      } else {
        const fp = buf.toString('hex', 2, SINGLE_OBJECT_HEADER);
        const found = this.byFingerprint.get(fp);
        if (found === undefined)
          throw new CodecError('unknown-fingerprint', `no known writer schema has fingerprint ${fp}`, {
            fingerprint: fp,
          });
        entry = found;
        this.lastFingerprint = Uint8Array.from(buf.subarray(2, SINGLE_OBJECT_HEADER));
        this.lastEntry = found;
      }
      start = SINGLE_OBJECT_HEADER;
    } else if (buf[0] === CONFLUENT_MAGIC) {
      if (buf.length < CONFLUENT_HEADER)
        throw new CodecError(
          'truncated',
          `Confluent header needs ${CONFLUENT_HEADER} bytes, got ${buf.length}`,
        );
      const id = buf.readUInt32BE(1);
      const found = this.byId.get(id);
      if (found === undefined) {
        const refused = this.refusedIds.get(id);
        if (refused !== undefined) throw new CodecError('incompatible-schema', refused, { schemaId: id });
        throw new CodecError('unknown-schema-id', `schema id ${id} is not loaded`, { schemaId: id });
      }
      entry = found;
      start = CONFLUENT_HEADER;
    } else {
      throw new CodecError(
        'bad-magic',
        `first byte 0x${buf[0]?.toString(16).padStart(2, '0')} is neither single-object (C3 01) nor Confluent (00)`,
      );
    }
    let decoded: { value: unknown; offset: number };
    try {
      if (entry.read !== undefined) {
        const tap: ReadTap = { buf, pos: start };
        const value = entry.read(tap);
        // avsc's decode: a position past the end is a value cut short (NaN, from a 150-byte length: too).
        decoded = { value, offset: tap.pos <= buf.length ? tap.pos : -1 };
      } else {
        const tap: ReadTap = { buf, pos: start };
        entry.check?.(tap);
        decoded = !(tap.pos <= buf.length)
          ? { value: undefined, offset: -1 }
          : entry.resolver === null
            ? this.type.decode(buf, start)
            : this.type.decode(buf, start, entry.resolver);
      }
    } catch (cause) {
      throw new CodecError(
        'malformed',
        `body does not decode as ${entry.type.name ?? 'the writer schema'}`,
        {},
        { cause },
      );
    }
    if (decoded.offset < 0)
      throw new CodecError('truncated', `body ends before the ${entry.type.name ?? 'value'} does`);
    if (decoded.offset !== buf.length)
      throw new CodecError('trailing-bytes', `${buf.length - decoded.offset} bytes after the value`);
    return decoded.value as T;
  }

  /** As `decode`, fetching an unknown Confluent schema id from the registry first. */
  async decodeAsync(bytes: Uint8Array): Promise<T> {
    if (bytes.length >= CONFLUENT_HEADER && bytes[0] === CONFLUENT_MAGIC) {
      // As readUInt32BE: `<< 24` would make an id of 2^31 or more negative, another id than decode's.
      const id =
        (bytes[1] as number) * 0x1000000 +
        ((bytes[2] as number) << 16) +
        ((bytes[3] as number) << 8) +
        (bytes[4] as number);
      if (!this.byId.has(id)) await this.loadSchemaId(id);
    }
    return this.decode(bytes);
  }

  /** Fetches and caches the writer schema for `id` (concurrent calls share one fetch). */
  loadSchemaId(id: number): Promise<void> {
    if (this.byId.has(id) || this.refusedIds.has(id)) return Promise.resolve();
    const registry = this.registry;
    if (registry === undefined) {
      return Promise.reject(
        new CodecError('unknown-schema-id', `schema id ${id} is not loaded and no registry is configured`, {
          schemaId: id,
        }),
      );
    }
    let pending = this.pendingIds.get(id);
    if (pending === undefined) {
      pending = (async () => {
        let text: string;
        try {
          text = await registry.getSchema(id);
        } catch (cause) {
          if (cause instanceof CodecError) throw cause;
          throw new CodecError(
            'registry-failed',
            `fetching schema id ${id} failed`,
            { schemaId: id },
            { retriable: true, cause },
          );
        }
        // A registry's schema for an id never changes: one it cannot be read as is refused for good.
        let entry: WriterEntry;
        try {
          entry = this.writerEntry(avroType(text));
        } catch (cause) {
          const why = cause instanceof CodecError ? cause.message : `not an Avro schema: ${String(cause)}`;
          this.refusedIds.set(id, `schema id ${id}: ${why}`.slice(0, 500));
          return;
        }
        this.byId.set(id, entry);
      })().finally(() => this.pendingIds.delete(id));
      this.pendingIds.set(id, pending);
    }
    return pending;
  }

  private ownEntry(): WriterEntry {
    const schema = this.type.schema();
    const read = compileAvroReader(schema, schema);
    return {
      type: this.type,
      resolver: null,
      read,
      check: read === undefined ? compileAvroChecker(schema) : undefined,
    };
  }

  private writerEntry(writer: Type): WriterEntry {
    if (canonicalForm(writer) === this.canonicalForm) return this.ownEntry();
    const incompatible = (cause: unknown) =>
      new CodecError(
        'incompatible-schema',
        `writer schema ${writer.name ?? ''} cannot be read as ${this.type.name ?? ''}`,
        { fingerprint: hex(schemaFingerprint(writer)) },
        { cause },
      );
    let resolver: ReturnType<Type['createResolver']>;
    try {
      resolver = this.type.createResolver(writer);
    } catch (cause) {
      throw incompatible(cause);
    }
    // A writer avsc can resolve is never refused for a fault of our own reader's compiler (a refused id is
    // refused for good): avsc reads it instead, behind the check walk. The reader's defaults (exportAttrs)
    // fill the fields an older writer lacks.
    let read: CompiledAvroReader | undefined;
    try {
      read = compileAvroReader(writer.schema(), this.type.schema({ exportAttrs: true }));
    } catch {
      read = undefined;
    }
    if (read !== undefined) return { type: writer, resolver, read, check: undefined };
    try {
      return { type: writer, resolver, read, check: compileAvroChecker(writer.schema()) };
    } catch (cause) {
      throw incompatible(cause);
    }
  }

  private encodeWithHeader(value: T, header: number): Buffer {
    if (this.writer !== undefined) {
      let end = -1;
      try {
        end = this.writer(value, this.scratch, header);
      } catch {
        // FALLBACK (a value it does not write, or a full buffer) or anything odd: avsc decides below.
      }
      if (end >= 0) {
        const out = Buffer.allocUnsafe(end);
        this.scratch.copy(out, 0, 0, end);
        return out;
      }
    }
    for (;;) {
      let end: number;
      try {
        end = this.type.encode(value, this.scratch, header);
      } catch (cause) {
        throw new CodecError(
          'invalid-value',
          `value does not match ${this.type.name ?? 'the schema'}: ${(cause as Error).message}`,
          {},
          { cause },
        );
      }
      if (end >= 0) {
        const out = Buffer.allocUnsafe(end);
        this.scratch.copy(out, 0, 0, end);
        return out;
      }
      // avsc returns minus the bytes missing: grow once to fit, with headroom.
      this.scratch = Buffer.allocUnsafe(
        Math.max(this.scratch.length * 2, this.scratch.length - end + header),
      );
    }
  }
}
