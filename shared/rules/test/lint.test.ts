import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { checkPartitionCompatibility, checkRuleSet } from '../src/lint.js';
import { isCorrelationRule, ruleKeyFields } from '../src/query-fields.js';
import { loadRuleDir, loadRuleFile } from '../src/loader.js';
import type { Rule } from '../src/types.js';
import { validRule, withLine, withQuery } from './fixtures.js';

function ruleFrom(text: string, file = 'rules/r.yaml'): Rule {
  const r = analyzeRuleText(text, file);
  if (r.rule === null) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.rule;
}

const spanRule = (groupBy: string): string =>
  withQuery(
    withLine(validRule, 17, 'type: span_aggregation'),
    `query: |\n  registry where registry.value : "ImagePath"\nspan: 1h\ngroup_by: ${groupBy}\n`,
  );

describe('checkPartitionCompatibility', () => {
  it('accepts a sequence keyed by host.id (and finer keys)', () => {
    expect(checkPartitionCompatibility(ruleFrom(validRule))).toBeNull();
    const finer = withQuery(
      validRule,
      'query: |\n  sequence by host.id, user.id with maxspan=1m\n    [process where true]\n    [file where true]\n',
    );
    expect(checkPartitionCompatibility(ruleFrom(finer))).toBeNull();
    expect(ruleKeyFields(ruleFrom(finer))).toEqual(['host.id', 'user.id']);
  });

  it('accepts host.id given per item at the same key position', () => {
    const perItem = withQuery(
      validRule,
      'query: |\n  sequence with maxspan=1m\n    [process where true] by host.id\n    [file where true] by host.id\n',
    );
    expect(checkPartitionCompatibility(ruleFrom(perItem))).toBeNull();
  });

  it('refuses a sequence keyed by user.id only, pointing at the by field and saying why', () => {
    const text = withQuery(
      validRule,
      'query: |\n  sequence by user.id with maxspan=1m\n    [process where true]\n    [file where true]\n',
    );
    const e = checkPartitionCompatibility(ruleFrom(text));
    expect(e?.code).toBe('incompatible-partition-key');
    expect([e?.line, e?.column, e?.length]).toEqual([19, 15, 7]);
    expect(e?.detail).toMatch(/correlates by user\.id, which does not include host\.id/);
    expect(e?.detail).toMatch(/partitioned by host\.id/);
    expect(e?.detail).toMatch(/silently missed/);
  });

  it('refuses items keyed on host.id at different positions, and a join with no key', () => {
    const crossed = withQuery(
      validRule,
      'query: |\n  sequence with maxspan=1m\n    [process where true] by host.id, user.id\n    [file where true] by user.id, host.id\n',
    );
    expect(checkPartitionCompatibility(ruleFrom(crossed))?.code).toBe('incompatible-partition-key');
    const unkeyed = withQuery(
      validRule,
      'query: |\n  join with maxspan=1h\n    [process where true]\n    [file where true]\n',
    );
    const e = checkPartitionCompatibility(ruleFrom(unkeyed));
    expect(e?.detail).toMatch(/has no `by` key/);
    expect([e?.line, e?.column]).toEqual([19, 3]);
  });

  it('checks span_aggregation group_by, and needs no key for an event query', () => {
    expect(checkPartitionCompatibility(ruleFrom(spanRule('[host.id, registry.path]')))).toBeNull();
    const e = checkPartitionCompatibility(ruleFrom(spanRule('[host.name, registry.path]')));
    expect([e?.code, e?.line, e?.column]).toEqual(['incompatible-partition-key', 21, 11]);
    expect(e?.detail).toMatch(/group_by \[host\.name, registry\.path\] does not include host\.id/);
    const event = ruleFrom(withQuery(validRule, 'query: process where true\n'));
    expect(isCorrelationRule(event)).toBe(false);
    expect(checkPartitionCompatibility(event, ['user.id'])).toBeNull();
  });

  it('uses the partition key fields the normalizer publishes', () => {
    const rule = ruleFrom(
      withQuery(
        validRule,
        'query: |\n  sequence by user.id with maxspan=1m\n    [process where true]\n    [file where true]\n',
      ),
    );
    expect(checkPartitionCompatibility(rule, ['user.id'])).toBeNull();
    expect(checkPartitionCompatibility(ruleFrom(validRule), ['host.id', 'user.id'])?.detail).toMatch(
      /does not include user\.id/,
    );
  });
});

describe('checkRuleSet', () => {
  it('refuses a rule the engine cannot compile, positioned in the file (checkQuery passed it)', () => {
    const perFile = analyzeRuleText(
      withQuery(validRule, 'query: |\n  network where\n    source.ip == "300.1.1.1"\n'),
      'rules/ip.yaml',
    );
    expect(perFile.rule).not.toBeNull();
    expect(perFile.errors).toEqual([]);
    const [checked] = checkRuleSet([perFile]);
    expect(checked?.rule).toBeNull();
    expect(checked?.errors.map((e) => [e.code, e.line, e.column, e.detail])).toEqual([
      ['compile', 20, 5, 'source.ip is an IP address; cannot compare it with "300.1.1.1"'],
    ]);
  });

  it('refuses a comparison across types in the file itself (it used to warn, then compare as text)', () => {
    const perFile = analyzeRuleText(
      withQuery(validRule, 'query: |\n  process where\n    process.name > 5\n'),
      'rules/gt.yaml',
    );
    expect(perFile.rule).toBeNull();
    expect(perFile.errors.map((e) => [e.code, e.line, e.column])).toEqual([['eql-semantic', 20, 5]]);
    expect(perFile.errors[0]?.detail).toMatch(
      /process\.name is string but is compared with a number literal/,
    );
  });
});

describe('loadRuleDir', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sequor-rules-'));
    await mkdir(path.join(dir, 'nested'));
    await writeFile(path.join(dir, 'a-good.yaml'), validRule);
    await writeFile(path.join(dir, 'b-broken-yaml.yaml'), withLine(validRule, 7, 'author: [Sequor'));
    await writeFile(path.join(dir, 'c-duplicate-id.yaml'), withLine(validRule, 2, 'name: Same id as a-good'));
    await writeFile(
      path.join(dir, 'nested', 'd-user-keyed.yml'),
      withLine(
        withQuery(
          validRule,
          'query: |\n  sequence by user.id with maxspan=1m\n    [process where true]\n    [file where true]\n',
        ),
        1,
        'id: 0b9e3c1a-7d2f-4e5a-8c6b-1f2e3d4c5b6a',
      ),
    );
    await writeFile(
      path.join(dir, 'e-other-good.yaml'),
      withLine(withLine(validRule, 1, 'id: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f'), 6, 'risk_score: 90'),
    );
    await writeFile(path.join(dir, 'notes.txt'), 'not a rule');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the good rules and reports each bad file with its position; one bad file never stops the others', async () => {
    const loaded = await loadRuleDir(dir);
    expect(loaded.rules.map((r) => path.basename(r.location.file))).toEqual([
      'a-good.yaml',
      'e-other-good.yaml',
    ]);
    expect(loaded.errors.map((e) => [path.relative(dir, e.file), e.code, e.line, e.column])).toEqual([
      ['b-broken-yaml.yaml', 'yaml-syntax', 8, 1],
      ['c-duplicate-id.yaml', 'duplicate-id', 1, 5],
      [path.join('nested', 'd-user-keyed.yml'), 'incompatible-partition-key', 19, 15],
    ]);
    expect(loaded.errors[1]?.detail).toMatch(/already used by .*a-good\.yaml:1/);
    expect(loaded.warnings.map((w) => [path.basename(w.file), w.code])).toEqual([
      ['e-other-good.yaml', 'risk-severity-mismatch'],
    ]);
    expect(loaded.files).toHaveLength(5);
  });

  it('reports an unreadable file or directory as an error, not an exception', async () => {
    const missing = await loadRuleFile(path.join(dir, 'nope.yaml'));
    expect(missing.errors.map((e) => [e.code, e.line, e.column])).toEqual([['io', 1, 1]]);
    const noDir = await loadRuleDir(path.join(dir, 'no-such-dir'));
    expect(noDir.rules).toEqual([]);
    expect(noDir.errors[0]?.code).toBe('io');
  });
});

describe('slow patterns (issue 17: matching is linear, lint says what is still costly)', () => {
  const lint = (condition: string) =>
    analyzeRuleText(withQuery(validRule, `query: |\n  process where\n    ${condition}\n`), 'rules/slow.yaml');

  it('warns about many-segment wildcards and huge automata, at the pattern, and still loads the rule', () => {
    const r = lint('process.command_line : "*a*b*c*d*e*" or process.name regex "(abc|def){300}"');
    expect(r.rule).not.toBeNull();
    expect(r.warnings.map((w) => [w.code, w.line, w.column])).toEqual([
      ['slow-pattern', 20, 5],
      ['slow-pattern', 20, 45],
    ]);
    expect(r.warnings[0]?.detail).toMatch(/5 inner segments between stars/);
    expect(r.warnings[1]?.detail).toMatch(/automaton of \d+ states/);
    expect(r.warnings[0]?.snippet).toContain('^');
  });

  it('does not warn about ordinary patterns, and leaves invalid ones to the checker', () => {
    for (const condition of [
      'process.command_line : "*powershell*-enc*"',
      'process.command_line like~ ("*a?c*", "x*y*z")',
      'process.name regex~ "(cmd|powershell)\\\\.exe"',
      'process.name regex ".*(a+)+b"',
      'wildcard(process.name, "*a*b*c*d*")',
    ]) {
      const r = lint(condition);
      expect(r.warnings, condition).toEqual([]);
      expect(r.errors, condition).toEqual([]);
    }
    expect(lint('wildcard(process.name, "*a*b*c*d*e*f*")').warnings.map((w) => w.code)).toEqual([
      'slow-pattern',
    ]);
    const invalid = lint('process.name regex "(a"');
    expect(invalid.errors.map((e) => e.code)).toEqual(['eql-semantic']);
    expect(invalid.warnings).toEqual([]);
  });
});
