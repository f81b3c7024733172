// Raw lines through the real normalizer and detector on the real broker, for the e2e tests that feed
// crafted or reordered input: topics made, lines produced, both services started in groups of their own
// and run until each group has committed its input's end.
import type { Detector } from '@sequor/detector';
import { createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { createLogger } from '@sequor/kafka';
import type { KafkaTestKit } from '@sequor/kafka/testing';
import { uniqueGroup } from '@sequor/kafka/testing';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { waitForGroupAtEnd } from '../../../services/detector/test/support/e2e.js';

export interface ServicesRunOptions {
  /** Partitions of the normalized topic. */
  readonly partitions: number;
  /** Configs of the late-events topic (e.g. a low `max.message.bytes`). */
  readonly lateTopicConfigs?: Readonly<Record<string, string>>;
  /** Detector variables besides the topics and group (RULES_DIR, ALLOWED_LATENESS_MS, ...). */
  readonly detectorEnv?: Readonly<Record<string, string>>;
  /** How long each group may take to reach the end of its input. Default 90 s. */
  readonly timeoutMs?: number;
}

export interface ServicesRun {
  readonly normalizer: Normalizer;
  readonly detector: Detector;
  readonly topics: {
    readonly raw: string;
    readonly normalized: string;
    readonly alerts: string;
    readonly late: string;
    readonly dead: string;
  };
  /** The error either service stopped with, if one did. */
  crashed(): unknown;
  stop(): Promise<void>;
}

/** Produces `lines` (flat Windows JSON) to a one-partition raw topic and runs both services over them. */
export async function runRawLinesThroughServices(
  kit: KafkaTestKit,
  lines: readonly string[],
  options: ServicesRunOptions,
): Promise<ServicesRun> {
  const topics = {
    raw: await kit.createTopic('raw', { partitions: 1 }),
    normalized: await kit.createTopic('events', { partitions: options.partitions }),
    alerts: await kit.createTopic('alerts', { partitions: 1 }),
    late: await kit.createTopic('late', {
      partitions: 1,
      ...(options.lateTopicConfigs === undefined ? {} : { configs: options.lateTopicConfigs }),
    }),
    dead: await kit.createTopic('dead', { partitions: 1 }),
  };
  await kit.produceAll(
    topics.raw,
    lines.map((line) => ({ key: null, value: Buffer.from(line) })),
  );

  const brokers = kit.config.brokers.join(',');
  const logger = createLogger('e2e', { level: 'error' });
  const normalizerGroup = uniqueGroup('normalizer');
  const detectorGroup = uniqueGroup('detector');
  const normalizer = createNormalizer(
    normalizerConfigFromEnv({
      KAFKA_BROKERS: brokers,
      NORMALIZER_SOURCES: `flat-windows:${topics.raw}`,
      NORMALIZED_TOPIC: topics.normalized,
      DEAD_LETTER_TOPIC: topics.dead,
      NORMALIZER_GROUP_ID: normalizerGroup,
    }),
    { logger },
  );
  const detector = createDetector(
    detectorConfigFromEnv({
      ...options.detectorEnv,
      KAFKA_BROKERS: brokers,
      DETECTOR_INPUT_TOPICS: topics.normalized,
      ALERTS_TOPIC: topics.alerts,
      LATE_EVENTS_TOPIC: topics.late,
      DEAD_LETTER_TOPIC: topics.dead,
      DETECTOR_GROUP_ID: detectorGroup,
    }),
    { logger },
  );
  let crashed: unknown;
  detector.done.catch((error: unknown) => (crashed ??= error));
  normalizer.done.catch((error: unknown) => (crashed ??= error));
  const stop = async (): Promise<void> => {
    await detector.stop();
    await normalizer.stop();
  };
  try {
    await normalizer.start();
    await detector.start();
    const timeoutMs = options.timeoutMs ?? 90_000;
    await waitForGroupAtEnd(kit.admin, normalizerGroup, topics.raw, timeoutMs);
    await waitForGroupAtEnd(kit.admin, detectorGroup, topics.normalized, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { normalizer, detector, topics, crashed: () => crashed, stop };
}
