import { describe, expect, it } from 'vitest';
import type { SigmaFilter, SigmaRule } from '../src/index.js';
import { defaultPipeline, loadSigmaText, objectFieldSource, SigmaRuleSet } from '../src/index.js';
import { ruleText } from './helpers.js';

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

function rule(id: string, logsource: string, detection: string): SigmaRule {
  const text = ruleText(detection, logsource).replace('5f1d6c1e-0000-4000-8000-000000000001', id);
  const { rule, errors } = loadSigmaText(text, `${id}.yml`);
  if (rule === null) throw new Error(errors.map((e) => e.format()).join('\n'));
  return rule;
}

function filter(text: string): SigmaFilter {
  const { filter, rule, errors } = loadSigmaText(text, 'mf_test.yml');
  expect(rule).toBeNull();
  if (filter === null || filter === undefined) throw new Error(errors.map((e) => e.format()).join('\n'));
  return filter;
}

const whoami = rule(
  'r-whoami',
  'product: windows\n  category: process_creation',
  "  sel:\n    Image|endswith: '\\\\whoami.exe'\n  condition: sel",
);
const net = rule(
  'r-net',
  'product: windows\n  category: process_creation',
  "  sel:\n    Image|endswith: '\\\\net.exe'\n  condition: sel",
);
const reg = rule(
  'r-reg',
  'product: windows\n  category: registry_set',
  "  sel:\n    TargetObject|contains: 'Run'\n  condition: sel",
);

const adminFilter = (rules: string): string =>
  [
    'title: Filter the admin account',
    'id: 9a1b0000-0000-4000-8000-00000000f11e',
    'logsource:',
    '  category: process_creation',
    '  product: windows',
    'filter:',
    `  rules: ${rules}`,
    '  selection:',
    "    User|startswith: 'CORP\\adm_'",
    '  condition: not selection',
  ].join('\n');

const events = {
  adminWhoami: {
    Channel: SYSMON,
    EventID: 1,
    Image: 'C:\\Windows\\System32\\whoami.exe',
    User: 'CORP\\adm_bob',
  },
  userWhoami: { Channel: SYSMON, EventID: 1, Image: 'C:\\Windows\\System32\\whoami.exe', User: 'CORP\\bob' },
  adminNet: { Channel: SYSMON, EventID: 1, Image: 'C:\\Windows\\System32\\net.exe', User: 'CORP\\adm_bob' },
  adminReg: { Channel: SYSMON, EventID: 13, TargetObject: 'HKLM\\...\\Run\\x', User: 'CORP\\adm_bob' },
};

function matches(set: SigmaRuleSet): Record<string, (string | null)[]> {
  return Object.fromEntries(
    Object.entries(events).map(([name, e]) => [name, set.match(objectFieldSource(e)).map((r) => r.rule.id)]),
  );
}

describe('meta filters', () => {
  it('rules: any suppresses matches of every rule of the logsource, not of other logsources', () => {
    const set = new SigmaRuleSet([whoami, net, reg], defaultPipeline, [filter(adminFilter('any'))]);
    expect(matches(set)).toEqual({
      adminWhoami: [],
      userWhoami: ['r-whoami'],
      adminNet: [],
      adminReg: ['r-reg'],
    });
  });

  it('a list of rule ids applies only to those rules', () => {
    const set = new SigmaRuleSet([whoami, net, reg], defaultPipeline, [filter(adminFilter('\n    - r-net'))]);
    expect(matches(set)).toMatchObject({ adminWhoami: ['r-whoami'], adminNet: [] });
  });

  it('without filters the rules match as written', () => {
    expect(matches(new SigmaRuleSet([whoami, net, reg], defaultPipeline))).toMatchObject({
      adminWhoami: ['r-whoami'],
      adminNet: ['r-net'],
    });
  });

  it('a filter without rules or condition is an error with its position', () => {
    const noRules = loadSigmaText(adminFilter('any').replace('  rules: any\n', ''), 'mf.yml');
    expect(noRules.errors[0]?.detail).toMatch(/needs `rules`/);
    const badCondition = loadSigmaText(adminFilter('any').replace('not selection', 'not nothing'), 'mf.yml');
    expect(badCondition.errors[0]).toMatchObject({ code: 'invalid-condition', line: 10 });
  });
});
