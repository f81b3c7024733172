/**
 * `sequor detect` (embedded mode) with a rule that throws on one event: the event is one dead letter
 * `rule-error` with file:line naming the rules, the rules beside them still alert on it, and the run
 * goes on. Before, the partition's processor closed and the run failed. Run in process: no real rule is
 * known to throw, so the throwing rules are made here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import { eventCountRuleOf, filterRuleOf } from '@sequor/rules/testing';
import { runEmbeddedDetection } from '../src/embedded.js';
import { expandInputs, formatOverride, openInputs } from '../src/io/inputs.js';
import { formatDetectionSummary } from '../src/summary.js';

let tmp = '';
let file = '';

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-rule-error-'));
  file = path.join(tmp, 'events.ndjson');
  const lines = ['e1', 'bad', 'e3'].map((id, i) => ({
    '@timestamp': new Date(Date.UTC(2024, 4, 6, 12, 0, i)).toISOString(),
    event: { id, category: ['process'], type: ['start'] },
    host: { id: 'name:ws1', name: 'WS1' },
    process: { name: 'cmd.exe' },
  }));
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
});

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('sequor detect: a rule that throws on one event', () => {
  it('dead-letters the event once as rule-error with file:line; every other rule still alerts', async () => {
    const base = (await loadBuiltinRules()).map((r) => compileRule(r))[0]!;
    const throwOn = (message: string) => (e: SequorEvent) => {
      if (e.event.id === 'bad') throw new Error(message);
      return true;
    };
    const rules = [
      filterRuleOf(base, 'every-event', () => true),
      filterRuleOf(base, 'rule-a', throwOn('bug a')),
      filterRuleOf(base, 'rule-b', throwOn('bug b')),
    ];
    const { opened } = await openInputs(await expandInputs([file]), formatOverride('ecs'));
    const alerts: string[] = [];
    const summary = await runEmbeddedDetection({
      inputs: opened,
      rules,
      partitions: 1,
      onAlert: (alert) => alerts.push(alert.evidence[0]!.event_id),
    });
    // every-event on all three, rule-a and rule-b on e1 and e3.
    expect(alerts.sort()).toEqual(['bad', 'e1', 'e1', 'e1', 'e3', 'e3', 'e3']);
    expect(summary).toMatchObject({ deadLetters: 1, deadLettersByReason: { 'rule-error': 1 } });
    expect(summary.inputs[0]).toMatchObject({ events: 3, deadLetters: 1 });
    expect(summary.deadLetterExamples).toEqual([
      `${file}:2: rule-error: rule rule-a threw on this event (counted as not matched): Error: bug a; ` +
        'rule rule-b threw on this event (counted as not matched): Error: bug b',
    ]);
    expect(formatDetectionSummary(summary)).toContain('dead letters: 1 (rule-error 1)');
  });
});

describe('sequor detect: a correlation that throws on an event released later', () => {
  it('adds to that event’s one dead letter, whatever other events failed in between', async () => {
    const base = (await loadBuiltinRules()).map((r) => compileRule(r))[0]!;
    // Two events of a host (as a Sigma event_count correlation runs), whose input throws on `bad` (run
    // when the reorder stage releases it: here at the end of the input, after e3 was pushed).
    const rules: CompiledRule[] = [
      filterRuleOf(base, 'rule-a', (e) => {
        if (e.event.id === 'bad' || e.event.id === 'e3') throw new Error('bug a');
        return false;
      }),
      eventCountRuleOf(base, 'pairs', (e) => {
        if (e.event.id === 'bad') throw new Error('step bug');
        return true;
      }),
    ];
    const { opened } = await openInputs(await expandInputs([file]), formatOverride('ecs'));
    const summary = await runEmbeddedDetection({ inputs: opened, rules, partitions: 1, onAlert: () => {} });
    expect(summary).toMatchObject({ deadLetters: 2, deadLettersByReason: { 'rule-error': 2 } });
    expect(summary.deadLetterExamples).toEqual([
      `${file}:2: rule-error: rule rule-a threw on this event (counted as not matched): Error: bug a; ` +
        'rule pairs threw on this event (counted as not matched): Error: step bug',
      `${file}:3: rule-error: rule rule-a threw on this event (counted as not matched): Error: bug a`,
    ]);
  });
});

describe('sequor detect: many rules throwing on one event', () => {
  it('names at most 32 of them on its dead letter line, then says there were more', async () => {
    const base = (await loadBuiltinRules()).map((r) => compileRule(r))[0]!;
    const rules = Array.from({ length: 40 }, (_, i) =>
      filterRuleOf(base, `rule-${i}`, (e) => {
        if (e.event.id === 'bad') throw new Error(`bug ${i}`);
        return false;
      }),
    );
    const { opened } = await openInputs(await expandInputs([file]), formatOverride('ecs'));
    const summary = await runEmbeddedDetection({ inputs: opened, rules, partitions: 1, onAlert: () => {} });
    expect(summary).toMatchObject({ deadLetters: 1 });
    const line = summary.deadLetterExamples[0]!;
    expect(line.match(/threw on this event/g)).toHaveLength(32);
    expect(line).toContain('Error: bug 31; and more rules');
    expect(line).not.toContain('bug 32');
  });
});
