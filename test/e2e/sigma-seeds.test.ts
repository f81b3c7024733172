// The seed analytics as Sigma through Kafka: `npm run demo`'s scenario, normalized, on a 6-partition
// events topic, and one detector with RULES_DIR=shared/rules/sigma-seeds, so the built-ins and their Sigma
// forms run side by side on the same records, through the detector's projected decode (the Sigma forms
// read winlog.event_data, zeek.fields and ECS names such as file.Ext.header_bytes), restore points and
// one transaction per batch. Per seed, the committed Sigma alerts have the built-in's evidence, but for the
// service-creation alerts a sliding hour does not repeat (test/unit/sigma-seeds.test.ts checks each of
// those in embedded mode; here the counts must be the same as there).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '@sequor/detector';
import { createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { createLogger } from '@sequor/kafka';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { Alert } from '@sequor/rules';
import {
  consumeAllCommitted,
  decodeAlert,
  laterNormalizedEventOnEveryPartition,
  repoRoot,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';
import { normalizedScenario } from '../../services/detector/test/support/scenario.js';

const PARTITIONS = 6;
const SEEDS_DIR = path.join(repoRoot, 'shared/rules/sigma-seeds');
/** `npm run demo`'s scenario (services/cli/src/demo.ts). */
const DEMO = { seed: 7, events: 40_000, scenarios: 3, late: 0.002 } as const;

/** Per seed: the built-in rule's id, its Sigma form's id, and the alerts each raises on the demo. */
const SEEDS = [
  {
    slug: 'car-2014-11-005-remote-registry',
    builtin: 'dc985e9a-0bd4-4c6c-8141-dcb771529846',
    sigma: '5fc46ff7-c961-4b3d-934d-ba55e0c1255f',
    counts: [7, 7],
  },
  {
    slug: 'splunk-windows-service-creation-using-registry-entry',
    builtin: '25212358-948e-11ec-ad47-acde48001122',
    sigma: 'f08a1761-6529-483a-ac4b-676e2993344e',
    counts: [20, 17],
  },
  {
    slug: 'elastic-potential-remote-credential-access-via-registry',
    builtin: '850d901a-2a3c-46c6-8b22-55398a01aad8',
    sigma: 'be7a2cbd-3a62-456b-8170-c3bbda0dad1b',
    counts: [4, 4],
  },
  {
    slug: 'splunk-remcos-client-registry-install-entry',
    builtin: 'f2a1615a-1d63-11ec-97d2-acde48001122',
    sigma: '18c25d29-94ac-4780-804c-1e4a3b43a40a',
    counts: [3, 3],
  },
] as const;

const evidenceOf = (alert: Alert): string =>
  alert.evidence
    .map((e) => e.event_id)
    .sort()
    .join(' ');

describe('the seed analytics as Sigma, through Kafka', () => {
  let kit: KafkaTestKit;
  let detector: Detector | undefined;
  let alerts: Alert[];

  beforeAll(async () => {
    kit = await KafkaTestKit.connect();
    const scenario = normalizedScenario(DEMO, PARTITIONS);
    const events = await kit.createTopic('sigma-seeds-events', { partitions: PARTITIONS });
    const alertsTopic = await kit.createTopic('sigma-seeds-alerts', { partitions: 3 });
    const late = await kit.createTopic('sigma-seeds-late');
    const dead = await kit.createTopic('sigma-seeds-dead');
    const group = uniqueGroup('sigma-seeds-detector');
    detector = createDetector(
      detectorConfigFromEnv({
        KAFKA_BROKERS: kit.config.brokers.join(','),
        DETECTOR_INPUT_TOPICS: events,
        ALERTS_TOPIC: alertsTopic,
        LATE_EVENTS_TOPIC: late,
        DEAD_LETTER_TOPIC: dead,
        DETECTOR_GROUP_ID: group,
        RULES_DIR: SEEDS_DIR,
        // `sequor detect`'s grace for files; history, so no idle-partition clock (README, "Quiet partitions").
        ALLOWED_LATENESS_MS: '60000',
        IDLE_PARTITION_MS: '0',
      }),
      { logger: createLogger('e2e', { level: 'error' }) },
    );
    await detector.start();
    const records = scenario.records;
    const lastTime = records.reduce((max, r) => Math.max(max, r.eventTime), 0);
    const clock = laterNormalizedEventOnEveryPartition(PARTITIONS, new Date(lastTime + 3_600_000));
    for (let i = 0; i < records.length; i += 5_000)
      await kit.produceAll(
        events,
        records.slice(i, i + 5_000).map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      );
    await kit.produceAll(
      events,
      clock.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    );
    await waitForGroupAtEnd(kit.admin, group, events, 240_000);
    alerts = (await consumeAllCommitted(kit.client, kit.admin, alertsTopic, 60_000)).map((r) =>
      decodeAlert(r.value),
    );
  }, 300_000);

  afterAll(async () => {
    await detector?.stop();
    await kit?.close();
  });

  it('runs only the built-ins and the Sigma forms (the correlated rules raise nothing of their own)', () => {
    const ids = new Set<string>(SEEDS.flatMap((s) => [s.builtin, s.sigma]));
    expect(alerts.filter((a) => !ids.has(a.rule.id)).map((a) => a.rule.name)).toEqual([]);
  });

  for (const seed of SEEDS) {
    it(`${seed.slug}: the Sigma form's alerts are the built-in's, as in embedded mode`, () => {
      const builtin = new Set(alerts.filter((a) => a.rule.id === seed.builtin).map(evidenceOf));
      const sigma = alerts.filter((a) => a.rule.id === seed.sigma).map(evidenceOf);
      expect([builtin.size, sigma.length]).toEqual(seed.counts);
      expect(sigma.filter((e) => !builtin.has(e))).toEqual([]);
    });
  }
});
