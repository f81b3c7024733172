import { describe, expect, it } from 'vitest';
import { noValueLists, parseValueList, ruleRevision } from '@sequor/rules';
import type { DetectorRuleSet } from '../src/rules.js';
import { describeChange, topicRuleBudget, topicRuleValidator } from '../src/rules-topic.js';

const HOUR = 3_600_000;
const base: DetectorRuleSet = {
  rules: [],
  errors: [],
  warnings: [],
  longestWindowMs: HOUR,
  longestJoinWindowMs: HOUR,
  longestSuppressionWindowMs: 0,
};

function rule(query: string, extra = ''): string {
  return `id: 7d0a4c1e-1111-4a51-9d0e-4b7f2f3c1a09
name: Topic rule
description: a rule from the rules topic
version: 3
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
  ${query}
${extra}`;
}

const sigma = `title: Topic Sigma rule
id: 5b2d3c1e-2222-4a51-9d0e-4b7f2f3c1a10
status: test
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\\\hotreload.exe'
  condition: selection
level: low
`;

const validate = topicRuleValidator({ partitionKeyFields: ['host.id'], budget: topicRuleBudget(base, 0) });
const revisionOf = (lists: readonly string[]) => ruleRevision('t', new Map(lists.map((l) => [l, 'x'])));

describe('topic rule validation', () => {
  it('takes a Sequor rule and compiles it with its revision (alerts carry it)', () => {
    const out = validate(
      rule('process where process.name : "a.exe"'),
      'rules@0 rule:x',
      noValueLists,
      revisionOf,
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out).toMatchObject({ id: '7d0a4c1e-1111-4a51-9d0e-4b7f2f3c1a09', version: 3, listsUsed: [] });
    expect(out.compiled.rule.id).toBe(out.id);
  });

  it('takes a Sigma rule, sniffed as Sigma', () => {
    const out = validate(sigma, 'rules@1 rule:y', noValueLists, revisionOf);
    expect(out.ok ? [out.id, out.compiled.rule.type] : out.errors).toEqual([
      '5b2d3c1e-2222-4a51-9d0e-4b7f2f3c1a10',
      'sigma',
    ]);
  });

  it('refuses with file:line:column errors naming the record, an unbounded sequence, a window past the horizon', () => {
    const bad = validate(
      rule('process where process.nam : "a.exe"'),
      'rules@2 rule:z',
      noValueLists,
      revisionOf,
    );
    expect(bad.ok ? [] : bad.errors.join('\n')).toMatch(
      /^rules@2 rule:z:\d+:\d+: unknown field process\.nam/m,
    );
    const unbounded = validate(
      rule('sequence by host.id [process where true] [process where true]'),
      'rules@3 rule:z',
      noValueLists,
      revisionOf,
    );
    expect(unbounded.ok ? [] : unbounded.errors.join('\n')).toMatch(/window|maxspan/);
    const long = validate(
      rule('sequence by host.id with maxspan=2h [process where true] [process where true]'),
      'rules@4 rule:z',
      noValueLists,
      revisionOf,
    );
    expect(long.ok ? [] : long.errors.join('\n')).toMatch(
      /its window, 2h, is longer than this detector's restore horizon takes \(1h\); raise RULES_TOPIC_MAX_WINDOW_MS/,
    );
    const roomier = topicRuleValidator({
      partitionKeyFields: ['host.id'],
      budget: topicRuleBudget(base, 2 * HOUR),
    });
    expect(
      roomier(
        rule('sequence by host.id with maxspan=2h [process where true] [process where true]'),
        'r',
        noValueLists,
        revisionOf,
      ).ok,
    ).toBe(true);
  });

  it('refuses a rule naming a list that is not there, with the list named', () => {
    const out = validate(
      rule(
        'process where process.name : "a.exe"',
        'exceptions:\n  - { field: user.name, operator: in_list, list: admins }\n',
      ),
      'rules@5 rule:z',
      noValueLists,
      revisionOf,
    );
    expect(out.ok ? [] : out.errors.join('\n')).toMatch(/admins/);
  });

  it('takes a Sigma correlation whose named rule excepts by a value list, and names the list as used', () => {
    const record = `title: many failed logons
id: 6a2b1f8e-2c1d-4f3a-9b8e-1d2c3b4a5f61
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [host.id]
  timespan: 10m
  condition: { gte: 3 }
---
title: failed logon
id: 53ba33fd-3a50-4468-a5ef-c583635cfa93
name: failed_login
logsource: { product: windows, service: security }
sequor:
  exceptions:
    - { field: user.name, operator: in_list, list: admins }
detection:
  selection: { EventID: 4625 }
  condition: selection
`;
    const lists = {
      dir: 'lists',
      lists: new Map([['admins', parseValueList('admins', 'keyword', 'lists/admins.keyword', 'root\n')]]),
      refused: new Map(),
    };
    const out = validate(record, 'rules@6 rule:c', lists, revisionOf);
    expect(out.ok ? [out.id, out.listsUsed] : out.errors).toEqual([
      '6a2b1f8e-2c1d-4f3a-9b8e-1d2c3b4a5f61',
      ['admins'],
    ]);
  });

  it('says every catalog step in one line with a level', () => {
    expect(
      describeChange({ kind: 'refused', id: 'r', offset: 3, errors: ['e'], keeps: 'abc' }),
    ).toMatchObject({
      level: 'error',
      message: 'rule refused: its previous version keeps running',
    });
    expect(describeChange({ kind: 'malformed', key: null, offset: 1, reason: 'no key' }).level).toBe('error');
    expect(describeChange({ kind: 'list-changed', name: 'l', offset: 2, entries: 3 }).message).toBe(
      'value list changed on the rules topic',
    );
  });
});
