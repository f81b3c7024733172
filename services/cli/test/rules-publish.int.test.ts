// `sequor rules publish` against the real broker (the built CLI): what it writes, prints and refuses.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTestKit, uniqueTopic } from '@sequor/kafka/testing';
import { assertBuilt, sequor } from './support.js';

let kit: KafkaTestKit;
let dir: string;
let lists: string;

beforeAll(async () => {
  assertBuilt();
  kit = await KafkaTestKit.connect();
  dir = mkdtempSync(path.join(tmpdir(), 'sequor-publish-'));
  lists = mkdtempSync(path.join(tmpdir(), 'sequor-publish-lists-'));
}, 60_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(lists, { recursive: true, force: true });
  await kit?.close();
});

function rule(id: string, name: string): string {
  return `id: ${id}
name: ${name}
description: publish test
version: 1
severity: low
risk_score: 21
author: [Sequor tests]
license: Apache License 2.0
threat:
  - framework: MITRE ATT&CK
    tactic: { id: TA0002, name: Execution, reference: "https://attack.mitre.org/tactics/TA0002/" }
message: seen on $host.name$
type: eql
query: |
  process where process.name : "${name}.exe"
`;
}

const A = '11111111-2222-4333-8444-000000000001';
const B = '11111111-2222-4333-8444-000000000002';
const C = '11111111-2222-4333-8444-000000000003';

/** The topic as a table: key -> value (tombstones remove). */
async function table(topic: string): Promise<Map<string, string>> {
  const high = Number((await kit.admin.fetchTopicOffsets(topic))[0]!.high);
  const records = await kit.consumeUntil(topic, high);
  const out = new Map<string, string>();
  for (const r of records) {
    const key = r.key?.toString() ?? '';
    if (r.value === null) out.delete(key);
    else out.set(key, r.value.toString());
  }
  return out;
}

describe('sequor rules publish', () => {
  it('checks first, writes only what changed, keeps what DIR lacks unless --delete-missing, and --dry-run writes nothing', async () => {
    const topic = uniqueTopic('publish');
    const env = { KAFKA_BROKERS: kit.config.brokers.join(',') };
    writeFileSync(path.join(dir, 'a.yaml'), rule(A, 'alpha'));
    writeFileSync(path.join(dir, 'b.yaml'), rule(B, 'beta'));
    writeFileSync(path.join(lists, 'admins.keyword'), 'alice\n');
    const first = await sequor(['rules', 'publish', dir, '--topic', topic, '--lists', lists], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`added\\s+rule ${A}`));
    expect(first.stdout).toMatch(/added\s+list admins\.keyword/);
    expect(first.stderr).toMatch(/created .* \(compacted, 1 partition\)/);
    expect(first.stderr).toMatch(/wrote 3 records/);

    const again = await sequor(['rules', 'publish', dir, '--topic', topic, '--lists', lists], { env });
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/wrote 0 records .* 3 unchanged/);

    unlinkSync(path.join(dir, 'b.yaml'));
    writeFileSync(path.join(dir, 'a.yaml'), rule(A, 'alpha2'));
    const kept = await sequor(['rules', 'publish', dir, '--topic', topic], { env });
    expect(kept.stdout).toMatch(new RegExp(`changed rule ${A}`));
    expect(kept.stdout).toMatch(new RegExp(`kept\\s+rule ${B} \\(on the topic, not in .*--delete-missing`));
    expect(kept.stdout).not.toMatch(/list admins/); // lists are compared only with --lists

    const dry = await sequor(['rules', 'publish', dir, '--topic', topic, '--delete-missing', '--dry-run'], {
      env,
    });
    expect(dry.stdout).toMatch(new RegExp(`removed rule ${B}`));
    expect(dry.stderr).toMatch(/would write 1 record /);
    expect((await table(topic)).has(`rule:${B}`)).toBe(true);

    const removed = await sequor(['rules', 'publish', dir, '--topic', topic, '--delete-missing'], { env });
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`removed rule ${B}`));
    const now = await table(topic);
    expect([...now.keys()].sort()).toEqual([`list:admins.keyword`, `rule:${A}`]);
    expect(now.get(`rule:${A}`)).toContain('alpha2.exe');
  });

  it('writes one record per file, keyed by its one alerting rule, lists first; refuses a file a detector would', async () => {
    const topic = uniqueTopic('publish-sigma');
    const env = { KAFKA_BROKERS: kit.config.brokers.join(',') };
    const sigmaDir = mkdtempSync(path.join(tmpdir(), 'sequor-publish-sigma-'));
    const failed = (id: string) =>
      `title: failed logon\nid: ${id}\nname: failed_login\nlogsource: { product: windows, service: security }\nsequor:\n  exceptions:\n    - { field: user.name, operator: in_list, list: admins }\ndetection:\n  selection: { EventID: 4625 }\n  condition: selection\n`;
    const counting = `title: many failed logons\nid: ${A}\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [host.id]\n  timespan: 10m\n  condition: { gte: 3 }\n`;
    try {
      // A correlation and the rule it names in one file: one record, keyed by the correlation.
      writeFileSync(path.join(sigmaDir, 'many-failed.yml'), `${counting}---\n${failed(B)}`);
      const out = await sequor(['rules', 'publish', sigmaDir, '--topic', topic, '--lists', lists], { env });
      expect(out.code, out.stderr).toBe(0);
      const high = Number((await kit.admin.fetchTopicOffsets(topic))[0]!.high);
      const keys = (await kit.consumeUntil(topic, high)).map((r) => r.key?.toString());
      expect(keys).toEqual(['list:admins.keyword', `rule:${A}`]);

      // The same rules in two files: each record is checked alone, so the correlation names nothing.
      writeFileSync(path.join(sigmaDir, 'many-failed.yml'), counting);
      writeFileSync(path.join(sigmaDir, 'failed.yml'), failed(B));
      const split = await sequor(['rules', 'publish', sigmaDir, '--topic', topic, '--lists', lists], { env });
      expect(split.code).toBe(1);
      expect(split.stderr).toMatch(/many-failed\.yml:\d+:\d+: .*failed_login/);
      expect(split.stderr).toMatch(/keep a correlation and the rules it names in one file/);
      expect(split.stderr).toMatch(/nothing written/);

      // Two alerting rules in one file: a record holds one.
      rmSync(path.join(sigmaDir, 'many-failed.yml'));
      writeFileSync(
        path.join(sigmaDir, 'failed.yml'),
        `${failed(B)}---\n${failed(A).replace('failed_login', 'other')}`,
      );
      const two = await sequor(['rules', 'publish', sigmaDir, '--topic', topic, '--lists', lists], { env });
      expect(two.code).toBe(1);
      expect(two.stderr).toMatch(/holds exactly one rule that alerts .* this one holds 2/);

      // A file of meta filters alone: on the topic it would apply to nothing.
      writeFileSync(path.join(sigmaDir, 'failed.yml'), failed(B));
      writeFileSync(
        path.join(sigmaDir, 'filter.yml'),
        'title: not admin\nlogsource: { product: windows }\nfilter:\n  rules: [failed_login]\n  selection: { TargetUserName: admin }\n  condition: not selection\n',
      );
      const filter = await sequor(['rules', 'publish', sigmaDir, '--topic', topic, '--lists', lists], {
        env,
      });
      expect(filter.code, filter.stderr).toBe(1);
      expect(filter.stderr).toMatch(
        /filter\.yml: a file of Sigma meta filters alone is not a rules-topic record/,
      );

      // A filter in one rule's file naming a rule of another file would not reach it on the topic.
      const notAdmin =
        'title: not admin\nlogsource: { product: windows }\nfilter:\n  rules: [failed_login, other]\n  selection: { TargetUserName: admin }\n  condition: not selection\n';
      rmSync(path.join(sigmaDir, 'filter.yml'));
      writeFileSync(path.join(sigmaDir, 'failed.yml'), `${failed(B)}---\n${notAdmin}`);
      writeFileSync(path.join(sigmaDir, 'other.yml'), failed(C).replace('failed_login', 'other'));
      const reach = await sequor(['rules', 'publish', sigmaDir, '--topic', topic, '--lists', lists], { env });
      expect(reach.code, reach.stderr).toBe(1);
      expect(reach.stderr).toMatch(
        /failed\.yml:\d+:\d+: filter "not admin" applies over the folder to "other" \(.*other\.yml\), in another file/,
      );

      // Checked against the detectors' key: a correlation grouping by user.name, with events keyed by it.
      rmSync(path.join(sigmaDir, 'other.yml'));
      writeFileSync(
        path.join(sigmaDir, 'failed.yml'),
        `${counting.replace('[host.id]', '[user.name]')}---\n${failed(B)}`,
      );
      const byUser = await sequor(['rules', 'publish', sigmaDir, '--topic', topic, '--lists', lists], {
        env: { ...env, PARTITION_KEY_FIELDS: 'user.name' },
      });
      expect(byUser.code, byUser.stderr).toBe(0);
    } finally {
      rmSync(sigmaDir, { recursive: true, force: true });
    }
  });

  it("removes the record of a rule now held silent in its correlation's file, without --delete-missing", async () => {
    const topic = uniqueTopic('publish-merge');
    const env = { KAFKA_BROKERS: kit.config.brokers.join(',') };
    const merge = mkdtempSync(path.join(tmpdir(), 'sequor-publish-merge-'));
    const failed = `title: failed logon\nid: ${B}\nname: failed_login\nlogsource: { product: windows, service: security }\ndetection:\n  selection: { EventID: 4625 }\n  condition: selection\n`;
    const counting = `title: many failed logons\nid: ${A}\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [host.id]\n  timespan: 10m\n  condition: { gte: 3 }\n`;
    try {
      // First the rule alone: it alerts, as its own record (lint's warnings said, not fatal).
      writeFileSync(
        path.join(merge, 'failed.yml'),
        failed.replace('detection:', 'sequor:\n  suppress: { by: [user.name], window: 1h }\ndetection:'),
      );
      const alone = await sequor(['rules', 'publish', merge, '--topic', topic], { env });
      expect(alone.code, alone.stderr).toBe(0);
      expect(alone.stderr).toMatch(
        /failed\.yml:\d+:\d+: warning: suppression windows are kept per partition/,
      );
      // Then merged into its correlation's file: its own record would keep alerting on every detector.
      rmSync(path.join(merge, 'failed.yml'));
      writeFileSync(path.join(merge, 'many-failed.yml'), `${counting}---\n${failed}`);
      const merged = await sequor(['rules', 'publish', merge, '--topic', topic], { env });
      expect(merged.code, merged.stderr).toBe(0);
      expect(merged.stdout).toMatch(new RegExp(`removed rule ${B} \\(now held silent by rule ${A} `));
      expect([...(await table(topic)).keys()]).toEqual([`rule:${A}`]);
    } finally {
      rmSync(merge, { recursive: true, force: true });
    }
  });

  it('writes nothing when a file has an error, and says where', async () => {
    const topic = uniqueTopic('publish-bad');
    const bad = mkdtempSync(path.join(tmpdir(), 'sequor-publish-bad-'));
    try {
      writeFileSync(path.join(bad, 'good.yaml'), rule(A, 'alpha'));
      writeFileSync(path.join(bad, 'bad.yaml'), rule(B, 'beta').replace('process.name', 'process.nam'));
      const out = await sequor(['rules', 'publish', bad, '--topic', topic], {
        env: { KAFKA_BROKERS: kit.config.brokers.join(',') },
      });
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/bad\.yaml:\d+:\d+: unknown field process\.nam/);
      expect(out.stderr).toMatch(/nothing written/);
      expect(await kit.admin.listTopics()).not.toContain(topic);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
