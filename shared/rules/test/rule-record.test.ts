/**
 * A rules-topic record checked alone (`checkRuleRecordText`) and the Sigma meta filters that would reach
 * rules beyond their record (`filtersBeyondRecord`): what `sequor rules publish` refuses before writing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/index.js';
import { checkRuleRecordText, filtersBeyondRecord } from '../src/rule-record.js';

const rule = (id: string, name: string, service = 'security') =>
  `title: ${name}\nid: ${id}\nname: ${name}\nlogsource: { product: windows, service: ${service} }\ndetection:\n  selection: { EventID: 4625 }\n  condition: selection\n`;
const filter = (rules: string, service = 'security') =>
  `title: not admin\nlogsource: { product: windows, service: ${service} }\nfilter:\n  rules: ${rules}\n  selection: { TargetUserName: admin }\n  condition: not selection\n`;
const A = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5c01';
const B = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5c02';

describe('filtersBeyondRecord', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rule-record-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What the filter in x.yml reaches beyond its file, with y.yml beside it. */
  const beyond = async (x: string, y: string) => {
    await writeFile(path.join(dir, 'x.yml'), x);
    await writeFile(path.join(dir, 'y.yml'), y);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    return filtersBeyondRecord(loaded.files, path.join(dir, 'x.yml'));
  };

  it('names a rule of another file the filter applies to, by name (even one its own file shares) or rules: any', async () => {
    expect(
      await beyond(`${rule(A, 'failed_login')}---\n${filter('[failed_login]')}`, rule(B, 'failed_login')),
    ).toMatch(
      /x\.yml:\d+:\d+: filter "not admin" applies over the folder to "failed_login" \(.*y\.yml\), in another file/,
    );
    expect(await beyond(`${rule(A, 'failed_login')}---\n${filter('any')}`, rule(B, 'other'))).toMatch(
      /"other"/,
    );
  });

  it('is null when the filter reaches no rule outside its file: its own by id, a logsource that does not cover, a name no rule has', async () => {
    expect(await beyond(`${rule(A, 'failed_login')}---\n${filter(`[${A}]`)}`, rule(B, 'other'))).toBeNull();
    expect(
      await beyond(`${rule(A, 'failed_login')}---\n${filter('any')}`, rule(B, 'other', 'system')),
    ).toBeNull();
    expect(
      await beyond(`${rule(A, 'failed_login')}---\n${filter('[nothing_by_that_name]')}`, rule(B, 'other')),
    ).toBeNull();
  });
});

describe('checkRuleRecordText', () => {
  it('takes one alerting rule; refuses two, naming the record', () => {
    const one = checkRuleRecordText(rule(A, 'failed_login'), 'rules@0', { partitionKeyFields: ['host.id'] });
    expect(one.ok ? one.rule.id : one.errors).toBe(A);
    const two = checkRuleRecordText(`${rule(A, 'a')}---\n${rule(B, 'b')}`, 'rules@1', {
      partitionKeyFields: ['host.id'],
    });
    expect(two.ok ? [] : two.errors).toEqual([
      expect.stringMatching(/^rules@1: a rule record holds exactly one rule that alerts .* holds 2$/),
    ]);
  });
});
