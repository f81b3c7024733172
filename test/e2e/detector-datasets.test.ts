// The real Security-Datasets files (../shared/datasets/security-datasets) through the whole Kafka path:
// raw topic -> normalizer -> normalized topic (6 partitions) -> detector -> alerts topic. The alerts must
// be exactly the three PROVENANCE.md names, decode against schemas/alert.avsc, point at the records they
// came from, and carry the same ids as `sequor detect` (embedded: same engine, in-memory transport) on
// the same input.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandInputs, openInputs, runEmbeddedDetection } from '@sequor/cli';
import type { Detector } from '@sequor/detector';
import { ALERT_HEADERS, createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { parseSourceBindings } from '@sequor/formats';
import { createLogger, partitionFor } from '@sequor/kafka';
import type { TestRecord } from '@sequor/kafka/testing';
import { headerString, KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import { createEventCodec } from '@sequor/model';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import type { Alert } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import {
  decodeAlert,
  laterEventOnEveryPartition,
  mergeByEventTime,
  readLines,
  SECURITY_DATASET_FILES,
  securityDatasetsDir,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';

const PARTITIONS = 6;
// `sequor detect`'s default for files: the Security-Datasets files run up to 52 s behind their newest event.
const LATENESS_MS = 60_000;
const SERVICE_CREATION_RULE = '25212358-948e-11ec-ad47-acde48001122';

describe('detector on the Security-Datasets files, through Kafka', () => {
  let kit: KafkaTestKit;
  let normalizer: Normalizer | undefined;
  let detector: Detector | undefined;
  let tmp: string;
  let rawTopic: string;
  let normalizedTopic: string;
  let inputFiles: string[];
  let rawRecords: TestRecord[];
  let alertRecords: TestRecord[];
  let alerts: Alert[];
  let lateEventCount: number;

  beforeAll(async () => {
    kit = await KafkaTestKit.connect();
    tmp = await mkdtemp(path.join(tmpdir(), 'sequor-detector-e2e-'));
    const files = SECURITY_DATASET_FILES.map((f) => path.join(securityDatasetsDir, f));
    const merged = mergeByEventTime(files.map(readLines));
    const last = Math.max(
      ...merged.map((m) => Date.parse((JSON.parse(m.line) as { '@timestamp': string })['@timestamp'])),
    );
    // One hour after the last event, on every partition: stream time passes every alert's grace.
    const clock = laterEventOnEveryPartition(PARTITIONS, new Date(last + 3_600_000));
    const clockFile = path.join(tmp, 'clock.json');
    await writeFile(clockFile, `${clock.join('\n')}\n`);
    inputFiles = [...files, clockFile];

    rawTopic = await kit.createTopic('raw-flat-windows', { partitions: 1 });
    normalizedTopic = await kit.createTopic('events', { partitions: PARTITIONS });
    const alertsTopic = await kit.createTopic('alerts', { partitions: 3 });
    const lateTopic = await kit.createTopic('late', { partitions: 1 });
    const deadTopic = await kit.createTopic('dead', { partitions: 1 });
    await kit.produceAll(
      rawTopic,
      [...merged.map((m) => m.line), ...clock].map((line) => ({ key: null, value: Buffer.from(line) })),
    );

    const brokers = kit.config.brokers.join(',');
    const logger = createLogger('e2e', { level: 'error' });
    const normalizerGroup = uniqueGroup('normalizer');
    normalizer = createNormalizer(
      normalizerConfigFromEnv({
        KAFKA_BROKERS: brokers,
        NORMALIZER_SOURCES: `flat-windows:${rawTopic}`,
        NORMALIZED_TOPIC: normalizedTopic,
        DEAD_LETTER_TOPIC: deadTopic,
        NORMALIZER_GROUP_ID: normalizerGroup,
      }),
      { logger },
    );
    const detectorGroup = uniqueGroup('detector');
    detector = createDetector(
      detectorConfigFromEnv({
        KAFKA_BROKERS: brokers,
        DETECTOR_INPUT_TOPICS: normalizedTopic,
        ALERTS_TOPIC: alertsTopic,
        LATE_EVENTS_TOPIC: lateTopic,
        DEAD_LETTER_TOPIC: deadTopic,
        DETECTOR_GROUP_ID: detectorGroup,
        ALLOWED_LATENESS_MS: String(LATENESS_MS),
      }),
      { logger },
    );
    await normalizer.start();
    await detector.start();
    await waitForGroupAtEnd(kit.admin, normalizerGroup, rawTopic, 90_000);
    await waitForGroupAtEnd(kit.admin, detectorGroup, normalizedTopic, 90_000);
    const produced = detector.counters();
    alertRecords = await kit.consumeUntil(alertsTopic, produced.alerts);
    alerts = alertRecords.map((r) => decodeAlert(r.value));
    lateEventCount = produced.lateEvents;
    if (lateEventCount > 0) await kit.consumeUntil(lateTopic, lateEventCount);
    rawRecords = await kit.consumeUntil(rawTopic, merged.length + clock.length);
  }, 240_000);

  afterAll(async () => {
    await detector?.stop();
    await normalizer?.stop();
    await kit?.close();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('raises exactly the three service-creation alerts PROVENANCE.md lists, each decoding against alert.avsc', () => {
    expect(alerts).toHaveLength(3);
    expect(detector!.counters().alerts).toBe(3);
    for (const alert of alerts) {
      expect(alert.rule.id).toBe(SERVICE_CREATION_RULE);
      expect(alert.evidence).toHaveLength(1);
    }
    const seen = alerts
      .map((a) => {
        const fields = new Map(a.evidence[0]!.fields.map((f) => [f.name, f.value]));
        return {
          time: new Date(a.evidence[0]!.timestamp).toISOString(),
          host: a.entity.host.name,
          path: fields.get('registry.path'),
          data: (fields.get('registry.data.strings') as string[] | undefined)?.[0]?.slice(0, 40),
          guid: fields.get('process.entity_id'),
        };
      })
      .sort((x, y) => x.time.localeCompare(y.time));
    expect(seen).toEqual([
      {
        time: '2020-09-20T16:16:57.112Z',
        host: expect.stringMatching(/^WORKSTATION6/i),
        path: 'HKLM\\System\\CurrentControlSet\\Services\\Updater\\ImagePath',
        data: expect.stringMatching(/^%%COMSPEC%% \/C start \/b C:\\Windows\\Sys/),
        guid: '{d273d0f0-e865-5f64-0b00-000000000800}',
      },
      {
        time: '2020-10-21T08:45:33.693Z',
        host: expect.stringMatching(/^WORKSTATION5/i),
        path: 'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
        data: 'C:\\windows\\system32\\WindowsPowerShell\\v1',
        guid: '{39e4a257-f131-5f8b-0b00-000000000700}',
      },
      {
        time: '2020-10-21T08:45:41.343Z',
        host: expect.stringMatching(/^WORKSTATION5/i),
        path: 'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
        data: 'C:\\WINDOWS\\system32\\fxssvc.exe',
        guid: '{39e4a257-f131-5f8b-0b00-000000000700}',
      },
    ]);
  });

  it('keys each alert record by its host, with its id in a header', () => {
    for (const [i, record] of alertRecords.entries()) {
      const alert = alerts[i]!;
      expect(record.key?.toString()).toBe(alert.entity.host.id);
      expect(headerString(record.headers, ALERT_HEADERS.alertId)).toBe(alert.alert.id);
    }
  });

  it("points each evidence entry at the raw record it came from, and that record's event is on the normalized topic under the alert's key", async () => {
    const byOffset = new Map(rawRecords.map((r) => [Number(r.offset), r]));
    const normalize = createNormalizeProcessor({
      bindings: parseSourceBindings(`flat-windows:${rawTopic}`),
      encoder: singleObjectEventEncoder(),
    });
    const normalized = await kit.consumeUntil(normalizedTopic, detector!.counters().records);
    const codec = createEventCodec();
    const normalizedById = new Map(normalized.map((r) => [codec.decode(r.value!).event.id, r]));
    for (const [i, alert] of alerts.entries()) {
      for (const evidence of alert.evidence) {
        expect(evidence.origin).toMatchObject({ format: 'flat-windows', topic: rawTopic, partition: 0 });
        const raw = byOffset.get(evidence.origin.offset!);
        expect(raw).toBeDefined();
        const event = normalize.process({
          topic: rawTopic,
          partition: 0,
          offset: raw!.offset,
          value: raw!.value,
        }).outputs[0]!.event;
        expect(event.event.id).toBe(evidence.event_id);
        expect(event.timestamp).toBe(evidence.timestamp);
        const record = normalizedById.get(evidence.event_id);
        expect(record?.key?.toString()).toBe(alertRecords[i]!.key?.toString());
        expect(record?.partition).toBe(partitionFor(alertRecords[i]!.key!, PARTITIONS));
      }
    }
  });

  it('gives the same alert ids (and late-event count) as `sequor detect` on the same files', async () => {
    const { opened, skipped } = await openInputs(await expandInputs(inputFiles), undefined);
    expect(skipped).toEqual([]);
    const embedded: Alert[] = [];
    const rules = (await loadBuiltinRules()).map((r) => compileRule(r));
    const summary = await runEmbeddedDetection({
      inputs: opened,
      rules,
      partitions: PARTITIONS,
      allowedLatenessMs: LATENESS_MS,
      onAlert: (a) => embedded.push(a),
      clock: () => 0,
    });
    expect(new Set(alerts.map((a) => a.alert.id))).toEqual(new Set(embedded.map((a) => a.alert.id)));
    expect(embedded).toHaveLength(alerts.length);
    expect(summary.late).toBe(lateEventCount);
    // The evidence is the same events, only their origin differs (a file line there, a raw record here).
    const evidence = (list: Alert[]) =>
      new Map(list.map((a) => [a.alert.id, a.evidence.map((e) => e.event_id)]));
    expect(evidence(alerts)).toEqual(evidence(embedded));
  });
});
