/**
 * Differential: every generated scenario event and every real Security-Datasets event (OTRF, through the
 * flat-windows format, as the bench's `securityDatasetEvents`), encoded once, decodes through today's codecs (the
 * `map<string>` reader of string-map.ts) exactly as through avsc's plain reader: the same values, the
 * same key order of every object (the maps' own included), with the full codec and with projections.
 */
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { avscDecoder, type Decoder } from './avsc-oracle.js';
import { scenarioEvents, securityDatasetEvents } from '../../../test/bench/paths/_events.js';
import type { SequorEvent, AvroCodec } from '../src/index.js';
import {
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
} from '../src/index.js';

const EVENT = eventSchema as unknown as Schema;

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
    const events = scenarioEvents(4_000, { hosts: 50, users: 200, outOfOrder: 200 });
    expect(events.length).toBeGreaterThan(3_000);
    // Twice: the second pass reads through the key sequences compiled during the first.
    expect(expectSameDecodes(events)).toBeGreaterThan(1_000);
    expectSameDecodes(events);
  });

  // ~3 s alone; more with the whole suite beside it on two cores.
  it('decodes every real Security-Datasets event as avsc does', { timeout: 60_000 }, () => {
    const events = securityDatasetEvents();
    expect(events.length).toBeGreaterThan(1_000);
    expect(expectSameDecodes(events)).toBeGreaterThan(1_000);
  });
});
