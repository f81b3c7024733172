/**
 * The compiled Avro writer against avsc, the reference: over values generated from the event schema
 * (nulls, Unicode with lone surrogates, strings either side of avsc's 64-byte switch, ints and longs at
 * every varint boundary, unsafe and fractional numbers, wrong types, missing fields), the codec's bytes
 * are avsc's bytes, and a value avsc refuses is refused (CodecError `invalid-value`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Schema } from 'avsc';
import {
  alertSchema,
  AvroCodec,
  CodecError,
  compileAvroWriter,
  createEventCodec,
  eventSchema,
} from '../src/index.js';

const codec = createEventCodec();

/** avsc's own bytes for `value`, or 'refused'. */
function reference(value: unknown, c: AvroCodec<unknown> = codec): Buffer | 'refused' {
  try {
    return c.type.toBuffer(value);
  } catch {
    return 'refused';
  }
}

function ours(value: unknown, c: AvroCodec<unknown> = codec): Buffer | 'refused' {
  try {
    return c.encodeSingleObject(value as never).subarray(10);
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    expect((e as CodecError).reason).toBe('invalid-value');
    return 'refused';
  }
}

const edgeNumbers = [
  0,
  -0,
  1,
  -1,
  63,
  64,
  -64,
  -65,
  2 ** 30 - 1,
  2 ** 30,
  -(2 ** 30),
  -(2 ** 30) - 1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  2 ** 52,
  -(2 ** 52),
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  2 ** 53,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
];

const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 20, maxLength: 70 }),
  fc.constantFrom('', 'é', '\ud800', 'a\udc00b', '😀', 'x'.repeat(64), 'é'.repeat(33), '\ud83d'.repeat(22)),
  // Lone surrogates either side of 64 bytes, where avsc switches from its own UTF-8 loop to utf8Write.
  fc.constantFrom(`${'a'.repeat(37)}\ud800`, `${'é'.repeat(20)}\udfff!`, `${'a'.repeat(62)}\ud800`),
);

const safe = edgeNumbers.filter((n) => Number.isSafeInteger(n));
const int32 = safe.filter((n) => (n | 0) === n);
const long = fc.oneof(
  { weight: 30, arbitrary: fc.oneof(fc.constantFrom(...safe), fc.integer(), fc.maxSafeInteger()) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...edgeNumbers), fc.double()) },
);
const int = fc.oneof(
  { weight: 30, arbitrary: fc.oneof(fc.constantFrom(...int32), fc.integer()) },
  { weight: 1, arbitrary: fc.constantFrom(...edgeNumbers) },
);

/** Rare: with ~70 fields an event would almost never be valid otherwise. */
const wrong = fc.constantFrom<unknown>(undefined, true, {}, [], 'x', 1, null);
const rarely = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 300, arbitrary: valid }, { weight: 1, arbitrary: wrong });

/** Values shaped by `type` (mostly valid, sometimes not). */
function arbitraryOf(type: unknown, named: Map<string, unknown>): fc.Arbitrary<unknown> {
  if (typeof type === 'string') {
    const known = named.get(type);
    if (known !== undefined) return arbitraryOf(known, named);
    if (type === 'string') return rarely(text);
    if (type === 'int') return rarely(int);
    if (type === 'long') return rarely(long);
    throw new Error(`no arbitrary for ${type}`);
  }
  if (Array.isArray(type)) {
    const other = type.find((b) => b !== 'null');
    return rarely(fc.oneof(fc.constant(null), arbitraryOf(other, named)));
  }
  const t = type as {
    type: string;
    name?: string;
    fields?: { name: string; type: unknown }[];
    items?: unknown;
    values?: unknown;
  };
  if (t.type === 'map') return rarely(fc.dictionary(text, arbitraryOf(t.values, named), { maxKeys: 4 }));
  if (t.type === 'array') return rarely(fc.array(arbitraryOf(t.items, named), { maxLength: 4 }));
  if (t.type === 'record') {
    if (t.name !== undefined) named.set(t.name, type);
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of t.fields ?? []) fields[f.name] = arbitraryOf(f.type, named);
    return fc.record(fields);
  }
  return arbitraryOf(t.type, named);
}

describe('compiled Avro writer', () => {
  it('is compiled for the event schema (and refuses types it does not write)', () => {
    expect(compileAvroWriter(eventSchema)).toBeTypeOf('function');
    expect(compileAvroWriter({ type: 'record', name: 'r', fields: [{ name: 'x', type: 'double' }] })).toBe(
      undefined,
    );
  });

  it("writes avsc's bytes for every generated event, and refuses what avsc refuses", () => {
    const events = arbitraryOf(eventSchema, new Map());
    let written = 0;
    fc.assert(
      fc.property(events, (value) => {
        const want = reference(value);
        const got = ours(value);
        if (want === 'refused') expect(got).toBe('refused');
        else {
          written++;
          expect(got === 'refused' ? got : got.toString('hex')).toBe(want.toString('hex'));
        }
      }),
      { numRuns: 3000, seed: 4242 },
    );
    // Most generated events are valid somewhere deep: make sure the comparison is not all refusals.
    expect(written).toBeGreaterThan(1000);
  });

  it('leaves alerts to avsc (their schema has a three-branch union)', () => {
    expect(compileAvroWriter(new AvroCodec<unknown>(alertSchema as unknown as Schema).type.schema())).toBe(
      undefined,
    );
  });

  it("writes avsc's bytes for maps (a schema with one)", () => {
    const schemas: unknown[] = [
      {
        type: 'record',
        name: 'WithMap',
        fields: [
          { name: 'data', type: ['null', { type: 'map', values: 'string' }] },
          { name: 'counts', type: { type: 'map', values: 'long' } },
        ],
      },
    ];
    for (const schema of schemas) {
      const c = new AvroCodec<unknown>(schema as Schema);
      expect(compileAvroWriter(c.type.schema())).toBeTypeOf('function');
      let written = 0;
      fc.assert(
        fc.property(arbitraryOf(schema, new Map()), (value) => {
          const want = reference(value, c);
          const got = ours(value, c);
          if (want === 'refused') expect(got).toBe('refused');
          else {
            written++;
            expect(got === 'refused' ? got : got.toString('hex')).toBe(want.toString('hex'));
          }
        }),
        { numRuns: 1000, seed: 77 },
      );
      expect(written).toBeGreaterThan(300);
    }
  });

  it('falls back to avsc for an event larger than its buffer', () => {
    const big = codec.type.random() as unknown as { event: { action: string | null } };
    big.event.action = 'é'.repeat(40_000);
    expect(ours(big)).toEqual(reference(big));
    // And after growing, the next event is still written right.
    const small = codec.type.random();
    expect(ours(small)).toEqual(reference(small));
  });
});
