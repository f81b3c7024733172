// The group scenario of the scaling e2e tests (test/e2e/scaling-detector*.test.ts), with the built service
// as operators run it: three detector processes (`node services/detector/dist/main.js`) share a 6-partition
// normalized topic fed at a controlled rate with a generated stream; one is SIGKILLed mid-stream, later a
// fourth joins. Beside them one detector in this process, its own group and output topics, never disturbed:
// the reference. Each test says what the detectors run (rules, outputs) and compares what both committed.
import { expect } from 'vitest';
import type { Detector } from '@sequor/detector';
import { ALERT_HEADERS, createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { createLogger } from '@sequor/kafka';
import type { KafkaTestKit } from '@sequor/kafka/testing';
import { headerString, uniqueGroup } from '@sequor/kafka/testing';
import type { CommittedRecord } from '../../../services/detector/test/support/e2e.js';
import {
  consumeAllCommitted,
  laterNormalizedEventOnEveryPartition,
  waitForGroupAtEnd,
} from '../../../services/detector/test/support/e2e.js';
import {
  DetectorProcess,
  groupOwnsAll,
  requireFreshBuild,
  waitUntil,
} from '../../../services/detector/test/support/process.js';
import type { NormalizedScenario } from '../../../services/detector/test/support/scenario.js';
import { normalizedScenario } from '../../../services/detector/test/support/scenario.js';

export const SCALING_PARTITIONS = 6;
/** Offered input rate: the whole stream takes ~45 s to feed, so the failure and the join land inside it. */
const FEED_PER_SECOND = 4_500;
const FEED_CHUNK = 1_500;
/** Where in the stream (share of its records produced) one member is SIGKILLed, and a fourth joins. */
export const KILL_AT = 0.4;
export const JOIN_AT = 0.7;

/** The bounded waits of `run` (they fit the test timeout below with room for the test's own checks). */
const FORM_MS = 90_000;
const READY_MS = 10_000;
const AT_END_MS = 240_000;
const READ_MS = 60_000;
/** A scaling test's timeout: its run's waits at their worst (~8 min with the feed) and the test's own checks. */
export const SCALING_TEST_TIMEOUT_MS = 600_000;

/**
 * The stream every scaling test feeds: 200,000 events, 5.6 hours of event time (10 events/s), longer than
 * the restore horizon (2 h + grace), so a takeover late in the stream replays from a restore point inside
 * it; 80 instances per scenario rule: an attack every minute. Slow to build: call it in `beforeAll`.
 */
export function scalingStream(): NormalizedScenario {
  return normalizedScenario({ seed: 2024, events: 200_000, rate: 10, scenarios: 80 }, SCALING_PARTITIONS);
}

export interface ScalingOptions {
  /** Prefix of the topics, groups and client id (`scaling`, `suppress`, ...). */
  readonly name: string;
  readonly stream: NormalizedScenario;
  /** Detector variables besides topics, group and timing (RULES_DIR, RULES_BUILTINS, DETECTOR_STRICT, ...). */
  readonly detectorEnv?: Readonly<Record<string, string>>;
  /** Whether the detectors also write suppression updates (ALERT_UPDATES_TOPIC), the group and the reference each to its own topic. */
  readonly alertUpdates?: boolean;
}

/** What the group and the reference committed to one of their outputs. */
export interface Committed {
  readonly group: readonly CommittedRecord[];
  readonly reference: readonly CommittedRecord[];
}

export interface ScalingRun {
  /** The normalized topic both read. */
  readonly events: string;
  readonly group: string;
  /** Every member ever started, in start order: the first three, then the joiner. */
  readonly processes: readonly DetectorProcess[];
  /** The SIGKILLed member (the one of the three that owned the most partitions then) and what it owned. */
  readonly victim: DetectorProcess;
  readonly victimPartitions: readonly number[];
  /** Each of the first three members' log length at the kill: its lines from there on came after it. */
  readonly logsAtKill: ReadonlyMap<DetectorProcess, number>;
  /** The fourth member; it got work (a partition restored and live). */
  readonly joiner: DetectorProcess;
  readonly feedSeconds: number;
  /** Every committed record (read_committed, no dedup) of the group's and the reference's alerts. */
  readonly alerts: Committed;
  /** The same for their suppression updates (with `alertUpdates`; otherwise empty). */
  readonly updates: Committed;
}

/**
 * Runs the scenario and holds what it starts. Create one per test file and call `stop()` in `afterAll`
 * (before the kit's `close()` deletes the topics): the members are reachable from the moment they start,
 * so they are killed whether `run` returned, threw, or was cut off by the test's timeout.
 */
export class ScalingScenario {
  private readonly started: DetectorProcess[] = [];
  private reference: Detector | undefined;
  private stopped = false;

  async run(kit: KafkaTestKit, options: ScalingOptions): Promise<ScalingRun> {
    requireFreshBuild();
    const { name, stream } = options;
    const events = await kit.createTopic(`${name}-events`, { partitions: SCALING_PARTITIONS });
    const output = async (kind: string) => ({
      group: await kit.createTopic(`${name}-${kind}`, { partitions: SCALING_PARTITIONS }),
      reference: await kit.createTopic(`${name}-single-${kind}`, { partitions: SCALING_PARTITIONS }),
    });
    const alerts = await output('alerts');
    const updates = options.alertUpdates === true ? await output('updates') : undefined;
    const group = uniqueGroup(`${name}-detector`);
    const env = {
      ...options.detectorEnv,
      KAFKA_BROKERS: kit.config.brokers.join(','),
      KAFKA_CLIENT_ID: `${name}-test`,
      DETECTOR_INPUT_TOPICS: events,
      ALERTS_TOPIC: alerts.group,
      ...(updates === undefined ? {} : { ALERT_UPDATES_TOPIC: updates.group }),
      LATE_EVENTS_TOPIC: await kit.createTopic(`${name}-late`, { partitions: 1 }),
      DEAD_LETTER_TOPIC: await kit.createTopic(`${name}-dead`, { partitions: 1 }),
      DETECTOR_GROUP_ID: group,
      // A dead member's partitions move after this; the broker's minimum is 6 s.
      DETECTOR_SESSION_TIMEOUT_MS: '10000',
      // A minute of grace (as `sequor detect` uses for files): most moments of the stream then have an
      // alert pending, so moves land inside attacks (60 % of offsets here, measured in memory).
      ALLOWED_LATENESS_MS: '60000',
      LOG_LEVEL: 'info',
    };
    const members = [
      this.spawn('detector-1', env),
      this.spawn('detector-2', env),
      this.spawn('detector-3', env),
    ];
    const referenceGroup = uniqueGroup(`${name}-single`);
    this.reference = createDetector(
      detectorConfigFromEnv({
        ...env,
        ALERTS_TOPIC: alerts.reference,
        ...(updates === undefined ? {} : { ALERT_UPDATES_TOPIC: updates.reference }),
        DETECTOR_GROUP_ID: referenceGroup,
        LOG_LEVEL: 'error',
      }),
      { logger: createLogger('single', { level: 'error' }) },
    );
    await this.reference.start();
    // The group is formed when the three own all six partitions between them.
    await waitUntil(
      () => groupOwnsAll(members, SCALING_PARTITIONS),
      FORM_MS,
      () =>
        `the group did not form: ${members.map((p) => `${p.name} ${p.assignment.join(',')}\n${p.tail(5)}`).join('\n')}`,
    );
    // Each member's /readyz: ready once its partitions' state is restored (empty here: a fresh group).
    for (const p of members) {
      let r = await p.readyz();
      for (let waited = 0; waited < READY_MS && r.status !== 200; waited += 100)
        r = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => p.readyz());
      expect([p.name, r.status, r.text]).toEqual([
        p.name,
        200,
        `ready: ${p.assignment.length} partitions assigned, state restored`,
      ]);
    }

    // Feed the stream at a controlled rate; kill one member at KILL_AT, start a fourth at JOIN_AT.
    const records = stream.records;
    const lastTime = records.reduce((max, r) => Math.max(max, r.eventTime), 0);
    const clock = laterNormalizedEventOnEveryPartition(SCALING_PARTITIONS, new Date(lastTime + 3_600_000));
    const started = performance.now();
    let victim: DetectorProcess | undefined;
    let victimPartitions: number[] = [];
    let logsAtKill = new Map<DetectorProcess, number>();
    let joiner: DetectorProcess | undefined;
    for (let i = 0; i < records.length; i += FEED_CHUNK) {
      const wait = started + (i / FEED_PER_SECOND) * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Cut off by the test's timeout: `stop()` ran, the kit is closing; feed nothing more.
      if (this.stopped) throw new Error('scaling scenario stopped mid-feed');
      await kit.produceAll(
        events,
        records.slice(i, i + FEED_CHUNK).map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      );
      if (victim === undefined && i >= records.length * KILL_AT) {
        victim = [...members].sort((x, y) => y.assignment.length - x.assignment.length)[0]!;
        victimPartitions = victim.assignment;
        logsAtKill = new Map(members.map((p) => [p, p.logs.length]));
        victim.kill('SIGKILL');
      }
      if (joiner === undefined && i >= records.length * JOIN_AT) joiner = this.spawn('detector-4', env);
    }
    await kit.produceAll(
      events,
      clock.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    );
    const feedSeconds = (performance.now() - started) / 1000;
    if (victim === undefined || joiner === undefined)
      throw new Error('the stream ended before the kill or the join');

    await Promise.all([
      waitForGroupAtEnd(kit.admin, group, events, AT_END_MS),
      waitForGroupAtEnd(kit.admin, referenceGroup, events, AT_END_MS),
    ]);
    // The failure was a SIGKILL (no exit code), and the fourth member got work.
    expect(await victim.exited).toBeNull();
    await joiner.waitForLog((l) => l.msg === 'partition restored: live', READY_MS);

    const read = async (topics: { group: string; reference: string } | undefined): Promise<Committed> => {
      if (topics === undefined) return { group: [], reference: [] };
      const [groupRecords, referenceRecords] = await Promise.all([
        consumeAllCommitted(kit.client, kit.admin, topics.group, READ_MS),
        consumeAllCommitted(kit.client, kit.admin, topics.reference, READ_MS),
      ]);
      return { group: groupRecords, reference: referenceRecords };
    };
    const [alertsCommitted, updatesCommitted] = await Promise.all([read(alerts), read(updates)]);
    return {
      events,
      group,
      processes: [...this.started],
      victim,
      victimPartitions,
      logsAtKill,
      joiner,
      feedSeconds,
      alerts: alertsCommitted,
      updates: updatesCommitted,
    };
  }

  /** SIGKILLs every member still running and stops the reference; a `run` still going starts nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.started) p.kill('SIGKILL');
    await Promise.all(this.started.map((p) => p.exited));
    await this.reference?.stop();
  }

  private spawn(name: string, env: Readonly<Record<string, string>>): DetectorProcess {
    if (this.stopped) throw new Error(`scaling scenario stopped: ${name} not started`);
    const p = new DetectorProcess(name, env);
    this.started.push(p);
    return p;
  }
}

/** The alert id a committed alert record carries in its header. */
export function alertIdOf(record: CommittedRecord): string {
  return headerString(record.headers, ALERT_HEADERS.alertId) ?? '';
}

/** `key` -> how many of the records carry it. */
export function tally(
  records: readonly CommittedRecord[],
  keyOf: (r: CommittedRecord) => string,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const key = keyOf(r);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The group's tally against the reference's: keys it lacks, keys it has besides, keys it has twice or more. */
export function compareTallies(
  reference: ReadonlyMap<string, number>,
  group: ReadonlyMap<string, number>,
): { missing: string[]; extra: string[]; duplicate: string[] } {
  return {
    missing: [...reference.keys()].filter((k) => !group.has(k)),
    extra: [...group.keys()].filter((k) => !reference.has(k)),
    duplicate: [...group].filter(([, n]) => n > 1).map(([k]) => k),
  };
}

/** How many records a tally counts. */
export function recordCount(counts: ReadonlyMap<string, number>): number {
  return [...counts.values()].reduce((s, n) => s + n, 0);
}
