/**
 * The `map<string>` reader (string-map.ts) against avsc's own (the oracle: the same schema parsed without
 * the hook): the same objects, key order and prototype included, for every shape of map and of bad input.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Schema, Type } from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  avroType,
  canonicalForm,
  CodecError,
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
  schemaFingerprint,
} from '../src/index.js';
import { stringMapShapeCounts } from '../src/string-map.js';
import { avscDecoder, plainType, type Decoder } from './avsc-oracle.js';
import { sampleEvent } from './sample-event.js';

const MAP: Schema = { type: 'map', values: 'string' };
const oracle = plainType(MAP);
const reader = avroType(MAP);

/** Zig-zag varint, as Avro writes a long. */
function long(n: number): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return out;
}
const str = (s: string | Uint8Array): number[] => {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return [...long(bytes.length), ...bytes];
};
/** A map body written by hand: blocks of entries (a negative count carries the block's byte size). */
function mapBytes(
  blocks: readonly (readonly [string | Uint8Array, string | Uint8Array][])[],
  sized = false,
): Buffer {
  const out: number[] = [];
  for (const block of blocks) {
    const body = block.flatMap(([k, v]) => [...str(k), ...str(v)]);
    out.push(...(sized ? [...long(-block.length), ...long(body.length)] : long(block.length)), ...body);
  }
  out.push(0);
  return Buffer.from(out);
}

/** Both readers' results on `bytes`: the decoded values (or what they threw) and the offsets reached. */
function both(bytes: Buffer): { ours: unknown; theirs: unknown } {
  const run = (type: Type) => {
    try {
      const { value, offset } = type.decode(bytes, 0);
      return { value, offset };
    } catch (error) {
      return { threw: (error as Error).constructor.name };
    }
  };
  return { ours: run(reader), theirs: run(oracle) };
}

/** Equal values, the same own keys in the same order, the same prototype. */
function expectSameMap(ours: unknown, theirs: unknown): void {
  expect(ours).toStrictEqual(theirs);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
  if (typeof theirs === 'object' && theirs !== null) {
    const value = (theirs as { value?: unknown }).value ?? theirs;
    const mine = (ours as { value?: unknown }).value ?? ours;
    expect(Object.getPrototypeOf(mine)).toBe(Object.getPrototypeOf(value));
    if (typeof value === 'object' && value !== null)
      expect(Object.keys(mine as object)).toEqual(Object.keys(value));
  }
}

/** Decodes `bytes` three times (a new key sequence, seen again, compiled) and compares each with avsc. */
function expectAsAvsc(bytes: Buffer): void {
  for (let i = 0; i < 3; i++) {
    const { ours, theirs } = both(bytes);
    expectSameMap(ours, theirs);
  }
}

describe('the map<string> reader, as avsc reads', () => {
  it('keeps the schema: the same canonical form and fingerprint for the event and a map', () => {
    expect(canonicalForm(avroType(eventSchema as unknown as Schema))).toBe(
      canonicalForm(plainType(eventSchema as unknown as Schema)),
    );
    expect(createEventCodec().fingerprint).toEqual(
      schemaFingerprint(plainType(eventSchema as unknown as Schema)),
    );
    expect(canonicalForm(reader)).toBe('{"type":"map","values":"string"}');
  });

  it('reads empty, one-entry, long and many-entry maps, in key order', () => {
    const many = (n: number, prefix: string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `value ${i}`]));
    for (const map of [
      {},
      { Image: 'C:\\Windows\\System32\\cmd.exe' },
      { '': '', a: '' },
      { CommandLine: 'x'.repeat(70), Hashes: 'y'.repeat(300), Short: 'z' },
      many(17, 'k'),
      many(100, 'Key'),
      many(127, 'a'),
      many(128, 'b'),
      many(129, 'c'),
      many(1000, 'd'),
      { '10': 'ten', '2': 'two', b: 'bee', a: 'ay' },
      { constructor: 'c', toString: 't', hasOwnProperty: 'h', valueOf: 'v' },
      { 'a"b': 'q"uote', 'back\\slash': '\\', 'new\nline': '\u0000\u007f', '${x}': '`' },
    ])
      expectAsAvsc(oracle.toBuffer(map));
  });

  it('reads a map of more than 4 KB string by string, as avsc does, ASCII or not', () => {
    for (const map of [
      { Path: 'C:\\a.ps1', ScriptBlockText: 'Write-Host 1;'.repeat(400), MessageNumber: '1' },
      { Path: 'C:\\ü.ps1', ScriptBlockText: 'é'.repeat(3000), MessageTotal: '2' },
      { ['k'.repeat(5000)]: 'v' },
    ])
      expectAsAvsc(oracle.toBuffer(map));
  });

  it('gives values that do not keep a large map alive once the map is gone', () => {
    // A value kept past its event (a correlation's distinct values, a cache) must not keep the whole
    // map's text: V8 keeps a substring of 13 or more characters as a slice of its parent.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const kept: string[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i++) {
      const bytes = oracle.toBuffer({
        Path: `C:\\scripts\\run-${i}.ps1`,
        ScriptBlockText: 'x'.repeat(100_000),
      });
      kept.push((reader.decode(bytes, 0).value as Record<string, string>)['Path'] as string);
    }
    gc();
    gc();
    expect(kept[199]).toBe('C:\\scripts\\run-199.ps1');
    // 200 × 100 KB = 20 MB if each kept path held its map's text.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(6 * 2 ** 20);
  });

  it('reads maps whose key sequences share prefixes or differ only in values, in any order', () => {
    const maps = [
      { a: '1', b: '2' },
      { a: '1', b: '2', c: '3' },
      { a: 'x' },
      { a: '1', c: '2' },
      { b: '1', a: '2' },
      { a: '1', b: 'y'.repeat(100) },
      { a: '1', b: '2', c: '3', d: 'é' },
      { a: '1', ü: '2' },
      { ü: 'x'.repeat(70), a: 'ö'.repeat(70), ['ä'.repeat(40)]: '', b: 'plain' },
      { a: '1', b: '2', c: '3', dé: 'é' },
    ];
    for (let round = 0; round < 3; round++) for (const map of maps) expectAsAvsc(oracle.toBuffer(map));
  });

  it('reads non-ASCII keys and values, and invalid UTF-8 as avsc decodes it', () => {
    expectAsAvsc(oracle.toBuffer({ Benutzer: 'Jürgen', Ключ: 'значение', emoji: '😀 ok', ascii: 'plain' }));
    expectAsAvsc(oracle.toBuffer({ ['x'.repeat(80)]: 'é'.repeat(40) }));
    expectAsAvsc(
      mapBytes([
        [
          ['bad', Uint8Array.of(0xc3)],
          [Uint8Array.of(0xff, 0x41), 'v'],
        ],
      ]),
    );
  });

  it('lets the last of duplicate keys win, at the first one’s position', () => {
    const bytes = mapBytes([
      [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
    ]);
    expectAsAvsc(bytes);
    expect(Object.entries(reader.fromBuffer(bytes) as object)).toEqual([
      ['a', '3'],
      ['b', '2'],
    ]);
  });

  it('loses a __proto__ key as avsc does, never changing the prototype', () => {
    const bytes = mapBytes([
      [
        ['__proto__', 'polluted'],
        ['Image', 'x.exe'],
      ],
    ]);
    expectAsAvsc(bytes);
    const decoded = reader.fromBuffer(bytes) as Record<string, string>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['Image']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('reads several blocks, and blocks written with their byte size', () => {
    const blocks: [string, string][][] = [
      [
        ['a', '1'],
        ['b', '2'],
      ],
      [['c', 'x'.repeat(200)]],
      [],
    ];
    expectAsAvsc(mapBytes(blocks.slice(0, 2)));
    expectAsAvsc(mapBytes(blocks.slice(0, 2), true));
  });

  it('reports a map cut short or with a bad length as avsc does (offset past the end)', () => {
    const whole = oracle.toBuffer({ Image: 'cmd.exe', CommandLine: 'cmd /c whoami' });
    for (let end = 0; end < whole.length; end++)
      expectSameMap(both(whole.subarray(0, end)).ours, both(whole.subarray(0, end)).theirs);
    // A negative string length.
    expectSameMap(
      both(Buffer.from([2, 1, 0x61, 2, 0x62, 0])).ours,
      both(Buffer.from([2, 1, 0x61, 2, 0x62, 0])).theirs,
    );
  });

  it('gives up at once on a huge entry count with nothing behind it', () => {
    const hostile = Buffer.from([...long(2 ** 40), 2, 0x61]);
    // avsc's own reader would go on for 2^40 entries of nothing before saying the same.
    expect(reader.decode(hostile, 0).offset).toBe(-1);
  });

  it('keeps its key-sequence tree bounded whatever keys arrive', () => {
    for (let i = 0; i < 20_000; i++) {
      const bytes = oracle.toBuffer({ [`k${i}`]: 'v', [`j${i % 7}`]: 'w' });
      expect(reader.fromBuffer(bytes)).toEqual(oracle.fromBuffer(bytes));
    }
    const { shapes, compiled } = stringMapShapeCounts();
    expect(shapes).toBeLessThanOrEqual(8192);
    expect(compiled).toBeLessThanOrEqual(1024);
  });
});

describe('the map<string> reader in the event codecs', () => {
  it('refuses a cut or corrupted event with the same reason as before', () => {
    const event = sampleEvent();
    const bytes = createEventCodec().encodeSingleObject(event);
    const projected = projectedEventSchema(['winlog.event_data']);
    const pairs = [
      [createEventCodec(), avscDecoder(eventSchema as unknown as Schema)],
      [
        createProjectedEventCodec(['winlog.event_data']),
        avscDecoder(projected, eventSchema as unknown as Schema),
      ],
    ] as const;
    // As JSON: key order included (each codec's records have their own avsc record class).
    const reason = (codec: Decoder<unknown>, value: Buffer) => {
      try {
        return JSON.stringify(codec.decode(value));
      } catch (error) {
        return error instanceof CodecError ? error.reason : String(error);
      }
    };
    const at = bytes.indexOf(Buffer.from(Object.keys(event.winlog?.event_data ?? {})[0] ?? '', 'utf8'));
    expect(at).toBeGreaterThan(0);
    for (const [ours, theirs] of pairs)
      for (let end = at - 4; end < bytes.length; end += 3) {
        const cut = bytes.subarray(0, end);
        expect(reason(ours, cut)).toStrictEqual(reason(theirs, cut));
        const corrupted = Buffer.from(bytes);
        corrupted[end] = 0x7f;
        expect(reason(ours, corrupted)).toStrictEqual(reason(theirs, corrupted));
      }
  });

  it('reads a writer map<bytes> as map<string> through avsc, as before', () => {
    const writer = plainType({ type: 'map', values: 'bytes' });
    const bytes = writer.toBuffer({ a: Buffer.from('one'), b: Buffer.from('twö') });
    const ours = reader.createResolver(avroType({ type: 'map', values: 'bytes' }));
    const theirs = oracle.createResolver(writer);
    expect(reader.fromBuffer(bytes, ours)).toStrictEqual(oracle.fromBuffer(bytes, theirs));
    expect(reader.fromBuffer(bytes, ours)).toStrictEqual({ a: 'one', b: 'twö' });
  });
});
