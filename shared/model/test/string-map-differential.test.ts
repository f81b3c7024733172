/**
 * Differential: every generated scenario event and every real Security-Datasets event (OTRF, through the
 * flat-windows format, as the bench's `realEvents`), encoded once, decodes through today's codecs (the
 * `map<string>` reader of string-map.ts) exactly as through avsc's plain reader: the same values, the
 * same key order of every object (the maps' own included), with the full codec and with projections.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { avscDecoder, type Decoder } from './avsc-oracle.js';
import { getFormat, NormalizeError } from '@sequor/formats';
import type { RecordDecoder } from '@sequor/formats';
import { SCENARIO_FILES, ScenarioStream } from '@sequor/scenarios';
import type { SequorEvent ,
  AvroCodec} from '../src/index.js';
import {
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
} from '../src/index.js';

const DATASETS = path.resolve(import.meta.dirname, '../../../../shared/datasets/security-datasets');

const EVENT = eventSchema as unknown as Schema;

const SCENARIO_FORMATS: Readonly<Record<string, string>> = {
  [SCENARIO_FILES.winlogbeat]: 'winlogbeat',
  [SCENARIO_FILES.endpoint]: 'ecs',
  [SCENARIO_FILES.flatWindows]: 'flat-windows',
  [SCENARIO_FILES.zeek]: 'zeek-dce-rpc',
};

/** A generated scenario through the real format decoders (as the `engine` bench path's `scenarioEvents`). */
function generatedEvents(count: number): SequorEvent[] {
  const stream = new ScenarioStream({ seed: 12, events: count, hosts: 50, users: 200, outOfOrder: 200 });
  const decoders = new Map<string, RecordDecoder>();
  const encoder = new TextEncoder();
  const events: SequorEvent[] = [];
  for (const record of stream.records()) {
    let decoder = decoders.get(record.file);
    if (decoder === undefined) {
      decoder = getFormat(SCENARIO_FORMATS[record.file] as string).createDecoder();
      decoders.set(record.file, decoder);
    }
    const origin = { topic: record.file, partition: 0, offset: record.lineNumber };
    for (const event of decoder.decode(encoder.encode(record.line), origin)) events.push(event);
  }
  return events;
}

/** Every event of the Security-Datasets files the flat-windows format accepts. */
function realEvents(): SequorEvent[] {
  const encoder = new TextEncoder();
  const events: SequorEvent[] = [];
  for (const file of readdirSync(DATASETS)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const decoder = getFormat('flat-windows').createDecoder();
    readFileSync(path.join(DATASETS, file), 'utf8')
      .split('\n')
      .forEach((line, offset) => {
        if (line.trim() === '') return;
        try {
          for (const e of decoder.decode(encoder.encode(line), { topic: file, partition: 0, offset }))
            events.push(e);
        } catch (error) {
          if (!(error instanceof NormalizeError)) throw error;
        }
      });
  }
  return events;
}

const PROJECTIONS: readonly (readonly string[])[] = [
  ['winlog.event_data', 'zeek.fields'],
  ['winlog.event_data.Image', 'process.name', 'host.name', 'user.name'],
  ['zeek.fields', 'source.ip'],
];

/** Pairs of (today's codec, avsc's plain one) for the full schema and each projection. */
function codecPairs(): [string, AvroCodec<SequorEvent>, Decoder<SequorEvent>][] {
  const pairs: [string, AvroCodec<SequorEvent>, Decoder<SequorEvent>][] = [
    ['full', createEventCodec(), avscDecoder<SequorEvent>(EVENT)],
  ];
  for (const fields of PROJECTIONS)
    pairs.push([
      fields.join(','),
      createProjectedEventCodec(fields),
      avscDecoder<SequorEvent>(projectedEventSchema(fields), EVENT),
    ]);
  return pairs;
}

/** JSON keeps every object's key order; `toEqual` then checks what JSON cannot (undefined, numbers). */
function expectSameDecodes(events: readonly SequorEvent[]): number {
  const writer = createEventCodec();
  const records = events.map((e) => writer.encodeSingleObject(e));
  let maps = 0;
  for (const [name, ours, theirs] of codecPairs()) {
    for (let i = 0; i < records.length; i++) {
      const a = ours.decode(records[i] as Buffer);
      const b = theirs.decode(records[i] as Buffer);
      const aJson = JSON.stringify(a);
      if (aJson !== JSON.stringify(b))
        expect({ codec: name, event: i, ours: aJson }).toEqual({
          codec: name,
          event: i,
          ours: JSON.stringify(b),
        });
      expect(a).toEqual(b);
      for (const map of [a.winlog?.event_data, a.zeek?.fields])
        if (map != null) {
          maps++;
          expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
        }
    }
  }
  return maps;
}

describe('map<string> reader, differential against avsc', () => {
  it('decodes every generated scenario event as avsc does (full and projected, key order included)', () => {
    const events = generatedEvents(4_000);
    expect(events.length).toBeGreaterThan(3_000);
    // Twice: the second pass reads through the key sequences compiled during the first.
    expect(expectSameDecodes(events)).toBeGreaterThan(1_000);
    expectSameDecodes(events);
  });

  it('decodes every real Security-Datasets event as avsc does', () => {
    const events = realEvents();
    expect(events.length).toBeGreaterThan(1_000);
    expect(expectSameDecodes(events)).toBeGreaterThan(1_000);
  });
});
