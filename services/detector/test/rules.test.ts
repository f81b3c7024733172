import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@sequor/model';
import { loadDetectorRules, RuleSetRefusedError, ruleWindowMs } from '../src/rules.js';

const HOUR = 3_600_000;

const ruleFile = (id: string, name: string, query: string): string => `id: ${id}
name: ${name}
description: A test rule.
version: 1
severity: low
risk_score: 10
author: [Sequor tests]
license: Apache License 2.0
threat:
  - framework: MITRE ATT&CK
    tactic: { id: TA0003, name: Persistence, reference: "https://attack.mitre.org/tactics/TA0003/" }
message: test on $host.name$
type: eql
query: |
${query
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;

describe('loadDetectorRules', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'detector-rules-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the four built-in rules and the windows that bound their state', async () => {
    const set = await loadDetectorRules({ partitionKeyFields: ['host.id', 'host.name', 'user.id'] });
    expect(set.rules).toHaveLength(4);
    expect(set.errors).toEqual([]);
    expect(set.longestWindowMs).toBe(HOUR);
    expect(set.longestJoinWindowMs).toBe(HOUR);
    const windows = Object.fromEntries(set.rules.map((r) => [r.compiled.spec.kind, ruleWindowMs(r)]));
    expect(windows).toEqual({ filter: 0, sequence: 60_000, join: HOUR, spanAggregate: HOUR });
  });

  it('adds user rules, and refuses (reports, skips) one whose key is not co-partitioned or whose state is unbounded', async () => {
    await writeFile(
      path.join(dir, 'good.yaml'),
      ruleFile(
        '6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11',
        'Good',
        'sequence by host.id with maxspan=1m\n  [process where process.name : "reg.exe"]\n  [registry where registry.path : "*\\\\Run\\\\*"]',
      ),
    );
    await writeFile(
      path.join(dir, 'by-user.yaml'),
      ruleFile(
        '6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a12',
        'By user',
        'sequence by user.id with maxspan=1m\n  [process where true]\n  [registry where true]',
      ),
    );
    await writeFile(
      path.join(dir, 'forever.yaml'),
      ruleFile(
        '6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a13',
        'Forever',
        'sequence by host.id\n  [process where true]\n  [registry where true]',
      ),
    );
    const set = await loadDetectorRules({
      rulesDir: dir,
      partitionKeyFields: ['host.id', 'host.name', 'user.id'],
    });
    expect(set.rules.map((r) => r.rule.name).sort()).toEqual(
      [
        'Good',
        ...[
          'Potential Remote Credential Access via Registry',
          'Remcos client registry install entry',
          'Remote Registry Modification over SMB (CAR-2014-11-005)',
          'Windows Service Creation Using Registry Entry',
        ],
      ].sort(),
    );
    const byFile = Object.fromEntries(set.errors.map((e) => [path.basename(e.file), e]));
    expect(byFile['by-user.yaml']?.code).toBe('incompatible-partition-key');
    expect(byFile['by-user.yaml']?.format()).toMatch(/partitioned by host\.id/);
    expect(byFile['forever.yaml']?.format()).toMatch(/state no window bounds.*maxspan/);
  });

  it('refuses a start with no rule at all, unless rules come from a rules topic too', async () => {
    await expect(
      loadDetectorRules({ rulesDir: dir, builtins: false, partitionKeyFields: ['host.id'] }),
    ).rejects.toThrow(/no rule loads .*no RULES_TOPIC/);
    const fromTopic = await loadDetectorRules({
      rulesDir: dir,
      builtins: false,
      partitionKeyFields: ['host.id'],
      rulesFromTopic: true,
    });
    expect(fromTopic.rules).toEqual([]);
    // Every RULES_DIR file refused is still no start, topic or not.
    await writeFile(path.join(dir, 'broken.yaml'), 'id: [not a rule\n');
    await expect(
      loadDetectorRules({
        rulesDir: dir,
        builtins: false,
        partitionKeyFields: ['host.id'],
        rulesFromTopic: true,
      }),
    ).rejects.toThrow(/no rule loads: every rule of RULES_DIR was refused/);
  });

  it('fails the start on any refused rule when strict', async () => {
    await writeFile(
      path.join(dir, 'by-user.yaml'),
      ruleFile(
        '6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a12',
        'By user',
        'sequence by user.id with maxspan=1m\n  [process where true]\n  [registry where true]',
      ),
    );
    await expect(
      loadDetectorRules({ rulesDir: dir, partitionKeyFields: ['host.id'], strict: true }),
    ).rejects.toBeInstanceOf(RuleSetRefusedError);
  });

  it('VALUE_LISTS_DIR: a rule naming a missing list is refused with the reason, the others run', async () => {
    const lists = path.join(dir, 'lists');
    const rules = path.join(dir, 'rules');
    await mkdir(lists);
    await mkdir(rules);
    await writeFile(path.join(lists, 'admins.keyword'), 'root\n');
    const query = 'process where process.name : "reg.exe"';
    const exception = (list: string): string =>
      `exceptions:\n  - { field: user.name, operator: in_list, list: ${list} }\n`;
    await writeFile(
      path.join(rules, 'a.yaml'),
      ruleFile('6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11', 'Listed', query) + exception('admins'),
    );
    await writeFile(
      path.join(rules, 'b.yaml'),
      ruleFile('6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a12', 'Missing', query) + exception('operators'),
    );
    const set = await loadDetectorRules({
      rulesDir: rules,
      valueListsDir: lists,
      partitionKeyFields: ['host.id'],
    });
    expect(set.rules.map((r) => r.rule.name)).toContain('Listed');
    expect(set.rules.map((r) => r.rule.name)).not.toContain('Missing');
    expect(set.rules).toHaveLength(5);
    expect(set.errors.map((e) => `${path.basename(e.file)}: ${e.detail}`)).toEqual([
      `b.yaml: value list "operators" is missing: no operators.keyword|ip|cidr|wildcard in ${lists}`,
    ]);
    await expect(
      loadDetectorRules({
        rulesDir: rules,
        valueListsDir: path.join(dir, 'nope'),
        partitionKeyFields: ['host.id'],
      }),
    ).rejects.toThrow(/VALUE_LISTS_DIR=.*nope.*a readable directory of value lists/);
  });

  it('fails the start on a RULES_DIR that is not a directory', async () => {
    await expect(
      loadDetectorRules({ rulesDir: path.join(dir, 'missing'), partitionKeyFields: ['host.id'] }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('takes Sigma files in RULES_DIR beside Sequor YAML, and runs the rules the selection keeps', async () => {
    const sigma = (id: string, level: string): string => `title: Sigma ${level}
id: ${id}
status: test
level: ${level}
tags: [attack.execution]
logsource: { product: windows, category: process_creation }
detection:
  selection: { Image|endswith: '\\x.exe' }
  condition: selection
`;
    await writeFile(path.join(dir, 'low.yml'), sigma('0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a6b', 'low'));
    await writeFile(path.join(dir, 'high.yml'), sigma('1b6e1d3f-7e4c-4b5f-8b8f-2d3e4f5a6b7c', 'high'));
    const all = await loadDetectorRules({ rulesDir: dir, partitionKeyFields: ['host.id'] });
    expect(all.errors).toEqual([]);
    expect(
      all.rules
        .filter((r) => r.rule.type === 'sigma')
        .map((r) => r.rule.name)
        .sort(),
    ).toEqual(['Sigma high', 'Sigma low']);
    const chosen = await loadDetectorRules({
      rulesDir: dir,
      partitionKeyFields: ['host.id'],
      selection: { minLevel: 'high', tags: ['attack.execution'] },
    });
    expect(chosen.rules.map((r) => r.rule.name)).toEqual(['Sigma high']);
  });
});
