/**
 * What decoding the events' own data (`winlog.event_data`, `zeek.fields`: Avro `map<string>`) costs the
 * detector. The generated scenario's events (the `engine` bench path's), encoded once with the full
 * codec, are decoded, interleaved, best of the rounds by CPU time:
 * - floor: projected to the fields the four built-in rules read (no map);
 * - sigma: projected to the fields every SigmaHQ rule (compiled by `@sequor/rules`, as `RULES_DIR` loads
 *   them) reads, as the detector does: the maps included;
 * - full: every field (the detector with a rules topic);
 * - and the same three through avsc alone (`avsc …`: its plain types and resolvers, no compiled reader, no
 *   map reader), as the codec decoded before them.
 * Each figure is printed beside the floor, as events per CPU-second and as a share of the floor's rate.
 *
 *   node --import tsx --conditions=sequor-source shared/model/bench/decode-event-data.ts [events=40000] [rounds=7]
 */
import path from 'node:path';
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import {
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
  type SequorEvent,
} from '@sequor/model';
import { compileRule, loadRuleSet } from '@sequor/rules';
import { builtinRules, scenarioEvents } from '../../../test/bench/paths/engine.js';
import { eventFieldsRead } from '../../../services/detector/src/detector.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');
const size = Number(process.argv[2] ?? 40_000);
const rounds = Number(process.argv[3] ?? 7);

const events = scenarioEvents(size);
const full = createEventCodec();
const records = events.map((e) => full.encodeSingleObject(e));
const loaded = await loadRuleSet(
  { paths: [path.join(SIGMA, 'rules')], directoriesOnly: true, refuseEmptyDirectories: false },
  {},
);
const sigmaFields = eventFieldsRead(loaded.rules.map((r) => compileRule(r)));
const builtinFields = eventFieldsRead(await builtinRules());
interface Decoder {
  decode(bytes: Buffer): SequorEvent;
}
const plain = (schema: unknown): Type =>
  avro.Type.forSchema(schema as Schema, { omitRecordMethods: true, wrapUnions: 'auto' });
/** avsc alone on the single-object body (the 10-byte header is the codec's, not timed differently). */
function avscDecoder(fields: readonly string[] | undefined): Decoder {
  const writer = plain(eventSchema);
  const reader = fields === undefined ? writer : plain(projectedEventSchema(fields));
  const resolver = fields === undefined ? undefined : reader.createResolver(writer);
  return {
    decode: (bytes) => {
      const { value, offset } =
        resolver === undefined ? reader.decode(bytes, 10) : reader.decode(bytes, 10, resolver);
      if (offset !== bytes.length) throw new Error('bad record');
      return value as SequorEvent;
    },
  };
}
const codecs: Record<string, Decoder> = {
  floor: createProjectedEventCodec(builtinFields),
  sigma: createProjectedEventCodec(sigmaFields),
  full,
  'avsc floor': avscDecoder(builtinFields),
  'avsc sigma': avscDecoder(sigmaFields),
  'avsc full': avscDecoder(undefined),
};
let maps = 0;
for (const e of events) if (e.winlog?.event_data != null || e.zeek?.fields != null) maps++;
console.log(
  `${records.length} events (${maps} with a map), fields read: built-in rules ${builtinFields.length}, ` +
    `SigmaHQ rules ${sigmaFields.length} (${loaded.rules.length} rules)`,
);

let sink = 0;
function cpuMs(codec: Decoder): number {
  const start = process.cpuUsage();
  for (const r of records) sink += codec.decode(r).timestamp > 0 ? 1 : 0;
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
const best: Record<string, number> = {};
for (let round = 0; round < rounds; round++)
  for (const [name, codec] of Object.entries(codecs))
    best[name] = Math.min(best[name] ?? Infinity, cpuMs(codec));

const rate = (ms: number) => Math.round((records.length * 1000) / ms);
const floorMs = best['floor'] as number;
for (const [name, ms] of Object.entries(best))
  console.log(
    `${name.padEnd(10)} ${rate(ms).toLocaleString('en').padStart(9)} events/CPU-s ` +
      `(${((ms * 1000) / records.length).toFixed(2)} us/event), ` +
      `${Math.round((100 * floorMs) / ms)} % of the floor's rate ${rate(floorMs).toLocaleString('en')}`,
  );
if (sink === 0) console.log('no event decoded?');
