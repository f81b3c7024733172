// A rule change never loses a suppression count (issue 15): with the built detector and a real broker,
// a rule with `suppress` runs from the rules topic while events flow; it is changed; its open window
// closes at the switch and its update (closed_by rule-change) is committed with the switch's batch. The
// detector is SIGKILLed right after and a new one replays the partition with the recorded switch: the
// update is on the updates topic exactly once, and no alert of the old version is published again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { Alert, AlertUpdate } from '@sequor/model';
import { createAlertUpdateCodec } from '@sequor/model';
import {
  consumeAllCommitted,
  decodeAlert,
  waitForGroupAtEnd,
} from '../../services/detector/test/support/e2e.js';
import {
  DetectorProcess,
  requireFreshBuild,
  waitUntil,
} from '../../services/detector/test/support/process.js';
import {
  feedProcessStarts,
  probeRuleText,
  publishRules,
  removeRuleDirs,
  ruleDir,
  rulesTopicDetectorEnv,
  rulesTopicTopics,
} from './support/rules-topic.js';

const RULE_ID = '5d0c1f3a-7e2b-4c9d-8a61-2f4e9b7c3d10';
const updateCodec = createAlertUpdateCodec();

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

/** Every start of suppressprobe.exe, suppressed per host for 10 minutes, published as version `version`. */
function publish(version: number, topic: string): Promise<string> {
  const text = probeRuleText({
    id: RULE_ID,
    name: 'Suppress change probe',
    description: 'fires on every start of suppressprobe.exe',
    version,
    message: `probe v${version}`,
    query: 'process where process.name : "suppressprobe.exe"',
    extra: 'suppress:\n  by: [host.id]\n  window: 10m\n',
  });
  return publishRules(kit, ruleDir(dirs, { 'probe.yaml': text }), topic);
}

describe('detector: a rule change closes the rule’s suppression windows, exactly once (built services, real broker)', () => {
  it('the changed rule’s open window is published at the switch (rule-change), once across a SIGKILL and the replay', async () => {
    const t = await rulesTopicTopics(kit, 'rcs', 1);
    const group = uniqueGroup('rcs');
    const env = rulesTopicDetectorEnv(kit, t, group, 'rules-change-suppress-test', {
      ALLOWED_LATENESS_MS: '200',
    });
    const a = new DetectorProcess('rcs-a', env);
    processes.push(a);
    await a.waitForLog((l) => l.msg === 'partitions assigned' && a.assignment.includes(0), 60_000);
    expect(await publish(1, t.rules)).toMatch(/added\s+rule 5d0c1f3a/);
    await a.waitForLog((l) => l.msg === 'rule loaded from the rules topic' && l['id'] === RULE_ID, 30_000);
    const flow = feedProcessStarts(kit, t.events, {
      name: 'suppressprobe.exe',
      hosts: ['rcs-host'],
      everyMs: 100,
      idOf: (n) => `sp-${n}`,
    });
    let produced = 0;
    let b: DetectorProcess | undefined;
    try {
      // v1 publishes its first alert and counts the rest into its window.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const mark = a.logs.length;
      expect(await publish(2, t.rules)).toMatch(/changed\s+rule 5d0c1f3a/);
      await waitUntil(
        () =>
          a.logs
            .slice(mark)
            .some((l) => l.msg === 'rule set effective at offset' && (l['started'] as number) >= 1),
        30_000,
        () => a.tail(),
      );
      // The switch's batch is committed (its log line says so): SIGKILL, and a new owner replays it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      a.kill('SIGKILL');
      await a.exited;
      b = new DetectorProcess('rcs-b', env);
      processes.push(b);
      await b.waitForLog((l) => l.msg === 'partition restored: live', 90_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      produced = await flow.stop();
    }
    await waitForGroupAtEnd(kit.admin, group, t.events, 120_000);
    const alerts: Alert[] = (await consumeAllCommitted(kit.client, kit.admin, t.alerts, 60_000)).map((r) =>
      decodeAlert(r.value),
    );
    const updates: AlertUpdate[] = (await consumeAllCommitted(kit.client, kit.admin, t.updates, 60_000)).map(
      (r) => updateCodec.decode(r.value!),
    );
    const v1 = alerts.filter((x) => x.rule.version === 1);
    const v2 = alerts.filter((x) => x.rule.version === 2);
    const atChange = updates.filter((u) => u.suppression.closed_by === 'rule-change');
    const v1Ids = new Set(v1.map((x) => x.alert.id));
    console.log(
      `[rule change with suppress] ${produced} events; v1: ${v1.length} alerts published, v2: ${v2.length}; ` +
        `updates: ${updates.map((u) => `${u.suppression.closed_by} +${u.suppression.count}`).join(', ')}; ` +
        `${updates.length - new Set(updates.map((u) => u.alert.id)).size} duplicate update(s), ` +
        `${alerts.length - new Set(alerts.map((x) => x.alert.id)).size} duplicate alert(s)`,
    );
    // One window of v1 per 10-minute window it spanned (normally one), each published once.
    expect(v1.length).toBeGreaterThanOrEqual(1);
    expect(v1.length).toBeLessThanOrEqual(2);
    expect(v2.length).toBeGreaterThanOrEqual(1);
    expect(new Set(alerts.map((x) => x.alert.id)).size).toBe(alerts.length);
    // The v1 window open at the change: published at the switch, once (not again by the replay).
    expect(atChange).toHaveLength(1);
    expect(v1Ids.has(atChange[0]!.alert.id)).toBe(true);
    expect(atChange[0]!.suppression.count).toBeGreaterThanOrEqual(10);
    expect(new Set(updates.map((u) => u.alert.id)).size).toBe(updates.length);
    // No v1 count is lost: every v1-era event is the published alert or counted in a v1 update.
    const v1Counted = updates
      .filter((u) => v1Ids.has(u.alert.id))
      .reduce((sum, u) => sum + Number(u.suppression.count), 0);
    const lastV1 = Math.max(
      ...updates.filter((u) => v1Ids.has(u.alert.id)).map((u) => Number(u.last_evidence[0]!.slice(3))),
    );
    expect(v1Counted + v1.length).toBe(lastV1 + 1 - Number(v1[0]!.evidence[0]!.event_id.slice(3)));
    expect(
      b!.logs.some((l) => l.msg === 'partition restored: live' && (l['replayedRecords'] as number) > 0),
    ).toBe(true);
    b!.kill('SIGTERM');
    await b!.exited;
  }, 300_000);
});
