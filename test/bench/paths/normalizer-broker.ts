/**
 * Normalizer through the broker (issue 12, target 1): generated Winlogbeat records produced to a raw
 * topic, the normalizer service (createNormalizer, in this process, its default settings) consuming
 * them, normalizing to Avro and producing to its own output topic, until its committed offsets reach the
 * end of the raw topic. Floor, in the same run over the same topic: a plain kafkajs consume of the same
 * records (fresh group). Floor and figure interleaved, best pass of each, the same window for both
 * (first record handed over → last record done; see _kafka.ts).
 */
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import type { BenchContext, BenchRow } from '../harness.js';
import type { Pass } from './_measure.js';
import { bestInterleaved, byWall, judge, perSecond, round } from './_measure.js';
import { quietLogger, rawConsumeFloor, timeServiceToCommittedEnd } from './_kafka.js';
import { averageBytes, winlogbeatRecords } from './_records.js';

export const id = 'normalizer-broker';
export const needsBroker = true;

const TARGET_SHARE = 0.4;
const RAW_PARTITIONS = 6;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const brokers = ctx.brokers;
  if (brokers === undefined) return [];
  const count = ctx.quick ? 3_000 : 60_000;
  const rounds = ctx.quick ? 1 : 2;
  const logger = quietLogger();
  const kit = await KafkaTestKit.connect({ brokers: brokers.split(','), logger });
  try {
    const raw = winlogbeatRecords(count);
    const rawTopic = await kit.createTopic('bench-raw-winlogbeat', { partitions: RAW_PARTITIONS });
    for (let from = 0; from < raw.length; from += 10_000)
      await kit.produceAll(
        rawTopic,
        raw.slice(from, from + 10_000).map((value, i) => ({ key: `r${from + i}`, value })),
      );
    ctx.log(`${raw.length} raw records of ${round(averageBytes(raw))} B on ${rawTopic}`);

    const normalizerPass = async (): Promise<Pass & { startToEndMs: number }> => {
      const normalizedTopic = uniqueTopic('bench-normalized');
      const deadLetterTopic = uniqueTopic('bench-normalizer-dead');
      const groupId = uniqueGroup('bench-normalizer');
      const normalizer = createNormalizer(
        normalizerConfigFromEnv({
          KAFKA_BROKERS: brokers,
          NORMALIZER_SOURCES: `winlogbeat:${rawTopic}`,
          NORMALIZED_TOPIC: normalizedTopic,
          DEAD_LETTER_TOPIC: deadLetterTopic,
          NORMALIZER_GROUP_ID: groupId,
          LOG_LEVEL: 'error',
        }),
        { logger },
      );
      try {
        const pass = await timeServiceToCommittedEnd(
          kit.admin,
          groupId,
          rawTopic,
          () => safeRecords(() => normalizer.counters().total.records),
          () => normalizer.start(),
        );
        const total = normalizer.counters().total;
        if (total.events !== raw.length)
          throw new Error(`normalizer wrote ${total.events} events of ${raw.length} records`);
        return pass;
      } finally {
        await normalizer.stop();
        await kit.deleteTopics([normalizedTopic, deadLetterTopic]).catch(() => undefined);
      }
    };

    const { floor, figure } = await bestInterleaved(
      rounds,
      () => rawConsumeFloor(kit, rawTopic, raw.length),
      normalizerPass,
      byWall,
      (i, f, g) => ctx.log(`round ${i}: floor ${round(f.wallMs)} ms, normalizer ${round(g.wallMs)} ms`),
    );
    const floorRate = perSecond(raw.length, floor.wallMs);
    const figureRate = perSecond(raw.length, figure.wallMs);
    const ratio = figureRate / floorRate;
    return [
      {
        id: 'normalizer.broker',
        path: 'normalizer service through the broker: raw Winlogbeat topic → Avro topic, offsets committed',
        figure: round(figureRate),
        unit: 'events/s',
        floorName: 'kafkajs raw eachBatch consume of the same records (fresh group)',
        floor: round(floorRate),
        ratio: round(ratio, 3),
        target: '>= 40 % of floor',
        met: judge(ctx.quick, ratio >= TARGET_SHARE),
        detail: {
          records: raw.length,
          rawBytesAvg: round(averageBytes(raw)),
          rawPartitions: RAW_PARTITIONS,
          rounds,
          figurePerCpuSecond: round(perSecond(raw.length, figure.cpuMs)),
          floorPerCpuSecond: round(perSecond(raw.length, floor.cpuMs)),
          startToCommittedEndMs: round(figure.startToEndMs),
        },
      },
    ];
  } finally {
    await kit.close();
  }
}

/** counters() throws until start() has built the processor. */
function safeRecords(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}
