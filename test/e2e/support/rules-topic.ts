// What the rules-topic e2e tests share (test/e2e/rules-hot-reload.test.ts, rules-change-suppress.test.ts):
// the topics of a detector with RULES_TOPIC and its variables, `sequor rules publish` as operators run it,
// probe rules on one process name, and a flow of process starts with event time = now.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { KafkaTestKit } from '@sequor/kafka/testing';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';
import { NORMALIZED_HEADERS } from '@sequor/pipeline';
import { decodeTestEvents, loadBuiltinRules } from '@sequor/rules';
import { repoRoot } from '../../../services/detector/test/support/e2e.js';

const run = promisify(execFile);
const cliMainJs = path.join(repoRoot, 'services/cli/dist/main.js');
const codec = createEventCodec();
const headers = { [NORMALIZED_HEADERS.partitionKeyFields]: 'host.id,host.name,user.id' };

export interface RulesTopicTopics {
  readonly rules: string;
  readonly events: string;
  readonly alerts: string;
  readonly updates: string;
  readonly late: string;
  readonly dead: string;
}

/** A compacted rules topic and the detector's other topics, `partitions` for the events. */
export async function rulesTopicTopics(
  kit: KafkaTestKit,
  prefix: string,
  partitions: number,
): Promise<RulesTopicTopics> {
  return {
    rules: await kit.createTopic(`${prefix}-rules`, {
      partitions: 1,
      // Room for a huge value list (the broker's default is 1 MB).
      configs: { 'cleanup.policy': 'compact', 'max.message.bytes': String(32 * 2 ** 20) },
    }),
    events: await kit.createTopic(`${prefix}-events`, { partitions }),
    alerts: await kit.createTopic(`${prefix}-alerts`, { partitions: 1 }),
    updates: await kit.createTopic(`${prefix}-updates`, { partitions: 1 }),
    late: await kit.createTopic(`${prefix}-late`, { partitions: 1 }),
    dead: await kit.createTopic(`${prefix}-dead`, { partitions: 1 }),
  };
}

/** A detector process's variables for `t` in `group`; `extra` adds or overrides (ALLOWED_LATENESS_MS, ...). */
export function rulesTopicDetectorEnv(
  kit: KafkaTestKit,
  t: RulesTopicTopics,
  group: string,
  clientId: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: kit.config.brokers.join(','),
    KAFKA_CLIENT_ID: clientId,
    DETECTOR_INPUT_TOPICS: t.events,
    ALERTS_TOPIC: t.alerts,
    ALERT_UPDATES_TOPIC: t.updates,
    LATE_EVENTS_TOPIC: t.late,
    DEAD_LETTER_TOPIC: t.dead,
    RULES_TOPIC: t.rules,
    DETECTOR_GROUP_ID: group,
    DETECTOR_SESSION_TIMEOUT_MS: '6000',
    IDLE_PARTITION_MS: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** A temporary folder holding `files` (name -> text), its path added to `dirs` for the test to remove. */
export function ruleDir(dirs: string[], files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sequor-rules-topic-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** Removes the folders `ruleDir` made. */
export function removeRuleDirs(dirs: readonly string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** `sequor rules publish <dir> --topic <topic>` with the built CLI: its output; rejects on a non-zero exit. */
export async function publishRules(kit: KafkaTestKit, dir: string, topic: string): Promise<string> {
  const { stdout, stderr } = await run(
    process.execPath,
    [cliMainJs, 'rules', 'publish', dir, '--topic', topic],
    {
      env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: kit.config.brokers.join(',') },
    },
  );
  return `${stdout}${stderr}`;
}

/** A test rule (EQL, Execution/T1204) raising `message on $host.name$` for `query`; `extra` is YAML after it. */
export function probeRuleText(rule: {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly version: number;
  readonly message: string;
  readonly query: string;
  readonly extra?: string;
}): string {
  return `id: ${rule.id}
name: ${rule.name}
description: ${rule.description}
version: ${rule.version}
severity: low
risk_score: 21
author: [Sequor tests]
license: Apache License 2.0
threat:
  - framework: MITRE ATT&CK
    tactic: { id: TA0002, name: Execution, reference: "https://attack.mitre.org/tactics/TA0002/" }
    technique: [{ id: T1204, name: User Execution, reference: "https://attack.mitre.org/techniques/T1204/" }]
message: ${rule.message} on $host.name$
type: eql
query: |
  ${rule.query}
${rule.extra ?? ''}`;
}

let template: SequorEvent | undefined;

/** A start of process `name` on host `host` (id and name) at `time`, with event id `id` and optionally a user name. */
export async function processStart(
  name: string,
  host: string,
  id: string,
  time: number,
  user?: string,
): Promise<SequorEvent> {
  if (template === undefined) {
    const rule = (await loadBuiltinRules()).find((r) => r.id === '850d901a-2a3c-46c6-8b22-55398a01aad8')!;
    template = decodeTestEvents(rule, rule.tests[0]!)[0]!;
  }
  const base = template;
  return {
    ...base,
    timestamp: time,
    event: { ...base.event, id, category: ['process'], type: ['start'] },
    host: { ...(base.host ?? {}), id: host, name: host } as SequorEvent['host'],
    process: { ...(base.process ?? {}), name } as SequorEvent['process'],
    ...(user === undefined ? {} : { user: { ...(base.user ?? {}), name: user } as SequorEvent['user'] }),
  };
}

/** Produces `events` to the normalized `topic`, each keyed by its host id. */
export async function produceEvents(
  kit: KafkaTestKit,
  topic: string,
  events: readonly SequorEvent[],
): Promise<void> {
  await kit.produceAll(
    topic,
    events.map((e) => ({ key: e.host!.id!, value: codec.encodeSingleObject(e), headers })),
  );
}

/**
 * Produces a start of `name` on each of `hosts` every `everyMs` (event time = now, event id `idOf(round,
 * host)`) until stopped; `stop()` resolves with how many events it produced.
 */
export function feedProcessStarts(
  kit: KafkaTestKit,
  topic: string,
  feed: {
    readonly name: string;
    readonly hosts: readonly string[];
    readonly everyMs: number;
    readonly idOf: (round: number, host: string) => string;
  },
): { stop(): Promise<number> } {
  let rounds = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const now = Date.now();
      const events = await Promise.all(
        feed.hosts.map((h) => processStart(feed.name, h, feed.idOf(rounds, h), now)),
      );
      await produceEvents(kit, topic, events);
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, feed.everyMs));
    }
  })();
  return {
    async stop(): Promise<number> {
      stopped = true;
      await done;
      return rounds * feed.hosts.length;
    },
  };
}
