// Issue 17: the crafted events that could stall, blind or crash detection in `sequor detect`, through the
// real normalizer and detector on the real broker. The attacker controls what a host logs: here a
// year-9999 event opens WORKSTATION5's stream, two 200 KB command lines (one matching, one not) meet a
// rule with a many-star wildcard and nested-quantifier regexes, and lines that are not JSON, are nested 100,000 deep or carry
// lone surrogates sit between the real events of cmd_service_mod_fax.json. Both services must stay up,
// the two service-creation alerts the file holds must still be raised, the crafted rule must fire on
// the crafted event, and every refused record must be a dead letter with its reason.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRecord } from '@sequor/kafka/testing';
import { headerString, KafkaTestKit } from '@sequor/kafka/testing';
import type { Alert } from '@sequor/rules';
import {
  decodeAlert,
  laterEventOnEveryPartition,
  readLines,
  securityDatasetsDir,
} from '../../services/detector/test/support/e2e.js';
import type { ServicesRun } from './support/services.js';
import { runRawLinesThroughServices } from './support/services.js';

const PARTITIONS = 6;
const SERVICE_CREATION_RULE = '25212358-948e-11ec-ad47-acde48001122';
const CRAFTED_RULE = '0b9f3c1e-7d2a-4e5b-8c6f-1a2b3c4d5e6f';

/** A rule whose patterns backtrack catastrophically as JavaScript RegExps on a long run of `a`s. */
const craftedRule = `id: ${CRAFTED_RULE}
name: Crafted catastrophic patterns
description: A many-star wildcard and a nested-quantifier regex over the command line.
version: 1
severity: low
risk_score: 10
author: [Sequor tests]
license: Apache License 2.0
threat:
  - framework: MITRE ATT&CK
    tactic: { id: TA0002, name: Execution, reference: "https://attack.mitre.org/tactics/TA0002/" }
message: Crafted pattern matched on $host.name$
type: eql
query: |
  process where process.command_line : "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b" and
    process.command_line regex "(a+)+b" and process.command_line regex~ "(a|aa)*c?B"
`;

const sysmon = (time: string, fields: Record<string, unknown>): string =>
  JSON.stringify({
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    Hostname: 'WORKSTATION5.theshire.local',
    '@timestamp': time,
    ...fields,
  });

describe('crafted events through the normalizer and detector', () => {
  let kit: KafkaTestKit;
  let tmp: string;
  let run: ServicesRun | undefined;
  let alerts: Alert[];
  let dead: TestRecord[];

  beforeAll(async () => {
    kit = await KafkaTestKit.connect();
    tmp = await mkdtemp(path.join(tmpdir(), 'sequor-hostile-'));
    await writeFile(path.join(tmp, 'crafted.yaml'), craftedRule);
    const real = readLines(path.join(securityDatasetsDir, 'cmd_service_mod_fax.json'));
    const crafted = {
      future: sysmon('9999-12-31T23:59:59.000Z', {
        EventID: 1,
        Image: 'C:\\Windows\\System32\\cmd.exe',
        CommandLine: 'cmd',
      }),
      huge: sysmon('2020-10-21T08:45:35.000Z', {
        EventID: 1,
        Image: 'C:\\Windows\\System32\\cmd.exe',
        CommandLine: `${'a'.repeat(200_000)}b`,
        ProcessGuid: '{39e4a257-0000-0000-0000-00000000beef}',
      }),
      // No final `b`: a backtracking engine tries every way to split the a's between the stars.
      hugeMiss: sysmon('2020-10-21T08:45:35.500Z', {
        EventID: 1,
        Image: 'C:\\Windows\\System32\\cmd.exe',
        CommandLine: `${'a'.repeat(200_000)}c`,
        ProcessGuid: '{39e4a257-0000-0000-0000-00000000bee0}',
      }),
      notJson: '{"EventID": 1, "Channel": ',
      deep: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      surrogates: sysmon('2020-10-21T08:45:36.000Z', {
        EventID: 1,
        Image: 'C:\\x.exe',
        CommandLine: 'x\ud800y\udfffz',
      }),
    };
    const clock = laterEventOnEveryPartition(PARTITIONS, new Date('2020-10-21T12:00:00Z'));
    const half = Math.floor(real.length / 2);
    const lines = [
      crafted.future,
      ...real.slice(0, half),
      crafted.huge,
      crafted.hugeMiss,
      crafted.notJson,
      crafted.deep,
      crafted.surrogates,
      ...real.slice(half),
      ...clock,
    ];

    // A backtracking matcher spends minutes on the 200 KB lines: the groups would not reach the end in time.
    run = await runRawLinesThroughServices(kit, lines, {
      partitions: PARTITIONS,
      detectorEnv: { RULES_DIR: tmp, ALLOWED_LATENESS_MS: '60000' },
      timeoutMs: 60_000,
    });
    const { detector, normalizer, topics } = run;
    const counters = detector.counters();
    alerts =
      counters.alerts > 0
        ? (await kit.consumeUntil(topics.alerts, counters.alerts)).map((r) => decodeAlert(r.value))
        : [];
    const normalizerDead = normalizer.counters().total.deadLetters;
    dead = await kit.consumeUntil(topics.dead, normalizerDead + counters.deadLetters);
  }, 240_000);

  afterAll(async () => {
    await run?.stop();
    await kit?.close();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('keeps both services running', () => {
    expect(run!.crashed()).toBeUndefined();
  });

  it('still raises the two service creations the year-9999 event would have hidden', () => {
    const creations = alerts.filter((a) => a.rule.id === SERVICE_CREATION_RULE);
    expect(creations.map((a) => new Date(a.evidence[0]!.timestamp).toISOString()).sort()).toEqual([
      '2020-10-21T08:45:33.693Z',
      '2020-10-21T08:45:41.343Z',
    ]);
  });

  it('matches the crafted patterns on the 200 KB command line that has them, and only there', () => {
    expect(alerts.filter((a) => a.rule.id === CRAFTED_RULE)).toHaveLength(1);
  });

  it('dead-letters the future event in the detector, and the unreadable lines in the normalizer, each with its reason', () => {
    const reasons = dead.map((r) => headerString(r.headers, 'error.reason')).sort();
    expect(reasons.filter((r) => r === 'future-timestamp')).toHaveLength(1);
    // The cut-off object and the 100,000-deep array; lone surrogates are read (as U+FFFD), not refused.
    expect(reasons.filter((r) => r === 'malformed')).toHaveLength(2);
    expect(dead).toHaveLength(3);
    for (const letter of dead) {
      expect(headerString(letter.headers, 'origin.topic')).toBeDefined();
      expect(headerString(letter.headers, 'origin.offset')).toMatch(/^\d+$/);
    }
  });
});
