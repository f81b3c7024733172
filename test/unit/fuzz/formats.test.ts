/**
 * Fuzz/property tests of the format decoders (issue 17): random bytes, random JSON, and mutations of valid
 * records the project's own generator writes. A decoder must return events or throw NormalizeError, never
 * anything else, within the hang bound; what it returns must encode with the Avro event codec (the
 * normalizer encodes every event) and read back equal; outputs and messages stay linear in the input;
 * a decoder kept across many hostile records does not grow the heap.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec, eventFieldCatalog } from '@sequor/model';
import type { RecordDecoder, RecordOrigin, SourceFormat } from '@sequor/formats';
import { formatNames, frameJsonDocuments, getFormat, NormalizeError } from '@sequor/formats';
import { generateScenario, SCENARIO_FILES } from '@sequor/scenarios';
import {
  fuzzParams,
  fuzzTimeout,
  heapBound,
  heapGrowth,
  ODD_TEXT,
  preview,
  utf8,
  withinBound,
} from './support.js';

// ---- seeds: valid records from the project's own generator, and the hand-written Zeek fixtures ----

const scenario = generateScenario({ events: 300, seed: 17, hosts: 4, users: 8, zeekJson: true });
const linesOf = (file: string): string[] =>
  (scenario.files.get(file) ?? '').split('\n').filter((l) => l.length > 0);

/** The Zeek logs the generator does not write, from shared/formats' hand-written fixtures (README there). */
const zeekFixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/formats/test/fixtures/zeek',
);
const fixtureLines = (file: string): string[] =>
  readFileSync(path.join(zeekFixtures, file), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
const ZEEK_LOGS: readonly (readonly [format: string, file: string])[] = [
  ['zeek-conn', 'conn'],
  ['zeek-smb-files', 'smb_files'],
  ['zeek-smb-mapping', 'smb_mapping'],
];

/** evtx-json: SigmaHQ's regression events (../shared, read in place), one document a line. */
const regressionData = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../shared/sigma/regression_data/rules/windows/process_creation',
);
const evtxLines = (): string[] =>
  readdirSync(regressionData, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .slice(0, 40)
    .flatMap((e) => frameJsonDocuments(readFileSync(path.join(e.parentPath, e.name))))
    .map((d) => JSON.stringify(JSON.parse(d.bytes.toString('utf8'))));

const JSON_SEEDS: readonly (readonly [format: string, lines: readonly string[]])[] = [
  ['winlogbeat', linesOf(SCENARIO_FILES.winlogbeat)],
  ['evtx-json', evtxLines()],
  ['ecs', linesOf(SCENARIO_FILES.endpoint)],
  ['flat-windows', linesOf(SCENARIO_FILES.flatWindows)],
  ['zeek-dce-rpc', linesOf(SCENARIO_FILES.zeekJson)],
  ...ZEEK_LOGS.map(([format, file]) => [format, fixtureLines(`${file}.json`)] as const),
];

/** Zeek TSV logs: header directives (without #close) and data lines. */
const tsvSeed = (format: string, lines: readonly string[]) =>
  ({
    format,
    all: lines,
    header: lines.filter((l) => l.startsWith('#') && !l.startsWith('#close')),
    data: lines.filter((l) => !l.startsWith('#')),
  }) as const;
const TSV_SEEDS = [
  tsvSeed('zeek-dce-rpc', linesOf(SCENARIO_FILES.zeek)),
  ...ZEEK_LOGS.map(([format, file]) => tsvSeed(format, fixtureLines(`${file}.log`))),
];
const zeekTsv = (TSV_SEEDS[0] as (typeof TSV_SEEDS)[number]).all;
const zeekTsvData = (TSV_SEEDS[0] as (typeof TSV_SEEDS)[number]).data;

// ---- the property every decoder must satisfy ----

const codec = createEventCodec();
const KNOWN_REASONS = new Set([
  'malformed',
  'too-large',
  'missing-field',
  'wrong-type',
  'unsupported-event',
  'bad-header',
  'column-count',
]);

type Outcome = 'events' | 'empty' | 'error';

/**
 * One record through one decoder: events or a NormalizeError of this format and origin, never another
 * exception, within the hang bound; each event encodes and reads back equal; sizes linear in the input.
 */
function decodeChecked(format: string, decoder: RecordDecoder, bytes: Uint8Array, offset = 0): Outcome {
  const origin: RecordOrigin = { topic: 'fuzz', partition: 0, offset };
  let events: readonly SequorEvent[];
  try {
    events = withinBound(`${format} decode`, () => decoder.decode(bytes, origin));
  } catch (e) {
    if (!(e instanceof NormalizeError)) {
      throw new Error(
        `${format} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not a NormalizeError) on ${preview(bytes)}`,
        { cause: e },
      );
    }
    expect(e.format).toBe(format);
    expect(e.origin).toEqual(origin);
    expect(KNOWN_REASONS.has(e.reason)).toBe(true);
    expect(e.message.length).toBeLessThanOrEqual(8 * bytes.length + 4096);
    return 'error';
  }
  for (const ev of events) {
    let encoded: Buffer;
    try {
      encoded = codec.encodeSingleObject(ev);
    } catch (e) {
      throw new Error(
        `${format} returned an event the Avro codec cannot encode (${String(e)}) from ${preview(bytes)}`,
        { cause: e },
      );
    }
    expect(
      codec.decode(encoded),
      `${format} event read back from Avro differs; input ${preview(bytes)}`,
    ).toEqual(ev);
    expect(encoded.length).toBeLessThanOrEqual(8 * bytes.length + 16_384);
  }
  return events.length === 0 ? 'empty' : 'events';
}

// ---- generators ----

/** Bytes UTF-8 rejects, and text every layer must survive. */
const ODD_BYTES: readonly Uint8Array[] = [
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x00],
  [0xef, 0xbb, 0xbf],
].map((b) => Uint8Array.from(b));
const ODD_FRAGMENTS: readonly string[] = [
  ...ODD_TEXT,
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '1e999',
  '-',
  '\n',
  '#',
  '\\u',
  '\\ud800',
  '\\u0000',
  '\\x',
];
const oddInsert = fc.oneof(
  fc.constantFrom(...ODD_BYTES),
  fc.constantFrom(...ODD_FRAGMENTS).map((s) => utf8.encode(s)),
);

type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | {
      readonly kind: 'duplicate';
      readonly from: number;
      readonly length: number;
      readonly to: number;
      readonly times: number;
    }
  | { readonly kind: 'delete'; readonly from: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    from: fc.nat(),
    length: fc.nat({ max: 200 }),
    to: fc.nat(),
    times: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), from: fc.nat(), length: fc.nat({ max: 50 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: oddInsert }),
);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutateBytes(input: Uint8Array, m: ByteMutation): Uint8Array {
  const n = input.length;
  const pos = (i: number, extra = 0): number => (n + extra === 0 ? 0 : i % (n + extra));
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return input;
      const out = input.slice();
      out[pos(m.at)] = m.byte;
      return out;
    }
    case 'truncate':
      return input.subarray(0, pos(m.at, 1));
    case 'duplicate': {
      const from = pos(m.from);
      const segment = input.subarray(from, Math.min(n, from + m.length));
      const to = pos(m.to, 1);
      return concat(
        input.subarray(0, to),
        ...Array.from({ length: m.times }, () => segment),
        input.subarray(to),
      );
    }
    case 'delete': {
      const from = pos(m.from);
      return concat(input.subarray(0, from), input.subarray(Math.min(n, from + m.length)));
    }
    case 'insert': {
      const at = pos(m.at, 1);
      return concat(input.subarray(0, at), m.bytes, input.subarray(at));
    }
  }
}

/** Raw JSON text for a value: kept as text so deep nesting never goes through JSON.stringify's recursion. */
const deep = (depth: number, open: string, leaf: string, close: string): string =>
  open.repeat(depth) + leaf + close.repeat(depth);
const rawJsonValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e308',
    '-1e308',
    '1e309',
    '-0',
    '0.5',
    '9007199254740993',
    '123456789012345678901234567890',
    '4e-400',
    '8.64e15',
    '-8.64e15',
    '2147483648',
    '-2147483649',
    '65536',
    '-1',
    '{}',
    '[]',
    '[[]]',
    '[null]',
    'null',
    'true',
    'false',
    '""',
    '"-"',
    '"(empty)"',
    '"0x7fffffffffffffff"',
    '"0x1"',
    '"1e3"',
    '"  42 "',
    '"9999-12-31T23:59:59.999Z"',
    '"0000-01-01T00:00:00Z"',
    '"+275760-09-13T00:00:00.001Z"',
    '"2024-02-30T25:61:61Z"',
    '"2024-03-04T08:00:00.1234567890123456789Z"',
    '"2024-03-04 08:00:00+0100"',
    '"S-1-0-0"',
    '"\\\\\\\\?\\\\"',
    '"HKLM\\\\"',
    '"\\\\"',
    '"ip:"',
    '"::"',
    '"255.255.255.256"',
  ),
  fc.constantFrom(...ODD_TEXT).map((s) => JSON.stringify(s)),
  // Lone surrogates as JSON escapes: valid JSON, invalid Unicode.
  fc.constantFrom('"\\ud800"', '"a\\udfffb"', '["\\udc00"]', '{"\\ud800":1}'),
  fc.integer({ min: 1, max: 30_000 }).map((d) => deep(d, '[', '1', ']')),
  fc.integer({ min: 1, max: 30_000 }).map((d) => deep(d, '{"a":', '1', '}')),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `"${'A'.repeat(n)}"`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `"${'\\\\'.repeat(n)}"`),
  fc
    .integer({ min: 1, max: 2_000 })
    .map((n) => `[${Array.from({ length: n }, (_, i) => `"${i}"`).join(',')}]`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
);

/** Model field names, for type swaps under dotted keys (`"file.size": {}`) and nested objects. */
const FIELD_NAMES: readonly string[] = [...eventFieldCatalog.fields()].map((f) => f.name);

type JsonMutation =
  | { readonly kind: 'set'; readonly path: number; readonly value: string }
  | { readonly kind: 'delete'; readonly path: number }
  | { readonly kind: 'wrap'; readonly path: number; readonly inArray: boolean }
  | { readonly kind: 'dotted'; readonly field: string; readonly value: string }
  | { readonly kind: 'nested'; readonly field: string; readonly value: string }
  | { readonly kind: 'bytes'; readonly mutation: ByteMutation };

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('set' as const), path: fc.nat(), value: rawJsonValue }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('wrap' as const), path: fc.nat(), inArray: fc.boolean() }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('dotted' as const),
      field: fc.constantFrom(...FIELD_NAMES),
      value: rawJsonValue,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('nested' as const),
      field: fc.constantFrom(...FIELD_NAMES),
      value: rawJsonValue,
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('bytes' as const), mutation: byteMutation }), weight: 3 },
);

type JsonContainer = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is JsonContainer => typeof v === 'object' && v !== null;

/** Every (container, key) slot in a document, the document's own keys first. */
function slots(doc: JsonContainer): [JsonContainer, string | number][] {
  const out: [JsonContainer, string | number][] = [];
  const queue: JsonContainer[] = [doc];
  while (queue.length > 0 && out.length < 2000) {
    const node = queue.shift() as JsonContainer;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const k of keys) {
      out.push([node, k]);
      const child: unknown = Array.isArray(node) ? node[k as number] : node[k as string];
      if (isContainer(child)) queue.push(child);
    }
  }
  return out;
}

const RAW = '\u0000fuzz-raw:';

/** Applies mutations to one JSON record; returns the bytes. Raw values are spliced in as text. */
function mutateJson(line: string, mutations: readonly JsonMutation[]): Uint8Array {
  let bytes: Uint8Array | null = null;
  let doc = JSON.parse(line) as JsonContainer;
  const raws: string[] = [];
  const raw = (text: string): string => {
    raws.push(text);
    return `${RAW}${raws.length - 1}`;
  };
  const render = (): Uint8Array => {
    let text = JSON.stringify(doc);
    // Substituted in order of appearance; each placeholder is a JSON string of its own.
    text = text.replace(/"\\u0000fuzz-raw:(\d+)"/g, (_, i: string) => raws[Number(i)] as string);
    return utf8.encode(text);
  };
  for (const m of mutations) {
    if (m.kind === 'bytes') {
      bytes = mutateBytes(bytes ?? render(), m.mutation);
      continue;
    }
    if (bytes !== null) continue; // Structure is gone once bytes were mutated.
    if (m.kind === 'dotted') {
      if (!Array.isArray(doc)) doc[m.field] = raw(m.value);
      continue;
    }
    if (m.kind === 'nested') {
      let node: unknown = doc;
      const segments = m.field.split('.');
      segments.forEach((seg, i) => {
        if (!isContainer(node) || Array.isArray(node)) return;
        const record = node as Record<string, unknown>;
        if (i === segments.length - 1) record[seg] = raw(m.value);
        else {
          if (!isContainer(record[seg])) record[seg] = {};
          node = record[seg];
        }
      });
      continue;
    }
    const all = slots(doc);
    if (all.length === 0) continue;
    const [node, key] = all[m.path % all.length] as [JsonContainer, string | number];
    const get = (): unknown => (Array.isArray(node) ? node[key as number] : node[key as string]);
    const put = (v: unknown): void => {
      if (Array.isArray(node)) node[key as number] = v;
      else node[key as string] = v;
    };
    if (m.kind === 'set') put(raw(m.value));
    else if (m.kind === 'wrap') put(m.inArray ? [get()] : { value: get() });
    else if (Array.isArray(node)) node.splice(key as number, 1);
    else delete node[key as string];
    if (!isContainer(doc)) doc = {};
  }
  return bytes ?? render();
}

// ---- properties ----

const ALL_FORMATS = formatNames();

describe('format decoders under fuzzing', () => {
  it('seeds decode: the generator and the fixtures write what the decoders read', () => {
    for (const [format, lines] of JSON_SEEDS) {
      expect(lines.length).toBeGreaterThan(2);
      const decoder = getFormat(format).createDecoder();
      lines.forEach((l, i) => expect(decodeChecked(format, decoder, utf8.encode(l), i)).toBe('events'));
    }
    for (const seed of TSV_SEEDS) {
      expect(seed.data.length).toBeGreaterThan(2);
      const tsv = getFormat(seed.format).createDecoder();
      const outcomes = seed.all.map((l, i) => decodeChecked(seed.format, tsv, utf8.encode(l), i));
      expect(outcomes.filter((o) => o === 'events')).toHaveLength(seed.data.length);
    }
  });

  const randomRuns = 300;
  it(
    'random bytes: events or NormalizeError, every format',
    () => {
      fc.assert(
        fc.property(fc.constantFrom(...ALL_FORMATS), fc.uint8Array({ maxLength: 2048 }), (format, bytes) => {
          decodeChecked(format, getFormat(format).createDecoder(), bytes);
        }),
        fuzzParams(randomRuns),
      );
    },
    fuzzTimeout(randomRuns),
  );

  it(
    'random JSON values and random text: events or NormalizeError, every format',
    () => {
      const input = fc.oneof(
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
        fc.object({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc
          .array(
            fc.constantFrom(...ODD_FRAGMENTS, 'winlog', 'event', '@timestamp', 'ts', 'uid', '#fields', '\t'),
            { maxLength: 40 },
          )
          .map((xs) => xs.join('')),
      );
      fc.assert(
        fc.property(fc.constantFrom(...ALL_FORMATS), input, (format, text) => {
          decodeChecked(format, getFormat(format).createDecoder(), utf8.encode(text));
        }),
        fuzzParams(randomRuns),
      );
    },
    fuzzTimeout(randomRuns),
  );

  const mutationRuns = 500;
  it.each(JSON_SEEDS.map(([format, lines]) => [format, lines] as const))(
    '%s: mutated seed records decode or fail with NormalizeError',
    (format, lines) => {
      const outcomes = { events: 0, empty: 0, error: 0 };
      fc.assert(
        fc.property(
          fc.constantFrom(...lines),
          fc.array(jsonMutation, { minLength: 1, maxLength: 4 }),
          (line, mutations) => {
            const bytes = mutateJson(line, mutations);
            outcomes[decodeChecked(format, getFormat(format).createDecoder(), bytes)]++;
          },
        ),
        fuzzParams(mutationRuns),
      );
      // The mutations are neither all harmless nor all fatal (else the property tests little).
      expect(outcomes.events).toBeGreaterThan(0);
      expect(outcomes.error).toBeGreaterThan(0);
    },
    fuzzTimeout(mutationRuns),
  );

  type LineMutation =
    | { readonly kind: 'bytes'; readonly line: number; readonly mutation: ByteMutation }
    | { readonly kind: 'drop' | 'duplicate'; readonly line: number }
    | { readonly kind: 'directive'; readonly line: string }
    | { readonly kind: 'value'; readonly line: number; readonly column: number; readonly value: string };

  const ZEEK_VALUES = [
    '-',
    '(empty)',
    '',
    '\\x00',
    '\\xff\\xfe',
    '\\x',
    '\\',
    'T',
    'F',
    '1e999',
    '-1',
    '99999999999999999',
    '65536',
    '1709539201.9786241234',
    '2024-03-04T08:00:00Z',
    '9999999999999.5',
    '::',
    '1.2.3',
    ',',
    ',,,',
    '\u0000',
    '\ud800',
    '\u202e',
  ];
  const lineMutation: fc.Arbitrary<LineMutation> = fc.oneof(
    {
      arbitrary: fc.record({ kind: fc.constant('bytes' as const), line: fc.nat(), mutation: byteMutation }),
      weight: 3,
    },
    {
      arbitrary: fc.record({ kind: fc.constantFrom('drop' as const, 'duplicate' as const), line: fc.nat() }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('directive' as const),
        line: fc.oneof(
          fc.constantFrom(
            '#separator \\x00',
            '#separator ',
            '#separator \\x',
            '#separator \\x2c',
            '#separator',
            '#set_separator\t',
            '#set_separator',
            '#empty_field\t-',
            '#unset_field\t(empty)',
            '#unset_field\t',
            '#path\tconn',
            '#path\t',
            '#fields',
            '#fields\t',
            '#types\ttime',
            '#types',
            '#close\t2024',
            '#',
          ),
          fc
            .integer({ min: 1, max: 5000 })
            .map((n) => `#fields\t${Array.from({ length: n }, (_, i) => `f${i}`).join('\t')}`),
          fc
            .integer({ min: 1, max: 5000 })
            .map((n) => `#types\t${Array.from({ length: n }, () => 'string').join('\t')}`),
          fc.integer({ min: 1, max: 5000 }).map((n) => `#set_separator\t${','.repeat(n)}`),
        ),
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('value' as const),
        line: fc.nat(),
        column: fc.nat({ max: 20 }),
        value: fc.oneof(fc.constantFrom(...ZEEK_VALUES), fc.string({ unit: 'binary', maxLength: 20 })),
      }),
      weight: 3,
    },
  );

  function mutateLines(lines: readonly string[], mutations: readonly LineMutation[]): Uint8Array[] {
    const out: Uint8Array[] = lines.map((l) => utf8.encode(l));
    for (const m of mutations) {
      if (m.kind === 'directive') {
        // Directives go into the header, before the first data line.
        const firstData = Math.max(
          0,
          lines.findIndex((l) => !l.startsWith('#')),
        );
        out.splice(firstData, 0, utf8.encode(m.line));
        continue;
      }
      if (out.length === 0) continue;
      const i = m.line % out.length;
      const line = out[i] as Uint8Array;
      if (m.kind === 'bytes') out[i] = mutateBytes(line, m.mutation);
      else if (m.kind === 'drop') out.splice(i, 1);
      else if (m.kind === 'duplicate') out.splice(i, 0, line);
      else if (m.kind === 'value') {
        const values = new TextDecoder().decode(line).split('\t');
        values[m.column % values.length] = m.value;
        out[i] = utf8.encode(values.join('\t'));
      }
    }
    return out;
  }

  it.each(TSV_SEEDS.map((seed) => [seed.format, seed] as const))(
    '%s TSV: mutated logs (header and data lines) decode or fail with NormalizeError',
    (format, seed) => {
      const outcomes = { events: 0, empty: 0, error: 0 };
      const sample = fc.tuple(fc.nat({ max: seed.data.length - 1 }), fc.integer({ min: 1, max: 4 }));
      fc.assert(
        fc.property(
          sample,
          fc.array(lineMutation, { minLength: 1, maxLength: 4 }),
          ([from, count], mutations) => {
            const lines = mutateLines([...seed.header, ...seed.data.slice(from, from + count)], mutations);
            const decoder = getFormat(format).createDecoder();
            lines.forEach((bytes, i) => outcomes[decodeChecked(format, decoder, bytes, i)]++);
            // The header state a Kafka commit would store resumes a fresh decoder, or is refused; never throws.
            const checkpoint = decoder.checkpoint?.();
            if (checkpoint !== undefined) {
              const fresh = getFormat(format).createDecoder();
              expect(fresh.resume?.(checkpoint)).toBe(true);
              expect(fresh.checkpoint?.()).toBe(checkpoint);
            }
          },
        ),
        fuzzParams(mutationRuns),
      );
      expect(outcomes.events).toBeGreaterThan(0);
      expect(outcomes.error).toBeGreaterThan(0);
    },
    fuzzTimeout(mutationRuns),
  );

  it(
    'zeek formats: resume() refuses or accepts any text without throwing',
    () => {
      const text = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => `zeek-tsv-header:1:${JSON.stringify(v) ?? ''}`),
        fc
          .record({
            separator: fc.string(),
            setSeparator: fc.string(),
            emptyField: fc.string(),
            unsetField: fc.string(),
            path: fc.option(fc.string()),
            fields: fc.array(fc.string()),
            types: fc.option(fc.array(fc.string())),
          })
          .map((h) => `zeek-tsv-header:1:${JSON.stringify(h)}`),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...ALL_FORMATS.filter((f) => f.startsWith('zeek-'))),
          text,
          fc.constantFrom(...zeekTsvData),
          (format, checkpoint, line) => {
            const decoder = getFormat(format).createDecoder();
            withinBound(`${format} resume`, () => decoder.resume?.(checkpoint));
            decodeChecked(format, decoder, utf8.encode(line));
          },
        ),
        fuzzParams(randomRuns),
      );
    },
    fuzzTimeout(randomRuns),
  );

  it('no unbounded memory: one decoder per format over thousands of hostile records keeps the heap flat', () => {
    const inputs: [SourceFormat, Uint8Array][] = [];
    const sample = fc.sample(
      fc.tuple(fc.constantFrom(...JSON_SEEDS), fc.array(jsonMutation, { minLength: 1, maxLength: 3 })),
      { numRuns: 400, seed: 17 },
    );
    for (const [[format, lines], mutations] of sample)
      inputs.push([
        getFormat(format),
        mutateJson(lines[mutations.length % lines.length] as string, mutations),
      ]);
    for (const l of zeekTsv) inputs.push([getFormat('zeek-dce-rpc'), utf8.encode(l)]);
    const decoders = new Map(ALL_FORMATS.map((f) => [f, getFormat(f).createDecoder()]));
    let offset = 0;
    const work = (): void => {
      for (const [format, bytes] of inputs) {
        try {
          (decoders.get(format.name) as RecordDecoder).decode(bytes, {
            topic: 'fuzz',
            partition: 0,
            offset: offset++,
          });
        } catch (e) {
          if (!(e instanceof NormalizeError)) throw e;
        }
      }
    };
    const growth = heapGrowth(work, 10);
    expect(growth, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`).toBeLessThan(heapBound);
  }, 60_000);
});
