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
import type { Schema } from 'avsc';
import {
  createEventCodec,
  createProjectedEventCodec,
  eventSchema,
  projectedEventSchema,
  type SequorEvent,
} from '@sequor/model';
import { builtinRules, scenarioEvents } from '../../../test/bench/paths/engine.js';
import { sigmaDetectorRules } from '../../../test/bench/paths/_detector.js';
import { avscDecoder as avscFrames, type Decoder } from '../test/avsc-oracle.js';
import { eventFieldsRead } from '../../../services/detector/src/detector.js';

const size = Number(process.argv[2] ?? 40_000);
const rounds = Number(process.argv[3] ?? 7);

const events = scenarioEvents(size);
const full = createEventCodec();
const records = events.map((e) => full.encodeSingleObject(e));
const { rules: sigmaRules } = await sigmaDetectorRules();
const sigmaFields = eventFieldsRead(sigmaRules);
const EVENT = eventSchema as unknown as Schema;
/** avsc alone on a projection's (or the full schema's) single-object frames. */
const avscDecoder = (fields: readonly string[] | undefined): Decoder<SequorEvent> =>
  fields === undefined
    ? avscFrames<SequorEvent>(EVENT)
    : avscFrames<SequorEvent>(projectedEventSchema(fields) as unknown as Schema, EVENT);
const builtinFields = eventFieldsRead(await builtinRules());
const codecs: Record<string, Decoder<SequorEvent>> = {
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
    `SigmaHQ rules ${sigmaFields.length} (${sigmaRules.length} rules)`,
);

let sink = 0;
function cpuMs(codec: Decoder<SequorEvent>): number {
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
