/**
 * Alert latency (issue 12, target 5): closing evidence produced → alert committed, at half of the
 * detector's maximum throughput measured in this run (the detector-broker path's figure; measured here
 * when that path did not run), with allowed lateness 0 and with the default.
 *
 * A generated scenario's normalized events are produced to a 6-partition topic at that rate in 50 ms
 * slices, each record stamped with the wall-clock time it is sent; the detector service (in process, four
 * built-in rules, exactly once) reads them; a read_committed consumer notes when each alert becomes
 * visible. An alert's latency is that moment minus the send time of its last-sent evidence event.
 * The scenario keeps the generator's event-time rate (20 events/s), so event time runs faster than wall
 * time by rate/20 (in the detail): windows and lateness measured in event time pass that much sooner.
 */
import { ALERT_HEADERS, createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { headerString, KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import { decodeAlert } from '../../../services/detector/test/support/e2e.js';
import type { ScenarioRecord } from '../../../services/detector/test/support/scenario.js';
import { normalizedScenario } from '../../../services/detector/test/support/scenario.js';
import type { BenchContext, BenchRow } from '../harness.js';
import { judge, percentile, round } from './_measure.js';
import { quietLogger } from './_kafka.js';
import { EVENT_PARTITIONS, measuredDetectorRate, run as runDetectorBroker } from './detector-broker.js';

export const id = 'latency';
export const needsBroker = true;

const TARGET_P99_MS = 250;
/** The generator's default spacing of event time (events per second of event time). */
const SCENARIO_EVENT_RATE = 20;
const SLICE_MS = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const brokers = ctx.brokers;
  if (brokers === undefined) return [];
  if (measuredDetectorRate === undefined) {
    ctx.log('measuring the detector throughput first (detector-broker did not run)');
    await runDetectorBroker(ctx);
  }
  const maxRate = measuredDetectorRate ?? 2_000;
  const rate = Math.max(100, Math.round(maxRate / 2));
  const events = ctx.quick ? 3_000 : Math.max(20_000, Math.min(120_000, rate * 15));
  const scenario = normalizedScenario({ seed: 5, events, scenarios: ctx.quick ? 2 : 15 }, EVENT_PARTITIONS);
  ctx.log(`${scenario.records.length} events offered at ${rate} events/s (half of ${round(maxRate)})`);
  const rows: BenchRow[] = [];
  for (const lateness of [0, undefined] as const) {
    rows.push(await measure(ctx, brokers, scenario.records, rate, maxRate, lateness));
  }
  return rows;
}

async function measure(
  ctx: BenchContext,
  brokers: string,
  records: readonly ScenarioRecord[],
  rate: number,
  maxRate: number,
  latenessMs: number | undefined,
): Promise<BenchRow> {
  const logger = quietLogger();
  const kit = await KafkaTestKit.connect({ brokers: brokers.split(','), logger });
  const watcher = kit.client.consumer({ groupId: uniqueGroup('bench-alert-watcher'), maxWaitTimeInMs: 10 });
  const groupId = uniqueGroup('bench-latency-detector');
  const config = detectorConfigFromEnv({
    KAFKA_BROKERS: brokers,
    DETECTOR_INPUT_TOPICS: await kit.createTopic('bench-latency-events', { partitions: EVENT_PARTITIONS }),
    ALERTS_TOPIC: await kit.createTopic('bench-latency-alerts', { partitions: EVENT_PARTITIONS }),
    LATE_EVENTS_TOPIC: uniqueTopic('bench-latency-late'),
    DEAD_LETTER_TOPIC: uniqueTopic('bench-latency-dead'),
    DETECTOR_GROUP_ID: groupId,
    LOG_LEVEL: 'error',
    ...(latenessMs === undefined ? {} : { ALLOWED_LATENESS_MS: String(latenessMs) }),
  });
  const eventsTopic = config.inputTopics[0]!;
  let assigned = false;
  const detector = createDetector(config, {
    logger,
    telemetry: { partitionsAssigned: (assignment) => (assigned ||= assignment.length > 0) },
  });
  try {
    await detector.start();
    const visibleAt = new Map<string, number>();
    await watcher.connect();
    await watcher.subscribe({ topics: [config.alertsTopic], fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        visibleAt.set(headerString(message.headers, ALERT_HEADERS.alertId) ?? '', Date.now());
      },
    });
    // Wait for the detector to own its partitions before the clock starts (group join is not latency).
    await waitFor(() => assigned, 120_000, 'the detector to be assigned its partitions');

    const sentAt = new Map<string, number>();
    const perSlice = Math.max(1, Math.round((rate * SLICE_MS) / 1000));
    const start = performance.now();
    for (let i = 0; i < records.length; i += perSlice) {
      const due = start + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const now = Date.now();
      const slice = records.slice(i, i + perSlice);
      for (const r of slice) sentAt.set(r.eventId, now);
      await kit.produceAll(
        eventsTopic,
        slice.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: now })),
      );
    }
    const offeredRate = (records.length / (performance.now() - start)) * 1000;
    await waitFor(
      () => detector.counters().records >= records.length,
      600_000,
      'the detector to read every event',
    );
    // Alerts that wait for stream time (windows, lateness) come when the idle-partition rule moves it,
    // or never in this run without it: give them a few seconds, then take what is visible.
    await waitFor(
      () => visibleAt.size >= detector.counters().alerts,
      10_000 + (latenessMs ?? config.allowedLatenessMs),
      '',
    ).catch(() => undefined);
    const alerts = await kit.consumeUntil(config.alertsTopic, visibleAt.size, { timeoutMs: 60_000 });

    const latencies: number[] = [];
    const byRule = new Map<string, number[]>();
    for (const record of alerts) {
      const alert = decodeAlert(record.value);
      const closing = Math.max(...alert.evidence.map((e) => sentAt.get(e.event_id) ?? Number.NaN));
      const seen = visibleAt.get(alert.alert.id);
      if (seen === undefined || !Number.isFinite(closing)) continue;
      latencies.push(seen - closing);
      const rule = headerString(record.headers, ALERT_HEADERS.ruleId) ?? 'unknown';
      let list = byRule.get(rule);
      if (list === undefined) byRule.set(rule, (list = []));
      list.push(seen - closing);
    }
    const p99 = percentile(latencies, 99);
    const label = latenessMs === undefined ? `default (${config.allowedLatenessMs} ms)` : `${latenessMs} ms`;
    ctx.log(
      `lateness ${label}: ${latencies.length} alerts, p50 ${round(percentile(latencies, 50))} ms, p99 ${round(p99)} ms`,
    );
    return {
      id: `latency.lateness-${latenessMs === undefined ? 'default' : String(latenessMs)}`,
      path: `detector, closing evidence produced → alert visible read_committed, p99, allowed lateness ${label}, ${round(rate)} events/s offered`,
      figure: round(p99, 1),
      unit: 'ms',
      target: 'p99 < 250 ms',
      met: judge(ctx.quick, latencies.length > 0 && p99 < TARGET_P99_MS),
      detail: {
        p50Ms: round(percentile(latencies, 50), 1),
        p90Ms: round(percentile(latencies, 90), 1),
        maxMs: round(Math.max(...latencies), 1),
        alertsMeasured: latencies.length,
        alertsRaised: detector.counters().alerts,
        offeredEventsPerSecond: round(offeredRate),
        detectorMaxEventsPerSecond: round(maxRate),
        eventTimeSpeedup: round(offeredRate / SCENARIO_EVENT_RATE),
        allowedLatenessMs: config.allowedLatenessMs,
        ...Object.fromEntries(
          [...byRule].map(([rule, values]) => [
            `p99Ms.${rule.slice(0, 8)}`,
            round(percentile(values, 99), 1),
          ]),
        ),
      },
    };
  } finally {
    await watcher.disconnect().catch(() => undefined);
    await detector.stop();
    await kit.close();
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
