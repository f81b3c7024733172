// Observability through the real services on the real broker. A generated secretsdump-style scenario
// (Elastic "Potential Remote Credential Access via Registry": a network logon, then svchost writing a
// hive file) is shipped to raw topics with a shipper span per record; the normalizer and the detector
// run in this process on one telemetry with an in-memory span exporter. Every alert's span must link to
// the detector's spans of both evidence events, each in the trace of its raw record's shipper span
// (through normalizer process -> normalizer send -> detector process); /metrics must count exactly
// the records each service processed. Then a second detector of the same group takes the now quiet
// partitions over: /readyz stays 503 until their state is restored from the committed restore points.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector, DetectorConfig, ReadinessState, RestoreSummary } from '@sequor/detector';
import { createDetector, detectorConfigFromEnv, detectorTelemetry } from '@sequor/detector';
import { createLogger } from '@sequor/kafka';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import type { Alert } from '@sequor/rules';
import type { GroundTruth, RuleSlug } from '@sequor/scenarios';
import { DEFAULT_START, SCENARIO_FILES, writeScenario } from '@sequor/scenarios';
import type { SpanContext, Telemetry } from '@sequor/telemetry';
import type { ReadableSpan } from '@sequor/telemetry/testing';
import { parsePrometheus, sampleValue, startTestTelemetry } from '@sequor/telemetry/testing';
import {
  consumeAllCommitted,
  decodeAlert,
  laterEventOnEveryPartition,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';

const PARTITIONS = 3;
const RULE: RuleSlug = 'elastic-potential-remote-credential-access-via-registry';
const RULE_NAME = 'Potential Remote Credential Access via Registry';
/**
 * The normalizer interleaves its raw topics as it likes, so events reach the detector up to the whole
 * input's event-time span (10 min 18 s for this seed: the attacks stretch it) out of order: a grace well
 * above that keeps every one on time, whatever the interleaving.
 */
const LATENESS_MS = 1_800_000;
/** After every event by more than the grace: it releases everything the engine holds. */
const CLOCK_AT = Date.parse(DEFAULT_START) + 3 * 3_600_000;
/** The JSON files of the scenario (the Zeek file carries only noise for this rule). */
const FILES = [SCENARIO_FILES.winlogbeat, SCENARIO_FILES.endpoint, SCENARIO_FILES.flatWindows] as const;
const FORMATS: Record<(typeof FILES)[number], string> = {
  [SCENARIO_FILES.winlogbeat]: 'winlogbeat',
  [SCENARIO_FILES.endpoint]: 'ecs',
  [SCENARIO_FILES.flatWindows]: 'flat-windows',
};

const logger = createLogger('e2e', { level: 'error' });
let kit: KafkaTestKit;
let dir: string;
let telemetry: Telemetry | undefined;
let normalizer: Normalizer | undefined;
let detector: Detector | undefined;
/** Shared by the two tests: the second detector joins the first one's group. */
let detectorConfig: DetectorConfig;
let alertsTopic: string;

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
  dir = await mkdtemp(path.join(tmpdir(), 'sequor-telemetry-services-'));
});

afterAll(async () => {
  await detector?.stop();
  await normalizer?.stop();
  await telemetry?.shutdown();
  await kit?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function get(port: number, route: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${route}`);
  return { status: response.status, text: await response.text() };
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('telemetry through the normalizer and the detector', () => {
  it('links each alert to its evidence events through every hop, and /metrics counts what was processed', async () => {
    const started = await startTestTelemetry('sequor-e2e');
    telemetry = started.telemetry;
    const exporter = started.exporter;
    const port = telemetry.port;
    expect((await get(port, '/readyz')).status).toBe(503);

    await writeScenario(dir, {
      seed: 29,
      events: 1_500,
      hosts: 6,
      users: 12,
      scenarios: {
        [RULE]: 2,
        'car-2014-11-005-remote-registry': 0,
        'splunk-windows-service-creation-using-registry-entry': 0,
        'splunk-remcos-client-registry-install-entry': 0,
      },
    });
    const truth = JSON.parse(
      await readFile(path.join(dir, SCENARIO_FILES.groundTruth), 'utf8'),
    ) as GroundTruth;
    const expected = truth.alerts.filter((a) => a.rule === RULE);
    expect(expected.length).toBeGreaterThanOrEqual(2);

    const rawTopics = await Promise.all(FILES.map((f) => kit.createTopic(`raw-${FORMATS[f]}`)));
    const normalized = await kit.createTopic('events', { partitions: PARTITIONS });
    alertsTopic = await kit.createTopic('alerts');
    const late = await kit.createTopic('late');
    const dead = await kit.createTopic('dead');
    const brokers = kit.config.brokers.join(',');
    const normalizerGroup = uniqueGroup('tel-normalizer');
    normalizer = createNormalizer(
      normalizerConfigFromEnv({
        KAFKA_BROKERS: brokers,
        NORMALIZER_SOURCES: FILES.map((f, i) => `${FORMATS[f]}:${rawTopics[i]}`).join(','),
        NORMALIZED_TOPIC: normalized,
        DEAD_LETTER_TOPIC: dead,
        NORMALIZER_GROUP_ID: normalizerGroup,
        NORMALIZED_PARTITIONS: String(PARTITIONS),
      }),
      { logger, telemetry },
    );
    await normalizer.start();
    // The normalizer has no state to restore: ready once it owns its partitions.
    const normalizerReady = await waitUntil('the normalizer to be ready', async () => {
      const r = await get(port, '/readyz');
      return r.status === 200 ? r.text.trim() : undefined;
    });
    expect(normalizerReady).toBe(`ready: ${FILES.length} partitions assigned`);

    detectorConfig = detectorConfigFromEnv({
      KAFKA_BROKERS: brokers,
      DETECTOR_INPUT_TOPICS: normalized,
      ALERTS_TOPIC: alertsTopic,
      LATE_EVENTS_TOPIC: late,
      DEAD_LETTER_TOPIC: dead,
      DETECTOR_GROUP_ID: uniqueGroup('tel-detector'),
      ALLOWED_LATENESS_MS: String(LATENESS_MS),
    });
    detector = createDetector(detectorConfig, {
      logger,
      telemetry: detectorTelemetry(telemetry, detectorConfig),
    });
    await detector.start();

    // The shipper: a send span per raw record, its context in the record's headers.
    const shipped = new Map<string, SpanContext>();
    const produced = FILES.map(() => 0);
    const ship = async (i: number, lines: readonly string[]): Promise<void> => {
      const records = lines.map((line) => {
        const headers = {};
        const span = telemetry!.tracing.startSend(rawTopics[i]!, null, headers);
        span.end();
        shipped.set(`${rawTopics[i]}@${produced[i]!++}`, span.spanContext());
        return { key: null, value: Buffer.from(line), headers };
      });
      // In slices: one producer batch must stay under the broker's max message size.
      for (let from = 0; from < records.length; from += 200)
        await kit.produceAll(rawTopics[i]!, records.slice(from, from + 200));
    };
    for (const [i, file] of FILES.entries())
      await ship(
        i,
        (await readFile(path.join(dir, file), 'utf8')).split('\n').filter((l) => l !== ''),
      );
    for (const t of rawTopics) await waitForGroupAtEnd(kit.admin, normalizerGroup, t, 60_000);
    // Then stream time moves on on every partition (a live host keeps logging), releasing what waits.
    await ship(
      FILES.indexOf(SCENARIO_FILES.flatWindows),
      laterEventOnEveryPartition(PARTITIONS, new Date(CLOCK_AT)),
    );
    for (const t of rawTopics) await waitForGroupAtEnd(kit.admin, normalizerGroup, t, 60_000);
    await waitForGroupAtEnd(kit.admin, detectorConfig.groupId, normalized, 120_000);

    const alerts: Alert[] = (await consumeAllCommitted(kit.client, kit.admin, alertsTopic, 30_000)).map((r) =>
      decodeAlert(r.value),
    );
    const raised = alerts.filter((a) => a.rule.name === RULE_NAME);
    expect(detector.counters().lateEvents).toBe(0);
    expect(raised.length).toBe(expected.length);
    expect(alerts.length).toBe(raised.length);

    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (span: ReadableSpan): ReadableSpan => {
      const parent = byId.get(span.parentSpanContext?.spanId ?? '');
      if (parent === undefined) throw new Error(`${span.name} has no recorded parent`);
      return parent;
    };
    for (const alert of raised) {
      expect(alert.trace_id).toMatch(/^[0-9a-f]{32}$/);
      const alertSpan = spans.find(
        (s) => s.name.startsWith('alert ') && s.spanContext().traceId === alert.trace_id,
      )!;
      expect(alertSpan.attributes['sequor.alert.id']).toBe(alert.alert.id);
      expect(alertSpan.links).toHaveLength(2);
      for (const [i, link] of alertSpan.links.entries()) {
        const evidence = alert.evidence[i]!;
        expect(link.attributes?.['sequor.evidence.event_id']).toBe(evidence.event_id);
        const shipper = shipped.get(`${evidence.origin.topic}@${evidence.origin.offset}`)!;
        expect(shipper).toBeDefined();
        // The link opens the detector's process span of the event, in the raw record's trace ...
        expect(link.context.traceId).toBe(shipper.traceId);
        const detectorProcess = byId.get(link.context.spanId)!;
        expect(detectorProcess.name).toBe(`process ${normalized}`);
        expect(detectorProcess.attributes['messaging.consumer.group.name']).toBe(detectorConfig.groupId);
        // ... a child of the normalizer's send span, a child of its process span of the raw record,
        // a child of the shipper's span.
        const normalizerSend = parentOf(detectorProcess);
        expect(normalizerSend.name).toBe(`send ${normalized}`);
        const normalizerProcess = parentOf(normalizerSend);
        expect(normalizerProcess.name).toBe(`process ${evidence.origin.topic}`);
        expect(normalizerProcess.attributes['messaging.kafka.offset']).toBe(evidence.origin.offset);
        expect(normalizerProcess.parentSpanContext?.spanId).toBe(shipper.spanId);
      }
      // The two evidence events came from two raw records: two traces.
      expect(new Set(alertSpan.links.map((l) => l.context.traceId)).size).toBe(2);
    }

    // /metrics: what each service processed, as the broker and the services count it.
    const samples = parsePrometheus((await get(port, '/metrics')).text);
    const counters = normalizer.counters();
    FILES.forEach((_, i) =>
      expect(sampleValue(samples, 'sequor_records_in_total', { topic: rawTopics[i]! })).toBe(produced[i]),
    );
    const normalizedEnd = (await kit.admin.fetchTopicOffsets(normalized)).reduce(
      (n, o) => n + Number(o.high),
      0,
    );
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: normalized })).toBe(normalizedEnd);
    expect(sampleValue(samples, 'sequor_records_in_total', { topic: normalized })).toBe(
      detector.counters().records,
    );
    expect(detector.counters().records).toBe(normalizedEnd);
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: alertsTopic })).toBe(alerts.length);
    expect(sampleValue(samples, 'sequor_alerts_total', { rule: RULE_NAME })).toBe(raised.length);
    expect(sampleValue(samples, 'sequor_alert_latency_count', { rule: RULE_NAME })).toBe(raised.length);
    const deadLettered = samples
      .filter((s) => s.name === 'sequor_dead_letters_total')
      .reduce((n, s) => n + s.value, 0);
    expect(deadLettered).toBe(
      Object.values(counters.deadLettersByReason).reduce((n: number, v) => n + (v ?? 0), 0),
    );
    for (let p = 0; p < PARTITIONS; p++)
      expect(sampleValue(samples, 'sequor_consumer_lag', { topic: normalized, partition: String(p) })).toBe(
        0,
      );

    await detector.stop();
    await normalizer.stop();
    await telemetry.shutdown();
    detector = normalizer = telemetry = undefined;
  }, 300_000);

  it('/readyz: a new member is not ready until the state of its (quiet) partitions is restored', async () => {
    expect(detectorConfig).toBeDefined();
    await telemetry?.shutdown();
    telemetry = (await startTestTelemetry('sequor-e2e-readiness')).telemetry;
    const port = telemetry.port;
    const hooks = detectorTelemetry(telemetry, detectorConfig);
    const states: ReadinessState[] = [];
    const restores: RestoreSummary[] = [];
    detector = createDetector(detectorConfig, {
      logger,
      telemetry: {
        ...hooks,
        readinessChanged: (state) => {
          states.push(state);
          hooks.readinessChanged!(state);
        },
        restored: (summary) => restores.push(summary),
      },
    });
    expect(await get(port, '/readyz')).toEqual({ status: 503, text: 'not ready: starting\n' });
    await detector.start();
    const ready = await waitUntil('the detector to be ready', async () => {
      const r = await get(port, '/readyz');
      return r.status === 200 ? r.text.trim() : undefined;
    });
    expect(ready).toBe(`ready: ${PARTITIONS} partitions assigned, state restored`);
    // No record arrived after the takeover: the replay started on assignment, not with new traffic.
    expect(states[0]).toMatchObject({ ready: false });
    expect(states.some((s) => s.reason.startsWith('restoring '))).toBe(true);
    expect(states.at(-1)).toEqual({
      ready: true,
      reason: `${PARTITIONS} partitions assigned, state restored`,
    });
    expect(restores.length).toBeGreaterThan(0);
    expect(restores.reduce((n, r) => n + r.replayedRecords, 0)).toBeGreaterThan(0);
    expect(detector.counters()).toMatchObject({ records: 0, alerts: 0 });
    expect(detector.counters().replayedRecords).toBeGreaterThan(0);
  }, 180_000);
});
