/**
 * Normalizer in process (issue 12, target 1): generated Winlogbeat records through the
 * NormalizeProcessor the service runs (decode, ECS → Sequor event, partition key, Avro single-object
 * encoding). Floor, in the same run over the same bytes: JSON.parse of each raw record plus the Avro
 * encoding of its normalized event (the part no normalizer can skip). Interleaved, best pass of each.
 */
import { parseSourceBindings } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';
import type { RawRecord } from '@sequor/pipeline';
import { createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import type { BenchContext, BenchRow } from '../harness.js';
import { interleaved, judge, perSecond, round } from './_measure.js';
import { averageBytes, winlogbeatRecords } from './_records.js';

export const id = 'normalizer';

const TARGET_SHARE = 0.5;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const distinct = ctx.quick ? 3_000 : 20_000;
  const perPass = ctx.quick ? 6_000 : 60_000;
  const rounds = ctx.quick ? 1 : 4;
  const raw = winlogbeatRecords(distinct);
  const records: RawRecord[] = raw.map((value, i) => ({
    topic: 'winlogbeat',
    partition: 0,
    offset: i,
    value,
  }));

  const processor = createNormalizeProcessor({
    bindings: parseSourceBindings('winlogbeat:winlogbeat'),
    encoder: singleObjectEventEncoder(),
  });
  // The floor encodes the very events the processor produced (decoded back from its output).
  const codec = createEventCodec();
  const events: SequorEvent[] = [];
  let outBytes = 0;
  for (const record of records) {
    const result = processor.process(record);
    if (result.deadLetter !== undefined || result.outputs.length !== 1)
      throw new Error(`bench record ${String(record.offset)} did not normalize to one event`);
    events.push(codec.decode(result.outputs[0]!.value));
    outBytes += result.outputs[0]!.value.length;
  }

  let sink = 0;
  const floor = () => {
    for (let i = 0; i < perPass; i++) {
      const j = i % raw.length;
      const parsed = JSON.parse(raw[j]!.toString()) as object;
      sink += codec.encodeSingleObject(events[j]!).length + (parsed === null ? 1 : 0);
    }
  };
  const figure = () => {
    for (let i = 0; i < perPass; i++) sink += processor.process(records[i % records.length]!).outputs.length;
  };
  floor(); // warm-up: JIT, codec buffers
  figure();
  ctx.log(
    `${raw.length} distinct records of ${round(averageBytes(raw))} B, ${perPass} per pass, ${rounds} rounds`,
  );
  const best = await interleaved(rounds, floor, figure);
  if (sink === 0) throw new Error('nothing was processed');

  const figureRate = perSecond(perPass, best.figure.cpuMs);
  const floorRate = perSecond(perPass, best.floor.cpuMs);
  const ratio = figureRate / floorRate;
  return [
    {
      id: 'normalizer.in-process',
      path: 'normalizer in process: generated Winlogbeat JSON → NormalizeProcessor → Avro single-object',
      figure: round(figureRate),
      unit: 'events/CPU-s',
      floorName: 'JSON.parse of the same raw bytes + Avro encode of the same normalized events',
      floor: round(floorRate),
      ratio: round(ratio, 3),
      target: '>= 50 % of floor',
      met: judge(ctx.quick, ratio >= TARGET_SHARE),
      detail: {
        eventsPerPass: perPass,
        rounds,
        rawBytesAvg: round(averageBytes(raw)),
        avroBytesAvg: round(outBytes / raw.length),
        figureWallPerSecond: round(perSecond(perPass, best.figure.wallMs)),
        floorWallPerSecond: round(perSecond(perPass, best.floor.wallMs)),
      },
    },
  ];
}
