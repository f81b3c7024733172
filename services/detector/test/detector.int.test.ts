// The detector service against a real broker (in-process): the delivery mechanisms one at a time.
// Fencing of a zombie by the partition's transactional id, the restore point travelling as offset
// metadata, a graceful stop and restart, dead letters, and the key-fields check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@sequor/kafka';
import { ConsumerCrashedError, createLogger, createTransactionalProducer } from '@sequor/kafka';
import { headerString, KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import { NORMALIZED_HEADERS } from '@sequor/pipeline';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import type { Detector } from '../src/detector.js';
import { createDetector } from '../src/detector.js';
import { detectorConfigFromEnv, transactionalIdFor } from '../src/config.js';
import { ALERT_HEADERS } from '../src/outputs.js';
import { PartitionKeyMismatchError } from '../src/partition-task.js';
import { decodeRestoreMetadata, restoreHorizonMs } from '@sequor/streams';
import { createEventCodec } from '@sequor/model';
import { consumeAllCommitted, waitForGroupAtEnd } from './support/e2e.js';
import type { ScenarioRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';
import { testPartitionTask } from './support/partition-task.js';

let kit: KafkaTestKit;
let logger: Logger;
let records: ScenarioRecord[];
/** Alert ids one undisturbed task raises over `records` (one partition). */
let expectedIds: string[];
const detectors: Detector[] = [];

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
  logger = createLogger('detector-int', { level: 'error' });
  // One partition, 8,000 events, attacks spread over 1.1 h of event time.
  records = [...normalizedScenario({ seed: 5, events: 8_000, rate: 2, scenarios: 6 }, 1).records];
  const rules = (await loadBuiltinRules()).map((r) => compileRule(r));
  const codec = createEventCodec();
  const task = testPartitionTask({
    topic: 't',
    rules,
    decode: (v) => codec.decode(v),
    allowedLatenessMs: 5_000,
    horizonMs: restoreHorizonMs(5_000, 3_600_000, 3_600_000),
  });
  expectedIds = task
    .process(asConsumed(records))
    .records.filter((r) => r.topic === 'alerts')
    .map((r) => String(r.headers?.[ALERT_HEADERS.alertId]))
    .sort();
  expect(expectedIds.length).toBeGreaterThan(20);
}, 60_000);

afterAll(async () => {
  await Promise.all(detectors.map((d) => d.stop().catch(() => undefined)));
  await kit?.close();
});

async function setUp(name: string, env: Record<string, string> = {}) {
  const events = await kit.createTopic(`${name}-events`, { partitions: 1 });
  const alerts = await kit.createTopic(`${name}-alerts`, { partitions: 2 });
  const late = await kit.createTopic(`${name}-late`);
  const dead = await kit.createTopic(`${name}-dead`);
  const groupId = uniqueGroup(name);
  const config = detectorConfigFromEnv({
    KAFKA_BROKERS: kit.config.brokers.join(','),
    DETECTOR_INPUT_TOPICS: events,
    ALERTS_TOPIC: alerts,
    LATE_EVENTS_TOPIC: late,
    DEAD_LETTER_TOPIC: dead,
    DETECTOR_GROUP_ID: groupId,
    DETECTOR_SESSION_TIMEOUT_MS: '6000',
    DETECTOR_MAX_BATCH_RECORDS: '500',
    // These tests compare with continuous processing of historical events fed in stages: a pause between
    // stages must not move stream time on the wall clock (test/e2e/detector-idle.test.ts covers that rule).
    IDLE_PARTITION_MS: '0',
    ...env,
  });
  const start = () => {
    const d = createDetector(config, { logger });
    detectors.push(d);
    return d;
  };
  const produce = (from: number, to: number) =>
    kit.produceAll(
      events,
      records.slice(from, to).map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    );
  // Sorted: the alerts topic has two partitions, read interleaved. Duplicates would still show.
  const alertIds = async () =>
    (await consumeAllCommitted(kit.client, kit.admin, alerts, 30_000))
      .map((r) => headerString(r.headers, ALERT_HEADERS.alertId))
      .sort();
  return { events, alerts, dead, groupId, start, produce, alertIds };
}

describe('detector (in-process, real broker)', () => {
  it('commits the restore point as offset metadata with every transaction', async () => {
    const s = await setUp('metadata');
    await s.produce(0, 3_000);
    const d = s.start();
    await d.start();
    await waitForGroupAtEnd(kit.admin, s.groupId, s.events, 60_000);
    const [committed] = await kit.admin.fetchOffsets({ groupId: s.groupId, topics: [s.events] });
    const partition = committed!.partitions[0]!;
    expect(partition.offset).toBe('3000');
    const point = decodeRestoreMetadata(partition.metadata);
    expect(point).not.toBeNull();
    // 3,000 events at 2/s is 25 min of event time, inside the 2 h horizon: the restore starts at the first record.
    expect(point).toMatchObject({ offset: 0 });
    expect(point!.streamTime).toBe(Math.max(...records.slice(0, 3_000).map((r) => r.eventTime)));
    await d.stop();
  });

  it('fences a zombie: another producer taking the partition over aborts its transaction and it rejoins; alerts stay exactly once', async () => {
    const s = await setUp('fencing');
    const d = s.start();
    await d.start();
    await s.produce(0, 4_000);
    await waitForGroupAtEnd(kit.admin, s.groupId, s.events, 60_000);
    // A new owner of partition 0 (as after a rebalance this member missed) initialises the same id.
    const usurper = await createTransactionalProducer(kit.client, {
      transactionalId: transactionalIdFor(s.groupId, s.events, 0),
    });
    await usurper.initTransactions();
    await usurper.disconnect();
    await s.produce(4_000, records.length);
    await waitForGroupAtEnd(kit.admin, s.groupId, s.events, 90_000);
    const ids = await s.alertIds();
    expect(ids).toEqual(expectedIds);
    // The member's next transaction was fenced, it restarted and rebuilt the partition's state.
    expect(d.counters().restores).toBeGreaterThanOrEqual(2);
    await d.stop();
  });

  it('stops gracefully mid-stream and a restarted member continues without a duplicate or a gap', async () => {
    // Small batches: what is processed ahead of the commit in flight (group commit, at most 8 batches
    // queued) stays far from the end, so the stop really comes mid-stream.
    const s = await setUp('restart', { DETECTOR_MAX_BATCH_RECORDS: '100' });
    await s.produce(0, records.length);
    const first = s.start();
    await first.start();
    // Stop once it has committed part of the stream.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [c] = await kit.admin.fetchOffsets({ groupId: s.groupId, topics: [s.events] });
      const at = Number(c!.partitions[0]!.offset);
      if (at >= 1_000) break;
      if (Date.now() > deadline) throw new Error('no progress');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await first.stop();
    await expect(first.done).resolves.toBeUndefined();
    const [stoppedAt] = await kit.admin.fetchOffsets({ groupId: s.groupId, topics: [s.events] });
    expect(Number(stoppedAt!.partitions[0]!.offset)).toBeLessThan(records.length);
    const second = s.start();
    await second.start();
    await waitForGroupAtEnd(kit.admin, s.groupId, s.events, 90_000);
    expect(await s.alertIds()).toEqual(expectedIds);
    expect(second.counters().replayedRecords).toBeGreaterThan(0);
    await second.stop();
  });

  it('dead-letters a record that is not an Avro event and keeps the partition going', async () => {
    const s = await setUp('poison');
    await kit.produceAll(s.events, [
      {
        key: 'name:x',
        value: Buffer.from('{"not":"avro"}'),
        headers: { [NORMALIZED_HEADERS.partitionKeyFields]: 'host.id,host.name,user.id' },
      },
    ]);
    await s.produce(0, 500);
    const d = s.start();
    await d.start();
    await waitForGroupAtEnd(kit.admin, s.groupId, s.events, 60_000);
    const [dead] = await kit.consumeUntil(s.dead, 1);
    expect(dead!.value?.toString()).toBe('{"not":"avro"}');
    expect(headerString(dead!.headers, 'error.reason')).toBe('bad-magic');
    expect(headerString(dead!.headers, 'origin.topic')).toBe(s.events);
    expect(headerString(dead!.headers, 'origin.offset')).toBe('0');
    expect(d.counters()).toMatchObject({ deadLetters: 1, records: 501 });
    await d.stop();
  });

  it('stops with a clear error when records say the topic is keyed by other fields', async () => {
    const s = await setUp('keyfields', { PARTITION_KEY_FIELDS: 'host.id' });
    await s.produce(0, 10);
    const d = s.start();
    await d.start();
    const error = await d.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConsumerCrashedError);
    const cause = (error as ConsumerCrashedError).cause as { cause?: unknown };
    expect(cause.cause).toBeInstanceOf(PartitionKeyMismatchError);
    expect(String((cause.cause as Error).message)).toMatch(
      /keyed by "host\.id,host\.name,user\.id".*PARTITION_KEY_FIELDS is "host\.id"/,
    );
  });
});
