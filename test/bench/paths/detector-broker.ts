/**
 * Detector through the broker (issue 12, target 2): a generated scenario normalized to Avro events
 * (what the normalizer writes, keyed by host onto 6 partitions) on a topic; the detector service
 * (createDetector, in this process, the four built-in rules, exactly-once: alerts and offsets in one
 * transaction per partition batch) until its committed offsets reach the end of the topic. Floor, in the
 * same run over the same topic: a plain kafkajs consume of the same records (fresh group). Interleaved,
 * best pass of each, the same window for both (see _kafka.ts). Events/s and events per CPU-second.
 */
import { createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import { normalizedScenario } from '../../../services/detector/test/support/scenario.js';
import type { BenchContext, BenchRow } from '../harness.js';
import type { Pass } from './_measure.js';
import { bestInterleaved, byWall, judge, perSecond, round } from './_measure.js';
import { quietLogger, rawConsumeFloor, timeServiceToCommittedEnd } from './_kafka.js';

export const id = 'detector-broker';
export const needsBroker = true;

const TARGET_SHARE = 0.5;
export const EVENT_PARTITIONS = 6;

/** The detector's throughput this run measured (events/s, best pass), for the latency path's offered rate. */
export let measuredDetectorRate: number | undefined;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const brokers = ctx.brokers;
  if (brokers === undefined) return [];
  const events = ctx.quick ? 5_000 : 200_000;
  const rounds = ctx.quick ? 1 : 2;
  const logger = quietLogger();
  const kit = await KafkaTestKit.connect({ brokers: brokers.split(','), logger });
  try {
    const scenario = normalizedScenario({ seed: 3, events, scenarios: ctx.quick ? 2 : 25 }, EVENT_PARTITIONS);
    const records = scenario.records;
    const eventsTopic = await kit.createTopic('bench-events', { partitions: EVENT_PARTITIONS });
    for (let from = 0; from < records.length; from += 20_000)
      await kit.produceAll(
        eventsTopic,
        records.slice(from, from + 20_000).map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      );
    const bytes = records.reduce((sum, r) => sum + r.value.length, 0);
    ctx.log(`${records.length} Avro events of ${round(bytes / records.length)} B on ${eventsTopic}`);

    let alerts = 0;
    let transactions = 0;
    const detectorPass = async (): Promise<Pass & { startToEndMs: number }> => {
      const topics = {
        alerts: uniqueTopic('bench-alerts'),
        late: uniqueTopic('bench-late'),
        dead: uniqueTopic('bench-detector-dead'),
      };
      const groupId = uniqueGroup('bench-detector');
      const detector = createDetector(
        detectorConfigFromEnv({
          KAFKA_BROKERS: brokers,
          DETECTOR_INPUT_TOPICS: eventsTopic,
          ALERTS_TOPIC: topics.alerts,
          LATE_EVENTS_TOPIC: topics.late,
          DEAD_LETTER_TOPIC: topics.dead,
          DETECTOR_GROUP_ID: groupId,
          LOG_LEVEL: 'error',
        }),
        { logger },
      );
      try {
        const pass = await timeServiceToCommittedEnd(
          kit.admin,
          groupId,
          eventsTopic,
          () => detector.counters().records,
          () => detector.start(),
        );
        const counters = detector.counters();
        alerts = counters.alerts;
        transactions = counters.transactions;
        return pass;
      } finally {
        await detector.stop();
        await kit.deleteTopics(Object.values(topics)).catch(() => undefined);
      }
    };

    const { floor, figure } = await bestInterleaved(
      rounds,
      () => rawConsumeFloor(kit, eventsTopic, records.length),
      detectorPass,
      byWall,
      (i, f, g) => ctx.log(`round ${i}: floor ${round(f.wallMs)} ms, detector ${round(g.wallMs)} ms`),
    );
    const floorRate = perSecond(records.length, floor.wallMs);
    const figureRate = perSecond(records.length, figure.wallMs);
    const ratio = figureRate / floorRate;
    measuredDetectorRate = figureRate;
    return [
      {
        id: 'detector.broker',
        path: 'detector service through the broker: Avro events → 4 built-in rules → Avro alerts, exactly once',
        figure: round(figureRate),
        unit: 'events/s',
        floorName: 'kafkajs raw eachBatch consume of the same records (fresh group)',
        floor: round(floorRate),
        ratio: round(ratio, 3),
        target: '>= 50 % of floor',
        met: judge(ctx.quick, ratio >= TARGET_SHARE),
        detail: {
          records: records.length,
          avroBytesAvg: round(bytes / records.length),
          partitions: EVENT_PARTITIONS,
          rounds,
          figurePerCpuSecond: round(perSecond(records.length, figure.cpuMs)),
          floorPerCpuSecond: round(perSecond(records.length, floor.cpuMs)),
          startToCommittedEndMs: round(figure.startToEndMs),
          alerts,
          groundTruthAlerts: scenario.groundTruth.alerts.length,
          transactions,
        },
      },
    ];
  } finally {
    await kit.close();
  }
}
