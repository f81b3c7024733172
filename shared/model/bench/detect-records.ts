/**
 * The detector's per-record work in one process, as the lead's det.ts measures it: decode each Avro record
 * with the detector's projected codec and push it into a DetectionProcessor, over the generated scenario,
 * with the four built-in rules (the floor) and with every SigmaHQ rule; and the same with avsc alone
 * decoding (its plain types and resolver: how the codec decoded before its own readers). Interleaved, best
 * of the rounds by CPU time; prints records per CPU-second, the Sigma/floor ratio of each, and the gain.
 *
 *   node --import tsx --conditions=sequor-source shared/model/bench/detect-records.ts [events=40000] [rounds=5]
 */
import type { Schema } from 'avsc';
import {
  createProjectedEventCodec,
  createEventCodec,
  eventSchema,
  projectedEventSchema,
  type SequorEvent,
} from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import { builtinRules, scenarioEvents, timePass } from '../../../test/bench/paths/engine.js';
import { runProcessor, sigmaDetectorRules } from '../../../test/bench/paths/_detector.js';
import { avscDecoder as avscFrames, type Decoder } from '../test/avsc-oracle.js';
import { eventFieldsRead } from '../../../services/detector/src/detector.js';

const size = Number(process.argv[2] ?? 40_000);
const rounds = Number(process.argv[3] ?? 5);

const events = scenarioEvents(size);
const records = events.map((e) => createEventCodec().encodeSingleObject(e));
const builtins = await builtinRules();
const { rules: sigma } = await sigmaDetectorRules();
const EVENT = eventSchema as unknown as Schema;
/** avsc alone on a projection's single-object frames. */
const avscDecoder = (fields: readonly string[]): Decoder<SequorEvent> =>
  avscFrames<SequorEvent>(projectedEventSchema(fields) as unknown as Schema, EVENT);

function pass(rules: readonly CompiledRule[], codec: Decoder<SequorEvent>): number {
  return timePass(records.length, () => runProcessor(rules, records.length, (i) => codec.decode(records[i]!)))
    .perCpuSecond;
}

const runs: Record<string, [readonly CompiledRule[], Decoder<SequorEvent>]> = {
  floor: [builtins, createProjectedEventCodec(eventFieldsRead(builtins))],
  sigma: [sigma, createProjectedEventCodec(eventFieldsRead(sigma))],
  'avsc floor': [builtins, avscDecoder(eventFieldsRead(builtins))],
  'avsc sigma': [sigma, avscDecoder(eventFieldsRead(sigma))],
};
const best: Record<string, number> = {};
for (let round = 0; round < rounds; round++)
  for (const [name, [rules, codec]] of Object.entries(runs))
    best[name] = Math.max(best[name] ?? 0, pass(rules, codec));

const at = (name: string) => best[name] as number;
for (const name of Object.keys(runs))
  console.log(`${name.padEnd(10)} ${Math.round(at(name)).toLocaleString('en').padStart(9)} records/CPU-s`);
console.log(
  `sigma/floor: ${(at('sigma') / at('floor')).toFixed(3)} (avsc alone ${(at('avsc sigma') / at('avsc floor')).toFixed(3)}); ` +
    `over avsc alone: sigma ${(at('sigma') / at('avsc sigma')).toFixed(2)}x, floor ${(at('floor') / at('avsc floor')).toFixed(2)}x`,
);
