import { describe, expect, it } from 'vitest';
import { parseMinLevel, parseStatuses, parseTags, RuleSelectionError, selectRules } from '../src/select.js';
import type { Rule } from '../src/types.js';

const sigma = (id: string, level: string | null, status: string | null, tags: string[]): Rule =>
  ({
    type: 'sigma',
    id,
    level,
    status,
    tags,
    severity: level === 'informational' ? 'low' : (level ?? 'medium'),
  }) as unknown as Rule;
const eql = (id: string, severity: string, tags: string[]): Rule =>
  ({ type: 'eql', id, severity, tags }) as unknown as Rule;

const rules = [
  sigma('info', 'informational', 'stable', ['attack.discovery']),
  sigma('high', 'high', 'test', ['attack.execution', 'attack.t1059.001']),
  sigma('none', null, null, []),
  eql('eql-medium', 'medium', ['Windows']),
  eql('eql-critical', 'critical', []),
];
const ids = (selected: readonly Rule[]): string[] => selected.map((r) => r.id);

describe('rule selection (--min-level, --status, --tags)', () => {
  it('keeps rules at the level or above: Sigma by its level (none: medium), Sequor YAML by severity', () => {
    expect(ids(selectRules(rules, { minLevel: 'informational' }))).toEqual(ids(rules));
    expect(ids(selectRules(rules, { minLevel: 'low' }))).toEqual([
      'high',
      'none',
      'eql-medium',
      'eql-critical',
    ]);
    expect(ids(selectRules(rules, { minLevel: 'high' }))).toEqual(['high', 'eql-critical']);
  });

  it('filters Sigma rules by status; Sequor YAML rules have none and stay', () => {
    expect(ids(selectRules(rules, { statuses: ['stable'] }))).toEqual(['info', 'eql-medium', 'eql-critical']);
  });

  it('selects Sigma correlations by their own status and level, as rules', () => {
    const correlation = (id: string, level: string | null, status: string | null): Rule =>
      ({ ...sigma(id, level, status, []), type: 'sigma-correlation' }) as unknown as Rule;
    const set = [correlation('c-test-high', 'high', 'test'), correlation('c-stable-low', 'low', 'stable')];
    expect(ids(selectRules(set, { statuses: ['stable'] }))).toEqual(['c-stable-low']);
    expect(ids(selectRules(set, { minLevel: 'medium' }))).toEqual(['c-test-high']);
  });

  it('keeps rules with any of the tags, case-insensitive, `*` a prefix', () => {
    expect(ids(selectRules(rules, { tags: ['attack.t1059*'] }))).toEqual(['high']);
    expect(ids(selectRules(rules, { tags: ['windows', 'attack.discovery'] }))).toEqual([
      'info',
      'eql-medium',
    ]);
  });

  it('parses the settings and names the setting in a refusal', () => {
    expect(parseMinLevel(' High ', '--min-level')).toBe('high');
    expect(parseStatuses('stable, test', '--status')).toEqual(['stable', 'test']);
    expect(parseTags('Attack.T1059*,x', '--tags')).toEqual(['attack.t1059*', 'x']);
    expect(() => parseMinLevel('severe', 'SIGMA_MIN_LEVEL')).toThrow(RuleSelectionError);
    expect(() => parseMinLevel('severe', 'SIGMA_MIN_LEVEL')).toThrow(
      /^SIGMA_MIN_LEVEL: "severe" is not a level/,
    );
    expect(() => parseStatuses('stable,beta', '--status')).toThrow(/--status/);
    expect(() => parseTags(' , ', '--tags')).toThrow(/--tags/);
  });
});
