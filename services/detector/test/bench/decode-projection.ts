/**
 * What RULES_TOPIC costs per event: with a rules topic the detector decodes every event field (a rule
 * published later may read any), without one only the fields its rules read (the projected codec).
 * Decodes the same Avro records both ways, interleaved, best of 7 by CPU time; the projected decode is
 * the floor. Run: npx tsx --conditions=sequor-source services/detector/test/bench/decode-projection.ts
 */
import { createEventCodec, createProjectedEventCodec } from '@sequor/model';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import { interleaved } from '../../../../test/bench/paths/_measure.js';
import { eventFieldsRead } from '../../src/detector.js';
import { normalizedScenario } from '../support/scenario.js';

const scenario = normalizedScenario(
  { seed: 3, events: 60_000, rate: 0.5, hosts: 40, users: 80, scenarios: 10 },
  1,
);
const values = scenario.records.map((r) => r.value);
const rules = (await loadBuiltinRules()).map((r) => compileRule(r));
const projected = createProjectedEventCodec(eventFieldsRead(rules));
const full = createEventCodec();
let sink = 0;
const decodeAll = (codec: typeof full) => () => {
  for (const v of values) sink += codec.decode(v).timestamp > 0 ? 1 : 0;
};
const { floor, figure } = await interleaved(7, decodeAll(projected), decodeAll(full), 'cpu');
const perCpuS = (p: { cpuMs: number }) => Math.round((values.length * 1000) / p.cpuMs);
console.log(
  `decode ${values.length} events: every field ${perCpuS(figure).toLocaleString('en')} events/CPU-s, ` +
    `projected to the built-in rules' fields (floor) ${perCpuS(floor).toLocaleString('en')} events/CPU-s: ` +
    `${Math.round((100 * floor.cpuMs) / figure.cpuMs)} % of the floor's rate (${sink > 0 ? 'ok' : '?'})`,
);
