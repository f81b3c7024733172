/**
 * Detector benchmark (a script, not a test): the detector service (in-process, one instance, the four
 * built-in rules) through a real broker, Avro events in and Avro alerts out, exactly-once transactions
 * on. Input: a generated scenario (`@sequor/scenarios`, attacks spread over the stream), normalized and
 * keyed by host as the normalizer would, onto a 6-partition topic. Prints:
 *
 * 1. sustained throughput: the whole stream produced first, then the detector started; events/s from
 *    start to the group's committed offsets reaching the end (wall and per CPU-second), transactions,
 *    memory;
 * 2. latency at a controlled input rate: per alert, from the record timestamp (produce time) of the input
 *    record whose processing raised it, and of its closing (last) evidence event, to the alert record's
 *    timestamp (its produce time inside the transaction) and to when a read_committed consumer saw it
 *    (after the commit): p50 / p99 / max.
 *
 *   npx tsx --conditions=sequor-source test/bench/detector.ts [--events 200000] [--latency-events 60000] [--rate 2000] [--tracing 0.01]
 *
 * Input records carry the traceparent the normalizer's send span sets (its upstream sampled at ratio R,
 * every 1/R-th; `--upstream-ratio R`, default 0.01), as they do in production. `--tracing on` runs the
 * detector with its telemetry on, as `main.js` does: metrics, and traces sampled parent-based (following
 * the records), spans handed to a discarding exporter through the batch processor. Default off.
 *
 * Uses KAFKA_BROKERS when set; otherwise starts a private broker with deploy/kafka/kafka.sh and stops it.
 */
import { cpus, loadavg } from 'node:os';
import type { Detector } from '@sequor/detector';
import { ALERT_HEADERS, createDetector, detectorConfigFromEnv } from '@sequor/detector';
import type { Logger } from '@sequor/kafka';
import { createLogger } from '@sequor/kafka';
import { headerString, KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { ScenarioRecord } from '../../services/detector/test/support/scenario.js';
import { normalizedScenario } from '../../services/detector/test/support/scenario.js';
import { decodeAlert, waitForGroupAtEnd } from '../../services/detector/test/support/e2e.js';
import { detectorTelemetry } from '@sequor/detector';
import type { Telemetry } from '@sequor/telemetry';
import { start as startTelemetry } from '@sequor/telemetry';
import { DiscardingSpanExporter } from '@sequor/telemetry/testing';
import { benchBroker } from '../setup/deploy-script.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const EVENTS = arg('events', 200_000);
const LATENCY_EVENTS = arg('latency-events', 60_000);
const RATE = arg('rate', 2_000);
/** Sampling ratio of the upstream traces in the input records' traceparent. */
const UPSTREAM_RATIO = arg('upstream-ratio', 0.01);
const TRACING =
  process.argv.includes('--tracing') && process.argv[process.argv.indexOf('--tracing') + 1] === 'on';
const spanSink = new DiscardingSpanExporter();
let telemetry: Telemetry | undefined;
const PARTITIONS = 6;

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const perSecond = (n: number, ms: number): string =>
  `${Math.round((n / ms) * 1000).toLocaleString('en-US')} events/s`;

interface Topics {
  readonly events: string;
  readonly alerts: string;
  readonly late: string;
  readonly dead: string;
}

async function topics(kit: KafkaTestKit, name: string): Promise<Topics> {
  return {
    events: await kit.createTopic(`bench-${name}-events`, { partitions: PARTITIONS }),
    alerts: await kit.createTopic(`bench-${name}-alerts`, { partitions: PARTITIONS }),
    late: await kit.createTopic(`bench-${name}-late`, { partitions: 1 }),
    dead: await kit.createTopic(`bench-${name}-dead`, { partitions: 1 }),
  };
}

function detectorFor(brokers: string, t: Topics, groupId: string, logger: Logger): Detector {
  const config = detectorConfigFromEnv({
    KAFKA_BROKERS: brokers,
    DETECTOR_INPUT_TOPICS: t.events,
    ALERTS_TOPIC: t.alerts,
    LATE_EVENTS_TOPIC: t.late,
    DEAD_LETTER_TOPIC: t.dead,
    DETECTOR_GROUP_ID: groupId,
    // Tuning knobs pass through, so the script can compare settings.
    ...Object.fromEntries(
      ['DETECTOR_PARTITIONS_CONCURRENTLY', 'DETECTOR_MAX_BATCH_RECORDS', 'ALLOWED_LATENESS_MS'].flatMap(
        (k) => (process.env[k] === undefined ? [] : [[k, process.env[k]]]),
      ),
    ),
  });
  return createDetector(config, {
    logger,
    ...(telemetry === undefined ? {} : { telemetry: detectorTelemetry(telemetry, config) }),
  });
}

/** The traceparent the normalizer's send span would have put on record `i`: one trace per event, every 1/ratio-th sampled. */
function upstreamTraceparent(i: number, ratio: number): string {
  const id = (i + 1).toString(16).padStart(32, '0');
  const sampled = ratio > 0 && i % Math.max(1, Math.round(1 / ratio)) === 0;
  return `00-${id}-${id.slice(16)}-${sampled ? '01' : '00'}`;
}

const toProducer = (records: readonly ScenarioRecord[]) =>
  records.map((r, i) => ({
    key: r.key,
    value: r.value,
    headers: { ...r.headers, traceparent: upstreamTraceparent(i, UPSTREAM_RATIO) },
  }));

async function throughput(kit: KafkaTestKit, brokers: string, logger: Logger): Promise<void> {
  const generated = performance.now();
  const scenario = normalizedScenario({ seed: 3, events: EVENTS, scenarios: 25 }, PARTITIONS);
  console.log(
    `scenario: ${scenario.records.length.toLocaleString('en-US')} normalized events, ${scenario.groundTruth.alerts.length} ground-truth alerts (generated and normalized in ${((performance.now() - generated) / 1000).toFixed(1)} s)`,
  );
  const t = await topics(kit, 'throughput');
  await kit.produceAll(t.events, toProducer(scenario.records));
  const groupId = uniqueGroup('bench-detector');
  const detector = detectorFor(brokers, t, groupId, logger);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await detector.start();
  await waitForGroupAtEnd(kit.admin, groupId, t.events, 30 * 60_000);
  const ms = performance.now() - start;
  const cpuMs = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000;
  const counters = detector.counters();
  const mem = process.memoryUsage();
  await detector.stop();
  console.log(
    `1. sustained throughput, backlog of ${counters.records.toLocaleString('en-US')} events, ${PARTITIONS} partitions, one detector`,
  );
  console.log(
    `   ${perSecond(counters.records, ms)} wall (${(ms / 1000).toFixed(1)} s from start to committed end, group join included)`,
  );
  console.log(
    `   ${perSecond(counters.records, cpuMs)} per CPU-second of this process (detector + the bench's own polling)`,
  );
  console.log(
    `   ${counters.alerts} alerts, ${counters.lateEvents} late, ${counters.deadLetters} dead letters, ${counters.transactions} transactions (${Math.round(counters.records / Math.max(1, counters.transactions))} events each)`,
  );
  console.log(`   memory after: heap ${mib(mem.heapUsed)}, rss ${mib(mem.rss)}`);
}

function percentiles(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `p50 ${p(0.5).toFixed(0)} ms, p99 ${p(0.99).toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms (n=${sorted.length})`;
}

async function latency(kit: KafkaTestKit, brokers: string, logger: Logger): Promise<void> {
  const scenario = normalizedScenario({ seed: 5, events: LATENCY_EVENTS, scenarios: 15 }, PARTITIONS);
  const t = await topics(kit, 'latency');
  const groupId = uniqueGroup('bench-detector-latency');
  const detector = detectorFor(brokers, t, groupId, logger);
  await detector.start();
  // A read_committed consumer notes when each alert becomes visible.
  const seen = new Map<string, number>();
  const watcher = kit.client.consumer({ groupId: uniqueGroup('bench-alert-watcher'), maxWaitTimeInMs: 50 });
  await watcher.connect();
  await watcher.subscribe({ topics: [t.alerts], fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ message }) => {
      seen.set(headerString(message.headers, ALERT_HEADERS.alertId) ?? '', Date.now());
    },
  });
  const producedAt = new Map<string, number>();
  const chunk = Math.max(1, Math.round(RATE / 20));
  const start = performance.now();
  for (let i = 0; i < scenario.records.length; i += chunk) {
    const due = start + (i / RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = Date.now();
    const slice = scenario.records.slice(i, i + chunk);
    for (const r of slice) producedAt.set(r.eventId, now);
    await kit.produceAll(
      t.events,
      toProducer(slice).map((r) => ({ ...r, timestamp: now })),
    );
  }
  const feedMs = performance.now() - start;
  await waitForGroupAtEnd(kit.admin, groupId, t.events, 10 * 60_000);
  const alerts = await kit.consumeUntil(t.alerts, detector.counters().alerts);
  await detector.stop();
  await watcher.disconnect();
  const fromTrigger: number[] = [];
  const fromClosing: number[] = [];
  const visible: number[] = [];
  for (const record of alerts) {
    const alert = decodeAlert(record.value);
    const alertTime = Number(record.timestamp);
    fromTrigger.push(alertTime - Number(headerString(record.headers, ALERT_HEADERS.triggerTimestamp)));
    const closing = producedAt.get(alert.evidence[alert.evidence.length - 1]!.event_id);
    if (closing !== undefined) fromClosing.push(alertTime - closing);
    const at = seen.get(alert.alert.id);
    if (at !== undefined)
      visible.push(at - Number(headerString(record.headers, ALERT_HEADERS.triggerTimestamp)));
  }
  console.log(
    `2. latency at ${RATE.toLocaleString('en-US')} events/s offered (${perSecond(scenario.records.length, feedMs)} achieved), ${alerts.length} alerts`,
  );
  console.log(`   trigger record produced -> alert produced:           ${percentiles(fromTrigger)}`);
  console.log(`   trigger record produced -> alert visible (committed): ${percentiles(visible)}`);
  console.log(`   closing evidence produced -> alert produced:        ${percentiles(fromClosing)}`);
  console.log(
    '   (the closing evidence of a sequence, join or span waits for the grace: 5 s of event time, which the feed compresses)',
  );
}

async function main(): Promise<void> {
  const broker = await benchBroker();
  console.log(
    `detector benchmark: ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}, broker ${broker.brokers}${broker.external ? ' (KAFKA_BROKERS)' : ' (private)'}`,
  );
  if (TRACING) {
    telemetry = await startTelemetry({
      serviceName: 'bench-detector',
      spanExporter: spanSink as never,
      spanExportMode: 'batch',
      sampler: { name: 'parentbased_traceidratio', ratio: UPSTREAM_RATIO },
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      env: {},
    });
    console.log(
      `telemetry on (parent-based), input traces sampled upstream at ${UPSTREAM_RATIO}; metrics on :${telemetry.port}`,
    );
  } else console.log(`telemetry off; input traces sampled upstream at ${UPSTREAM_RATIO}`);
  const logger = createLogger('bench', { level: 'warn' });
  const kit = await KafkaTestKit.connect({ brokers: broker.brokers.split(','), logger });
  try {
    await throughput(kit, broker.brokers, logger);
    await latency(kit, broker.brokers, logger);
  } finally {
    await kit.close();
    await broker.stop();
    if (telemetry !== undefined) {
      await telemetry.shutdown();
      console.log(`spans exported: ${spanSink.exported.toLocaleString('en-US')}`);
    }
  }
  console.log(`load average at the end ${loadavg()[0]!.toFixed(1)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
