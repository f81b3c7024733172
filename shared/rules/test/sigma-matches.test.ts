/**
 * A dispatched Sigma rule's predicate answers from what the dispatch just learnt of the event
 * (`sigma-matches.ts`): only for that very event, and still guarded by the rule's exceptions.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { compileRule } from '../src/compile.js';
import { loadRuleSet } from '../src/rule-set.js';
import { sigmaFilterDispatch } from '../src/sigma.js';
import { sigmaSetMatches } from '../src/sigma-matches.js';
import type { CompiledRule } from '../src/compile.js';
import type { SigmaDetectionRule } from '../src/types.js';

const ID_A = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a6b';
const ID_B = '1b6e1d3f-7e4c-4b5f-8b8f-2d3e4f5a6b7c';

const sigmaRule = (id: string, image: string, extra = ''): string => `title: Suspicious ${image}
id: ${id}
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\${image}'
  condition: selection
${extra}`;

function sysmon(id: string, image: string, directory = 'C:\\Users\\x\\'): SequorEvent {
  return {
    timestamp: Date.UTC(2024, 0, 1),
    event: { id, code: '1', dataset: null },
    host: { id: 'h1', name: 'H1' },
    winlog: {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: '1',
      event_data: { Image: image, CurrentDirectory: directory },
    },
    origin: { format: 'test', topic: null, partition: null, offset: null },
  } as unknown as SequorEvent;
}

describe('a dispatched Sigma rule answers from the dispatch, for that event only', () => {
  let dir: string;
  let rules: CompiledRule[];
  const predicate = (rule: CompiledRule) =>
    (rule.compiled.spec as { predicate: (e: SequorEvent) => boolean }).predicate;
  const ids = (event: SequorEvent): string[] => {
    const dispatch = sigmaFilterDispatch(rules.map((rule) => ({ rule: rule.rule })))!;
    return dispatch
      .matching(event)
      .filter((i) => predicate(rules[i]!)(event))
      .map((i) => rules[i]!.rule.id);
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-matches-'));
    const excepted =
      "sequor:\n  exceptions:\n    - field: winlog.event_data.CurrentDirectory\n      operator: matches\n      values: 'C:\\Admin\\*'\n";
    await writeFile(path.join(dir, 'a.yml'), sigmaRule(ID_A, 'evil.exe', excepted));
    await writeFile(path.join(dir, 'b.yml'), sigmaRule(ID_B, 'bad.exe'));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    rules = loaded.rules.map((rule) => compileRule(rule));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the exceptions: an excepted event the set matched raises nothing', () => {
    expect(ids(sysmon('e1', 'C:\\Temp\\evil.exe'))).toEqual([ID_A]);
    expect(ids(sysmon('e2', 'C:\\Temp\\evil.exe', 'C:\\Admin\\tools\\'))).toEqual([]);
  });

  it('matches any other event itself, and an event object changed and dispatched again afresh', () => {
    const [a, b] = rules as [CompiledRule, CompiledRule];
    const event = sysmon('e1', 'C:\\Temp\\evil.exe');
    expect(ids(event)).toEqual([ID_A]);
    // Not the dispatched event: each predicate runs its own detection.
    expect(predicate(a)(sysmon('e2', 'C:\\Temp\\bad.exe'))).toBe(false);
    expect(predicate(b)(sysmon('e3', 'C:\\Temp\\bad.exe'))).toBe(true);
    // The same object, changed in place: the next dispatch records it again.
    (event.winlog!.event_data as Record<string, string>)['Image'] = 'C:\\Temp\\bad.exe';
    expect(ids(event)).toEqual([ID_B]);
    expect(predicate(a)(event)).toBe(false);
  });

  it('records per event: the rules matched, no others', () => {
    const binding = (rules[0]!.rule as SigmaDetectionRule).binding!;
    const decided = sigmaSetMatches(binding.set);
    const [ruleA, ruleB] = binding.set.rules;
    const [a, b] = [decided.positionOf(ruleA!), decided.positionOf(ruleB!)];
    const e1 = sysmon('e1', 'x');
    const e2 = sysmon('e2', 'y');
    decided.record(e1, [ruleA!]);
    expect([decided.decided(e1, a), decided.decided(e1, b), decided.decided(e2, a)]).toEqual([
      true,
      false,
      undefined,
    ]);
    decided.record(e1, [ruleB!]);
    expect([decided.decided(e1, a), decided.decided(e1, b)]).toEqual([false, true]);
    expect(decided.decided(e1, -1)).toBeUndefined();
  });

  it('leaves undecided a rule that threw on the event, and every rule once the set threw on it', () => {
    const binding = (rules[0]!.rule as SigmaDetectionRule).binding!;
    const decided = sigmaSetMatches(binding.set);
    const [ruleA, ruleB] = binding.set.rules;
    const [a, b] = [decided.positionOf(ruleA!), decided.positionOf(ruleB!)];
    const e1 = sysmon('e1', 'x');
    decided.record(e1, [], [{ rule: ruleA! }]);
    expect([decided.decided(e1, a), decided.decided(e1, b)]).toEqual([undefined, false]);
    // The next event's record forgets the failure.
    decided.record(e1, [ruleA!]);
    expect(decided.decided(e1, a)).toBe(true);
    decided.forget();
    expect([decided.decided(e1, a), decided.decided(e1, b)]).toEqual([undefined, undefined]);
  });
});
