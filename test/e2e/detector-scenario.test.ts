// A generated scenario (@sequor/scenarios: noise, attacks, near-misses, and a ground truth naming each
// alert's evidence by file and line) through the whole Kafka path: one raw topic per generated file ->
// normalizer -> normalized topic (6 partitions) -> detector. Every alert must be one the ground truth
// lists, with the same evidence lines, and every ground-truth alert must be raised.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '@sequor/detector';
import { createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { createLogger } from '@sequor/kafka';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { loadBuiltinRules } from '@sequor/rules';
import type { GroundTruth } from '@sequor/scenarios';
import { writeScenario } from '@sequor/scenarios';
import {
  consumeAllCommitted,
  decodeAlert,
  laterEventOnEveryPartition,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';
import { SCENARIO_FORMATS } from '../../services/detector/test/support/scenario.js';

const PARTITIONS = 6;
/** Lines produced before waiting for the normalizer: at most this many, spanning at most CHUNK_SPAN_MS. */
const CHUNK = 1_000;
const CHUNK_SPAN_MS = 30_000;
/**
 * The normalizer interleaves its raw topics as it likes within a chunk, so events reach the detector
 * up to a chunk's event-time span out of order: a grace above that keeps every one of them on time.
 */
const LATENESS_MS = 60_000;

describe('detector on a generated scenario, raw topics to alerts', () => {
  let kit: KafkaTestKit;
  let normalizer: Normalizer | undefined;
  let detector: Detector | undefined;
  let dir: string;

  beforeAll(async () => {
    kit = await KafkaTestKit.connect();
    dir = await mkdtemp(path.join(tmpdir(), 'sequor-detector-scenario-'));
  });

  afterAll(async () => {
    await detector?.stop();
    await normalizer?.stop();
    await kit?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('raises exactly the ground-truth alerts, with their evidence lines', async () => {
    await writeScenario(dir, { seed: 17, events: 20_000, scenarios: 6 });
    const truth = JSON.parse(await readFile(path.join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
    const files = Object.keys(SCENARIO_FORMATS);
    const lines = await Promise.all(
      files.map(async (f) => (await readFile(path.join(dir, f), 'utf8')).split('\n').slice(0, -1)),
    );
    const topics = await Promise.all(
      files.map((f) => kit.createTopic(`raw-${SCENARIO_FORMATS[f]}`, { partitions: 1 })),
    );
    const fileOfTopic = new Map(topics.map((t, i) => [t, files[i]!]));
    const normalized = await kit.createTopic('scenario-events', { partitions: PARTITIONS });
    const alertsTopic = await kit.createTopic('scenario-alerts', { partitions: 3 });
    const late = await kit.createTopic('scenario-late');
    const dead = await kit.createTopic('scenario-dead');
    const brokers = kit.config.brokers.join(',');
    const logger = createLogger('e2e', { level: 'error' });
    const normalizerGroup = uniqueGroup('scenario-normalizer');
    normalizer = createNormalizer(
      normalizerConfigFromEnv({
        KAFKA_BROKERS: brokers,
        NORMALIZER_SOURCES: files.map((f, i) => `${SCENARIO_FORMATS[f]}:${topics[i]}`).join(','),
        NORMALIZED_TOPIC: normalized,
        DEAD_LETTER_TOPIC: dead,
        NORMALIZER_GROUP_ID: normalizerGroup,
      }),
      { logger },
    );
    const detectorGroup = uniqueGroup('scenario-detector');
    detector = createDetector(
      detectorConfigFromEnv({
        KAFKA_BROKERS: brokers,
        DETECTOR_INPUT_TOPICS: normalized,
        ALERTS_TOPIC: alertsTopic,
        LATE_EVENTS_TOPIC: late,
        DEAD_LETTER_TOPIC: dead,
        DETECTOR_GROUP_ID: detectorGroup,
        ALLOWED_LATENESS_MS: String(LATENESS_MS),
      }),
      { logger },
    );
    await normalizer.start();
    await detector.start();

    // Lines in event-time order across files (each file's own order kept), a chunk at a time: the next
    // chunk goes out once the normalizer has committed the last, so sources stay within a chunk of each other.
    const timeOf = (file: number, line: string): number => {
      if (line.startsWith('#')) return Number.NEGATIVE_INFINITY;
      const doc = JSON.parse(files[file]!.endsWith('.log') ? '{}' : line) as { '@timestamp'?: string };
      return doc['@timestamp'] !== undefined
        ? Date.parse(doc['@timestamp'])
        : Number(line.split('\t')[0]) * 1000;
    };
    const next = files.map(() => 0);
    const order: { file: number; time: number }[] = [];
    for (;;) {
      let best = -1;
      let bestTime = Number.POSITIVE_INFINITY;
      for (let f = 0; f < files.length; f++) {
        const line = lines[f]![next[f]!];
        if (line === undefined) continue;
        const t = timeOf(f, line);
        if (t < bestTime || best < 0) {
          bestTime = t;
          best = f;
        }
      }
      if (best < 0) break;
      order.push({ file: best, time: bestTime });
      next[best]!++;
    }
    const sent = files.map(() => 0);
    for (let i = 0; i < order.length;) {
      const batch = files.map((): Buffer[] => []);
      let first = 0;
      for (let j = i; j < order.length; j++) {
        if (Number.isFinite(order[j]!.time)) {
          first = order[j]!.time;
          break;
        }
      }
      for (
        const end = Math.min(order.length, i + CHUNK);
        i < end && !(order[i]!.time > first + CHUNK_SPAN_MS);
        i++
      ) {
        const f = order[i]!.file;
        batch[f]!.push(Buffer.from(lines[f]![sent[f]!++]!));
      }
      await Promise.all(
        batch.map((values, f) =>
          values.length === 0
            ? undefined
            : kit.produceAll(
                topics[f]!,
                values.map((value) => ({ key: null, value })),
              ),
        ),
      );
      for (const t of topics) await waitForGroupAtEnd(kit.admin, normalizerGroup, t, 60_000);
    }
    // Stream time moves on on every partition (a live host keeps logging).
    const flat = files.indexOf('flat-windows.ndjson');
    const lastTime = order.reduce((max, o) => (Number.isFinite(o.time) ? Math.max(max, o.time) : max), 0);
    await kit.produceAll(
      topics[flat]!,
      laterEventOnEveryPartition(PARTITIONS, new Date(lastTime + 3_600_000)).map((l) => ({
        key: null,
        value: Buffer.from(l),
      })),
    );
    await waitForGroupAtEnd(kit.admin, normalizerGroup, topics[flat]!, 60_000);
    await waitForGroupAtEnd(kit.admin, detectorGroup, normalized, 120_000);

    const slugs = new Map(
      (await loadBuiltinRules()).map((r) => [r.id, path.basename(r.location.file).replace(/\.ya?ml$/, '')]),
    );
    const raised = (await consumeAllCommitted(kit.client, kit.admin, alertsTopic, 30_000)).map((r) => {
      const alert = decodeAlert(r.value);
      return `${slugs.get(alert.rule.id)} ${alert.evidence
        .map((e) => `${fileOfTopic.get(e.origin.topic ?? '')}:${(e.origin.offset ?? -1) + 1}`)
        .sort()
        .join(' ')}`;
    });
    const expected = truth.alerts.map(
      (a) =>
        `${a.rule} ${a.evidence
          .map((e) => `${e.file}:${e.line}`)
          .sort()
          .join(' ')}`,
    );
    expect(expected.length).toBeGreaterThan(20);
    expect(raised.sort()).toEqual(expected.sort());
    expect(detector.counters()).toMatchObject({ lateEvents: 0, deadLetters: 0 });
  }, 300_000);
});
