/**
 * The map<string> reader's key-sequence tree (string-map.ts) under maps an attacker writes (EventData names,
 * Zeek fields are data): a flood of new key sequences must not keep the stream's own sequences from being
 * learned and compiled, nor leave them compared after the attacker's keys on every map. Its own file: the
 * tree is per process (per test file here), and these tests need it fresh.
 */
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '../src/index.js';
import { createEventCodec, createProjectedEventCodec } from '../src/index.js';
import { stringMapKeySequence, stringMapShapeCounts } from '../src/string-map.js';
import { sampleEvent } from './sample-event.js';

const writer = createEventCodec();
const reader = createProjectedEventCodec(['winlog.event_data']);

function withData(data: Record<string, string>): SequorEvent {
  const base = sampleEvent();
  return { ...base, winlog: { ...(base.winlog as NonNullable<SequorEvent['winlog']>), event_data: data } };
}

/** Decodes an event whose event_data has `keys` (in that order); returns its map. */
function decodeMap(keys: readonly string[]): Record<string, string> | null | undefined {
  const data: Record<string, string> = {};
  for (const key of keys) data[key] = `v-${key}`;
  return reader.decode(writer.encodeSingleObject(withData(data))).winlog?.event_data;
}

/**
 * What the attacker sends: 300 one-key maps of new keys (more first keys than a branch list holds), 80 maps
 * of 128 new keys (more shapes than the tree holds), and 1,100 two-key sequences twice each (more compiled
 * literals than it keeps).
 */
function flood(tag: string): void {
  for (let m = 0; m < 300; m++) decodeMap([`${tag}one${m}`]);
  for (let m = 0; m < 80; m++) decodeMap(Array.from({ length: 128 }, (_, k) => `${tag}long${m}_${k}`));
  for (let m = 0; m < 1_100; m++) for (let r = 0; r < 2; r++) decodeMap([`${tag}pair${m}`, 'Second']);
}

const EARLY = ['SubjectUserSid', 'SubjectUserName', 'SubjectDomainName', 'SubjectLogonId', 'NewProcessId'];
const LATE = ['RuleName', 'UtcTime', 'ProcessGuid', 'ProcessId', 'Image', 'CommandLine', 'ParentImage'];

describe('the map<string> key-sequence tree under a flood of new key sequences', () => {
  it('learns and compiles a sequence the stream starts sending after the flood, and keeps one from before', () => {
    for (let i = 0; i < 50; i++) decodeMap(EARLY);
    expect(stringMapKeySequence(EARLY).state).toBe('compiled');
    flood('a');
    flood('b');
    const { shapes, compiled } = stringMapShapeCounts();
    expect(shapes).toBeLessThanOrEqual(8192);
    expect(compiled).toBeLessThanOrEqual(1024);
    // Bounded, and not full of the flood for ever: the stream's sequences get in, and are compiled.
    for (let i = 0; i < 5_000; i++) {
      const map = decodeMap(i % 2 === 0 ? LATE : EARLY);
      expect(Object.keys(map ?? {})).toEqual(i % 2 === 0 ? LATE : EARLY);
    }
    expect(stringMapKeySequence(LATE).state).toBe('compiled');
    expect(stringMapKeySequence(EARLY).state).toBe('compiled');
    // And compared first: not after the hundreds of first keys the flood left at the root.
    expect(stringMapKeySequence(LATE).passed).toBeLessThan(8);
    expect(stringMapKeySequence(EARLY).passed).toBeLessThan(8);
  });

  it('reads every map as it was written, flood or not', () => {
    flood('c');
    for (const keys of [LATE, EARLY, ['cone3'], ['clong7_0', 'clong7_1'], ['cpair5', 'Second']])
      expect(Object.entries(decodeMap(keys) ?? {})).toEqual(keys.map((k) => [k, `v-${k}`]));
  });
});

describe('the map<string> key-sequence tree under more of the stream’s own sequences than it holds', () => {
  it('keeps compiled the sequences it has room for when they come in rotation', () => {
    // Security logs: hundreds of event IDs whose EventData starts with the same key. 600 sequences of 8 keys
    // under one first key, more than a branch list holds (256): the ones kept are seen again a pass later,
    // so they must not be pruned in between, nor the compiled ones while the others keep missing.
    const sequences = Array.from({ length: 600 }, (_, s) => [
      'SubjectUserSid',
      ...Array.from({ length: 7 }, (_, k) => `Rotation${s}_${k}`),
    ]);
    const maps = sequences.map((keys) => {
      const data: Record<string, string> = {};
      for (const key of keys) data[key] = `v-${key}`;
      return writer.encodeSingleObject(withData(data));
    });
    for (let pass = 0; pass < 12; pass++)
      for (const [s, map] of maps.entries())
        expect(Object.keys(reader.decode(map).winlog?.event_data ?? {})).toEqual(sequences[s]);
    const compiled = sequences.filter((keys) => stringMapKeySequence(keys).state === 'compiled').length;
    // As many as the branch list under the first key holds, near enough (0 before: each evicted unseen).
    expect(compiled).toBeGreaterThanOrEqual(200);
    expect(stringMapShapeCounts().compiled).toBeLessThanOrEqual(1024);
  });
});
