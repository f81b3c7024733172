import { runCorrelation } from '@sequor/engine';
import type { Match } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { loadBuiltinRules } from '../src/builtin.js';
import { compileRule } from '../src/compile.js';
import type { CompiledRule } from '../src/compile.js';
import { decodeTestEvents } from '../src/test-runner.js';
import type { EqlRule, Rule } from '../src/types.js';

export const ruleIds = {
  car: 'dc985e9a-0bd4-4c6c-8141-dcb771529846',
  serviceCreation: '25212358-948e-11ec-ad47-acde48001122',
  elastic: '850d901a-2a3c-46c6-8b22-55398a01aad8',
  remcos: 'f2a1615a-1d63-11ec-97d2-acde48001122',
} as const;

export async function builtinRule(id: string): Promise<EqlRule> {
  const rule = (await loadBuiltinRules()).find((r) => r.id === id);
  if (rule === undefined) throw new Error(`no built-in rule ${id}`);
  if (rule.type !== 'eql' && rule.type !== 'span_aggregation')
    throw new Error(`built-in rule ${id} is Sigma`);
  return rule;
}

/** ECS JSON documents through the ecs format, as the embedded tests decode them. */
export function decode(rule: Rule, docs: readonly Record<string, unknown>[]): SequorEvent[] {
  return decodeTestEvents(rule, { name: 'helper', events: docs, expect: [] });
}

export function matchesOf(compiled: CompiledRule, events: readonly SequorEvent[]): Match<SequorEvent>[] {
  return runCorrelation(
    compiled.compiled.spec,
    compiled.compiled.eventTime,
    { allowedLatenessMs: 0 },
    events,
  );
}

export function compile(rule: Rule): CompiledRule {
  return compileRule(rule);
}

/** The events of one embedded test case of a rule, decoded. */
export function caseEvents(rule: Rule, index: number): SequorEvent[] {
  const c = rule.tests[index];
  if (c === undefined) throw new Error(`rule ${rule.name} has no test ${index}`);
  return decodeTestEvents(rule, c);
}
