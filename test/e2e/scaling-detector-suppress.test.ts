// Suppression exactly once across a SIGKILL and a rebalance (issue 15 item 1), with the built service:
// three detector processes share a 6-partition topic fed with a generated stream, every built-in rule
// also loaded as a copy with `suppress: { by: [host.id], window: 30m }`; one member is SIGKILLed
// mid-stream, later a fourth joins. The committed alerts and the committed update records (alert id and
// count) must equal those of one undisturbed detector: 0 missing, 0 duplicates, no count lost or doubled.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '@sequor/detector';
import { ALERT_HEADERS, createDetector, detectorConfigFromEnv } from '@sequor/detector';
import { createLogger } from '@sequor/kafka';
import { headerString, KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import { createAlertUpdateCodec } from '@sequor/model';
import type { CommittedRecord } from '../../services/detector/test/support/e2e.js';
import {
  consumeAllCommitted,
  laterNormalizedEventOnEveryPartition,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';
import {
  DetectorProcess,
  groupOwnsAll,
  requireFreshBuild,
  waitUntil,
} from '../../services/detector/test/support/process.js';
import type { NormalizedScenario } from '../../services/detector/test/support/scenario.js';
import { normalizedScenario } from '../../services/detector/test/support/scenario.js';

const EVENTS = 200_000;
const PARTITIONS = 6;
const FEED_PER_SECOND = 4_500;
const KILL_AT = 0.4;
const JOIN_AT = 0.7;
const updateCodec = createAlertUpdateCodec();

let kit: KafkaTestKit;
let scenario: NormalizedScenario;
let rulesDir: string;
const processes: DetectorProcess[] = [];
let single: Detector | undefined;

beforeAll(async () => {
  requireFreshBuild();
  kit = await KafkaTestKit.connect();
  scenario = normalizedScenario({ seed: 2024, events: EVENTS, rate: 10, scenarios: 80 }, PARTITIONS);
  // Each built-in once more, under another id, suppressing per host for 30 minutes.
  rulesDir = await mkdtemp(path.join(tmpdir(), 'sequor-suppress-rules-'));
  const builtin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/rules/builtin');
  for (const [i, file] of (await readdir(builtin)).filter((f) => f.endsWith('.yaml')).entries()) {
    const text = (await readFile(path.join(builtin, file), 'utf8'))
      .replace(/^id: .*$/m, `id: 5e0a1c2d-3b4f-4a6e-8c7d-9f0e1a2b3c4${i}`)
      .replace(/^name: (.*)$/m, 'name: $1 (suppressed per host)')
      .replace(/^tests:[\s\S]*$/m, 'suppress:\n  by: [host.id]\n  window: 30m\n');
    await writeFile(path.join(rulesDir, file), text);
  }
}, 180_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await single?.stop();
  await kit?.close();
});

/** `alert id` -> committed records carrying it (alerts topic). */
function alertCounts(records: readonly CommittedRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const id = headerString(r.headers, ALERT_HEADERS.alertId) ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** `alert id +count closed_by` -> committed update records carrying it. */
function updateCounts(records: readonly CommittedRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const u = updateCodec.decode(r.value!);
    const line = `${u.alert.id} +${u.suppression.count} ${u.suppression.closed_by}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

describe('detector group with suppress: SIGKILL and a joining member', () => {
  it('commits exactly the alerts and update counts of an undisturbed single detector', async () => {
    const brokers = kit.config.brokers.join(',');
    const events = await kit.createTopic('suppress-events', { partitions: PARTITIONS });
    const alertsScaled = await kit.createTopic('suppress-alerts', { partitions: PARTITIONS });
    const updatesScaled = await kit.createTopic('suppress-updates', { partitions: PARTITIONS });
    const alertsSingle = await kit.createTopic('suppress-single-alerts', { partitions: PARTITIONS });
    const updatesSingle = await kit.createTopic('suppress-single-updates', { partitions: PARTITIONS });
    const late = await kit.createTopic('suppress-late', { partitions: 1 });
    const dead = await kit.createTopic('suppress-dead', { partitions: 1 });
    const group = uniqueGroup('suppress-detector');
    const env = {
      KAFKA_BROKERS: brokers,
      KAFKA_CLIENT_ID: 'suppress-test',
      DETECTOR_INPUT_TOPICS: events,
      ALERTS_TOPIC: alertsScaled,
      ALERT_UPDATES_TOPIC: updatesScaled,
      LATE_EVENTS_TOPIC: late,
      DEAD_LETTER_TOPIC: dead,
      DETECTOR_GROUP_ID: group,
      DETECTOR_SESSION_TIMEOUT_MS: '10000',
      ALLOWED_LATENESS_MS: '60000',
      RULES_DIR: rulesDir,
      DETECTOR_STRICT: 'true',
      LOG_LEVEL: 'info',
    };
    const spawnDetector = (name: string) => {
      const p = new DetectorProcess(name, env);
      processes.push(p);
      return p;
    };
    const [a, b, c] = [spawnDetector('detector-1'), spawnDetector('detector-2'), spawnDetector('detector-3')];
    const singleGroup = uniqueGroup('suppress-single');
    single = createDetector(
      detectorConfigFromEnv({
        ...env,
        ALERTS_TOPIC: alertsSingle,
        ALERT_UPDATES_TOPIC: updatesSingle,
        DETECTOR_GROUP_ID: singleGroup,
        LOG_LEVEL: 'error',
      }),
      { logger: createLogger('single', { level: 'error' }) },
    );
    await single.start();
    const formed = () => groupOwnsAll([a, b, c], PARTITIONS);
    await waitUntil(
      formed,
      90_000,
      () => `the group did not form: ${[a, b, c].map((p) => `${p.name}\n${p.tail(5)}`).join('\n')}`,
    );

    const records = scenario.records;
    const lastTime = records.reduce((max, r) => Math.max(max, r.eventTime), 0);
    const clock = laterNormalizedEventOnEveryPartition(PARTITIONS, new Date(lastTime + 3_600_000));
    const chunk = 1_500;
    const started = performance.now();
    let victim: DetectorProcess | undefined;
    let joiner: DetectorProcess | undefined;
    for (let i = 0; i < records.length; i += chunk) {
      const due = started + (i / FEED_PER_SECOND) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await kit.produceAll(
        events,
        records.slice(i, i + chunk).map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      );
      if (victim === undefined && i >= records.length * KILL_AT) {
        victim = [a, b, c].sort((x, y) => y.assignment.length - x.assignment.length)[0]!;
        victim.kill('SIGKILL');
      }
      if (joiner === undefined && i >= records.length * JOIN_AT) joiner = spawnDetector('detector-4');
    }
    await kit.produceAll(
      events,
      clock.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    );

    await waitForGroupAtEnd(kit.admin, group, events, 240_000);
    await waitForGroupAtEnd(kit.admin, singleGroup, events, 240_000);
    expect(await victim!.exited).toBeNull();
    await joiner!.waitForLog((l) => l.msg === 'partition restored: live', 10_000);

    const scaledAlerts = alertCounts(await consumeAllCommitted(kit.client, kit.admin, alertsScaled, 60_000));
    const singleAlerts = alertCounts(await consumeAllCommitted(kit.client, kit.admin, alertsSingle, 60_000));
    const scaledUpdates = updateCounts(
      await consumeAllCommitted(kit.client, kit.admin, updatesScaled, 60_000),
    );
    const singleUpdates = updateCounts(
      await consumeAllCommitted(kit.client, kit.admin, updatesSingle, 60_000),
    );
    const counted = (m: Map<string, number>) =>
      [...m.keys()].reduce((sum, line) => sum + Number(/\+(\d+)/.exec(line)![1]), 0);
    console.log(
      `[suppress scaling] reference: ${singleAlerts.size} alerts, ${singleUpdates.size} updates counting ${counted(singleUpdates)} suppressed alerts; ` +
        `group (3, one SIGKILLed at ${KILL_AT * 100} %, a 4th at ${JOIN_AT * 100} %): ${[...scaledAlerts.values()].reduce((s, n) => s + n, 0)} alert records, ` +
        `${[...scaledUpdates.values()].reduce((s, n) => s + n, 0)} update records counting ${counted(scaledUpdates)}`,
    );
    expect(counted(singleUpdates)).toBeGreaterThan(0);
    expect([...scaledAlerts].filter(([, n]) => n > 1)).toEqual([]);
    expect([...scaledUpdates].filter(([, n]) => n > 1)).toEqual([]);
    expect([...scaledAlerts.keys()].sort()).toEqual([...singleAlerts.keys()].sort());
    expect([...scaledUpdates.keys()].sort()).toEqual([...singleUpdates.keys()].sort());
  }, 600_000);
});
