// Rule hot reload (issue 15 item 3) with the built services as operators run them: detectors with
// RULES_TOPIC, rules written by `sequor rules publish` (and raw records for the bad ones), events flowing.
// 1. One detector: add, change (no version bump needed: the revision changes), break and delete a rule;
//    each step in the log and on /metrics, every alert carrying the version and revision that raised it;
//    bad input (a malformed record, a huge list, a list referenced but missing) refused with a clear
//    error while the detector keeps running; a value list change applies without a restart (the rule
//    using it runs as a new revision from the recorded offset on).
// 2. A 2-detector group: both apply a change within seconds (the reload latency is measured: change
//    published -> first alert with the new revision visible to a read_committed consumer); one is
//    SIGKILLed right after the change, the other replays its partitions with the recorded switch: every
//    matching event has exactly one alert, raised by the rule version in effect at its offset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerString, KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { Alert } from '@sequor/model';
import { parsePrometheus, sampleValue } from '@sequor/telemetry/testing';
import { ALERT_HEADERS } from '@sequor/detector';
import { decodeRestoreMetadata } from '@sequor/streams';
import {
  consumeAllCommitted,
  decodeAlert,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';
import {
  DetectorProcess,
  groupOwnsAll,
  requireFreshBuild,
  waitUntil,
} from '../../services/detector/test/support/process.js';
import {
  feedProcessStarts,
  probeRuleText,
  processStart,
  produceEvents,
  publishRules,
  removeRuleDirs,
  ruleDir,
  rulesTopicDetectorEnv,
  rulesTopicTopics,
} from './support/rules-topic.js';

const RULE_ID = '0b7c0c2e-8f1e-4a51-9d0e-4b7f2f3c1a01';
const LIST_RULE_ID = '0b7c0c2e-8f1e-4a51-9d0e-4b7f2f3c1a02';

let kit: KafkaTestKit;
const processes: DetectorProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  requireFreshBuild();
  kit = await KafkaTestKit.connect();
}, 60_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  removeRuleDirs(dirs);
  await kit?.close();
});

/** An event query on one process name: every matching event is an alert, at once (no watermark wait). */
function ruleText(opts: { version: number; message: string; broken?: boolean }): string {
  return probeRuleText({
    id: RULE_ID,
    name: 'Hot reload probe',
    description: 'fires on every start of hotreload.exe',
    version: opts.version,
    message: opts.message,
    query: `process where process.name : "hotreload.exe"${opts.broken === true ? ' and process.nope == 1' : ''}`,
  });
}

function listRuleText(): string {
  return probeRuleText({
    id: LIST_RULE_ID,
    name: 'Hot reload list probe',
    description: 'fires on listprobe.exe unless the user is in the admins list',
    version: 1,
    message: 'list probe',
    query: 'process where process.name : "listprobe.exe"',
    extra: 'exceptions:\n  - { field: user.name, operator: in_list, list: hr-admins }\n',
  });
}

async function metrics(p: DetectorProcess) {
  return parsePrometheus(await (await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`)).text());
}

/** Alerts visible to a read_committed consumer, as they come, with the time they did. */
async function alertReader(topic: string) {
  const seen: { at: number; alert: Alert; partition: number; offset: number }[] = [];
  const consumer = kit.client.consumer({ groupId: uniqueGroup('hr-alerts'), maxWaitTimeInMs: 100 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      seen.push({
        at: Date.now(),
        alert: decodeAlert(message.value),
        partition: Number(headerString(message.headers, ALERT_HEADERS.triggerPartition)),
        offset: Number(headerString(message.headers, ALERT_HEADERS.triggerOffset)),
      });
      return Promise.resolve();
    },
  });
  await joined;
  return { seen, stop: () => consumer.disconnect() };
}

describe('detector: rules from a compacted topic, changed without restarts (built services, real broker)', () => {
  it('add, change, break and delete a rule while events flow: the log, /metrics and the alerts show each step; bad records are refused', async () => {
    const t = await rulesTopicTopics(kit, 'hr1', 1);
    const reader = await alertReader(t.alerts);
    const detector = new DetectorProcess(
      'hr-detector',
      rulesTopicDetectorEnv(kit, t, uniqueGroup('hr1'), 'hot-reload-test'),
    );
    processes.push(detector);
    await detector.waitForLog((l) => l.msg === 'rules topic read: rule set ready', 60_000);
    await detector.waitForLog(
      (l) => l.msg === 'partitions assigned' && detector.assignment.includes(0),
      60_000,
    );
    const flow = feedProcessStarts(kit, t.events, {
      name: 'hotreload.exe',
      hosts: ['hr-host-1'],
      everyMs: 100,
      idOf: (n, h) => `hr1-${n}-${h}`,
    });
    const ofRule = () => reader.seen.filter((s) => s.alert.rule.id === RULE_ID);
    try {
      // Add.
      const v1 = ruleDir(dirs, { 'probe.yaml': ruleText({ version: 1, message: 'probe v1' }) });
      expect(await publishRules(kit, v1, t.rules)).toMatch(/added\s+rule 0b7c0c2e/);
      await detector.waitForLog(
        (l) => l.msg === 'rule loaded from the rules topic' && l['id'] === RULE_ID,
        30_000,
      );
      await detector.waitForLog((l) => l.msg === 'rule set effective at offset', 30_000);
      await waitUntil(
        () => ofRule().length > 0,
        30_000,
        () => `no alert of the new rule:\n${detector.tail()}`,
      );
      const first = ofRule()[0]!.alert;
      expect(first.rule.version).toBe(1);
      expect(first.rule.revision).toMatch(/^[0-9a-f]{16}$/);
      expect(first.message).toMatch(/^probe v1 on /);

      // Change, without a version bump: another revision, other alert ids, the new message.
      const v1b = ruleDir(dirs, { 'probe.yaml': ruleText({ version: 1, message: 'probe v1b' }) });
      expect(await publishRules(kit, v1b, t.rules)).toMatch(/changed\s+rule 0b7c0c2e/);
      const changed = await detector.waitForLog(
        (l) => l.msg === 'rule changed on the rules topic' && l['id'] === RULE_ID,
        30_000,
      );
      await waitUntil(
        () => ofRule().some((s) => s.alert.message.startsWith('probe v1b')),
        30_000,
        () => `no alert of the changed rule:\n${detector.tail()}`,
      );
      const revised = ofRule().find((s) => s.alert.message.startsWith('probe v1b'))!.alert;
      expect(revised.rule.revision).toBe(changed['revision']);
      expect(revised.rule.revision).not.toBe(first.rule.revision);
      // Once switched, the old revision raises nothing more (per partition, in offset order).
      const switchAt = ofRule().findIndex((s) => s.alert.rule.revision === revised.rule.revision);
      expect(
        ofRule()
          .slice(switchAt)
          .every((s) => s.alert.rule.revision === revised.rule.revision),
      ).toBe(true);

      // The reload latency without the command around it: the rule record acknowledged by the broker ->
      // the first alert of the new revision visible to a read_committed consumer (events every 100 ms).
      const latencies: number[] = [];
      for (const round of [1, 2, 3]) {
        const message = `probe direct ${round}`;
        await kit.produceAll(t.rules, [
          { key: `rule:${RULE_ID}`, value: Buffer.from(ruleText({ version: 1, message })) },
        ]);
        const ackedAt = Date.now();
        await waitUntil(
          () => ofRule().some((s) => s.alert.message.startsWith(message)),
          30_000,
          () => detector.tail(),
        );
        latencies.push(ofRule().find((s) => s.alert.message.startsWith(message))!.at - ackedAt);
      }
      console.log(
        `rule hot reload: rule record acked -> first alert of the new revision visible: ${latencies.join(', ')} ms`,
      );
      // The broken version below is refused: the last direct revision keeps running.
      const running = ofRule().find((s) => s.alert.message.startsWith('probe direct 3'))!.alert;

      // Break it: refused with its error, the running version keeps raising alerts.
      const broken = ruleDir(dirs, {
        'probe.yaml': ruleText({ version: 2, message: 'probe v2', broken: true }),
      });
      const refusedPublish = await publishRules(kit, broken, t.rules).catch(
        (e: { stdout: string; stderr: string }) => `${e.stdout}${e.stderr}`,
      );
      expect(refusedPublish).toMatch(/nothing written/); // the CLI refuses it first
      await kit.produceAll(t.rules, [
        {
          key: `rule:${RULE_ID}`,
          value: Buffer.from(ruleText({ version: 2, message: 'probe v2', broken: true })),
        },
      ]);
      const refused = await detector.waitForLog(
        (l) => l.msg === 'rule refused: its previous version keeps running',
        30_000,
      );
      expect(String((refused['errors'] as string[])[0])).toMatch(/process\.nope/);
      const before = ofRule().length;
      await waitUntil(
        () => ofRule().length > before + 3,
        30_000,
        () => detector.tail(),
      );
      expect(
        ofRule()
          .slice(before)
          .every((s) => s.alert.rule.revision === running.rule.revision),
      ).toBe(true);

      // Bad input: a malformed record, a huge list, a rule naming a list that is not there (then is).
      await kit.produceAll(t.rules, [{ key: 'no-prefix', value: Buffer.from('x') }]);
      await detector.waitForLog((l) => l.msg === 'rules topic record ignored: malformed', 30_000);
      const huge = Array.from({ length: 1_000_001 }, (_, i) => `u${i}`).join('\n');
      await kit.produceAll(t.rules, [{ key: 'list:hr-huge.keyword', value: Buffer.from(huge) }]);
      const hugeRefused = await detector.waitForLog((l) => l.msg.startsWith('value list refused'), 60_000);
      expect(String((hugeRefused['errors'] as string[])[0])).toMatch(/1,000,000|entries/);
      await kit.produceAll(t.rules, [{ key: `rule:${LIST_RULE_ID}`, value: Buffer.from(listRuleText()) }]);
      const missing = await detector.waitForLog(
        (l) => l.msg === 'rule refused: not running' && l['id'] === LIST_RULE_ID,
        30_000,
      );
      expect(JSON.stringify(missing['errors'])).toMatch(/hr-admins/);
      await kit.produceAll(t.rules, [{ key: 'list:hr-admins.keyword', value: Buffer.from('alice\nbob\n') }]);
      await detector.waitForLog(
        (l) =>
          l.msg === 'rule loaded from the rules topic' &&
          l['id'] === LIST_RULE_ID &&
          l['becauseOfList'] === 'hr-admins',
        30_000,
      );
      expect(detector.alive).toBe(true);

      // A value list change applies without a restart: alice is excepted while she is on the list.
      const probe = async (id: string) => {
        await produceEvents(kit, t.events, [
          await processStart('listprobe.exe', 'hr-host-1', id, Date.now(), 'alice'),
        ]);
      };
      const ofListRule = () => reader.seen.filter((s) => s.alert.rule.id === LIST_RULE_ID);
      await probe('alice-on-list');
      // One partition, in offset order: alerts of the flowing feed produced after it mean it was processed.
      const seenBefore = ofRule().length;
      await waitUntil(
        () => ofRule().length > seenBefore + 3,
        30_000,
        () => detector.tail(),
      );
      expect(ofListRule()).toEqual([]);
      const listMark = detector.logs.length;
      await kit.produceAll(t.rules, [{ key: 'list:hr-admins.keyword', value: Buffer.from('bob\n') }]);
      const relisted = await detector.waitForLog(
        (l) => l.msg === 'rule changed on the rules topic' && l['id'] === LIST_RULE_ID,
        30_000,
        listMark,
      );
      expect(relisted['becauseOfList']).toBe('hr-admins');
      await probe('alice-off-list');
      await waitUntil(
        () => ofListRule().length > 0,
        30_000,
        () => detector.tail(),
      );
      expect(ofListRule().map((s) => s.alert.evidence[0]!.event_id)).toEqual(['alice-off-list']);
      expect(ofListRule()[0]!.alert.rule.revision).toBe(relisted['revision']);

      // Delete: a tombstone; after the switch the rule raises nothing.
      const mark = detector.logs.length;
      await kit.produceAll(t.rules, [{ key: `rule:${RULE_ID}`, value: null }]);
      await detector.waitForLog((l) => l.msg === 'rule removed (tombstone on the rules topic)', 30_000, mark);
      // The removal's switch only drops (the list change's switch started a revision too): that line is
      // logged once its batch commits, possibly after its alert was seen, so it may come after `mark`.
      const removedSwitch = await detector.waitForLog(
        (l) =>
          l.msg === 'rule set effective at offset' && (l['dropped'] as number) >= 1 && l['started'] === 0,
        30_000,
        mark,
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(ofRule().filter((s) => s.offset >= (removedSwitch['offset'] as number))).toEqual([]);

      // /metrics: each step counted, the running rules with version and revision, the rule-set revision.
      const samples = await metrics(detector);
      for (const kind of [
        'loaded',
        'changed',
        'refused',
        'removed',
        'malformed',
        'list-refused',
        'list-loaded',
      ])
        expect(sampleValue(samples, 'sequor_rules_changes_total', { kind }), kind).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'sequor_rule_info', { rule_id: LIST_RULE_ID, version: '1' })).toBe(1);
      expect(samples.some((s) => s.name === 'sequor_rule_info' && s.labels.rule_id === RULE_ID)).toBe(false);
      expect(sampleValue(samples, 'sequor_rules_revision')).toBeGreaterThan(0);
    } finally {
      await flow.stop();
      await reader.stop();
      detector.kill('SIGTERM');
      await detector.exited;
    }
  }, 300_000);

  it('a 2-detector group applies a change within seconds; after a SIGKILL the survivor replays with the recorded switch: 0 missing, 0 duplicate', async () => {
    const t = await rulesTopicTopics(kit, 'hr2', 4);
    const group = uniqueGroup('hr2');
    const env = rulesTopicDetectorEnv(kit, t, group, 'hot-reload-test');
    const a = new DetectorProcess('hr2-a', env);
    const b = new DetectorProcess('hr2-b', env);
    processes.push(a, b);
    await waitUntil(
      () => groupOwnsAll([a, b], 4),
      90_000,
      () => `${a.tail()}\n${b.tail()}`,
    );
    const reader = await alertReader(t.alerts);
    const hosts = Array.from({ length: 8 }, (_, i) => `hr2-host-${i}`);
    expect(
      await publishRules(
        kit,
        ruleDir(dirs, { 'probe.yaml': ruleText({ version: 1, message: 'probe one' }) }),
        t.rules,
      ),
    ).toMatch(/added/);
    const flow = feedProcessStarts(kit, t.events, {
      name: 'hotreload.exe',
      hosts,
      everyMs: 150,
      idOf: (n, h) => `hr2-${n}-${h}`,
    });
    let produced = 0;
    try {
      await waitUntil(
        () => reader.seen.length >= 16,
        60_000,
        () => `${a.tail()}\n${b.tail()}`,
      );

      // The change: both instances apply it to every partition they own, within seconds.
      const marks = [a.logs.length, b.logs.length] as const;
      const publishedAt = Date.now();
      await publishRules(
        kit,
        ruleDir(dirs, { 'probe.yaml': ruleText({ version: 2, message: 'probe two' }) }),
        t.rules,
      );
      const switched = () =>
        new Set(
          [...a.logs.slice(marks[0]), ...b.logs.slice(marks[1])]
            .filter((l) => l.msg === 'rule set effective at offset' && (l['started'] as number) >= 1)
            .map((l) => l['partition']),
        );
      await waitUntil(
        () => switched().size === 4,
        30_000,
        () => `not every partition switched:\n${a.tail()}\n${b.tail()}`,
      );
      const appliedMs = Date.now() - publishedAt;
      await waitUntil(
        () => reader.seen.some((s) => s.alert.rule.version === 2),
        30_000,
        () => `no alert of version 2:\n${a.tail()}\n${b.tail()}`,
      );
      const firstV2 = reader.seen.find((s) => s.alert.rule.version === 2)!;
      const reloadMs = firstV2.at - publishedAt;
      console.log(
        `rule hot reload: change published -> every partition of both instances switched within ${appliedMs} ms; ` +
          `-> first alert with the new version visible to a read_committed consumer: ${reloadMs} ms ` +
          `(the publish command itself included: it checks the folder and reads the topic first)`,
      );
      expect(reloadMs).toBeLessThan(30_000);

      // SIGKILL one right after (its last transactions may be in flight); the other takes its partitions.
      a.kill('SIGKILL');
      await a.exited;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      produced = await flow.stop();
    }
    await waitForGroupAtEnd(kit.admin, group, t.events, 120_000);
    await reader.stop();

    const committed = await consumeAllCommitted(kit.client, kit.admin, t.alerts, 60_000);
    const alerts = committed.map((r) => ({
      alert: decodeAlert(r.value),
      partition: Number(headerString(r.headers, ALERT_HEADERS.triggerPartition)),
      offset: Number(headerString(r.headers, ALERT_HEADERS.triggerOffset)),
    }));
    const byEvent = new Map<string, number>();
    for (const { alert } of alerts) {
      const id = alert.evidence[0]!.event_id;
      byEvent.set(id, (byEvent.get(id) ?? 0) + 1);
    }
    const ids = new Set(alerts.map((x) => x.alert.alert.id));
    const duplicates = alerts.length - ids.size;
    console.log(
      `rule hot reload kill -9: ${produced} events produced, ${alerts.length} alerts committed, ` +
        `${duplicates} duplicate, ${[...byEvent.values()].filter((n) => n > 1).length} events with more than one alert`,
    );
    expect(duplicates).toBe(0);
    expect([...byEvent.values()].every((n) => n === 1)).toBe(true);
    // Per partition, alerts are by version in offset order: v1 up to the recorded switch, v2 from it on,
    // the replayed range included (never a v1 after a v2, none from the other version twice).
    for (let p = 0; p < 4; p++) {
      const versions = alerts
        .filter((x) => x.partition === p)
        .sort((x, y) => x.offset - y.offset)
        .map((x) => x.alert.rule.version);
      expect(versions.join(''), `partition ${p}`).toMatch(/^1*2*$/);
      expect(versions.includes(2), `partition ${p} switched`).toBe(true);
    }
    // And no gap: from the first alert of a partition on, every matching event of it has one.
    const events = await consumeAllCommitted(kit.client, kit.admin, t.events, 60_000);
    for (let p = 0; p < 4; p++) {
      const firstAlertOffset = Math.min(...alerts.filter((x) => x.partition === p).map((x) => x.offset));
      const expected = events.filter((r) => r.partition === p && Number(r.offset) >= firstAlertOffset).length;
      expect(alerts.filter((x) => x.partition === p).length, `partition ${p}`).toBe(expected);
    }
    // The survivor replayed the killed one's partitions, and the switch lies in what a restore replays.
    const killedPartitions = [0, 1, 2, 3];
    expect(
      b.logs.some((l) => l.msg === 'partition restored: live' && (l['replayedRecords'] as number) > 0),
      b.tail(),
    ).toBe(true);
    const [offsets] = await kit.admin.fetchOffsets({ groupId: group, topics: [t.events] });
    for (const { partition, metadata } of offsets!.partitions.filter((x) =>
      killedPartitions.includes(x.partition),
    )) {
      const point = decodeRestoreMetadata(metadata)!;
      expect(point.ruleSets?.length, `partition ${partition}: ${metadata}`).toBe(2);
      expect(point.offset).toBeLessThan(point.ruleSets![1]!.offset);
    }
    b.kill('SIGTERM');
    await b.exited;
  }, 400_000);
});
