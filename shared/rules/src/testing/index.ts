/**
 * Rules of a chosen shape for tests of what runs rules (the processor, the detector, `sequor detect`):
 * a compiled rule's metadata around a spec the test writes, e.g. one whose predicate throws on a given
 * event. Not for production code.
 */
import type { CorrelationSpec, FilterSpec, SequenceSpec, SequenceStepSpec } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import type { CompiledRule } from '../compile.js';

/** `base` renamed `id`, running `spec` (no Sigma binding, no suppression). */
export function ruleRunning(
  base: CompiledRule,
  id: string,
  spec: CorrelationSpec<SequorEvent>,
): CompiledRule {
  return {
    ...base,
    rule: { ...base.rule, id, binding: undefined } as CompiledRule['rule'],
    compiled: { ...base.compiled, spec },
    suppress: null,
  };
}

/** A filter rule: `predicate` over every event. */
export function filterRuleOf(
  base: CompiledRule,
  id: string,
  predicate: (e: SequorEvent) => boolean,
): CompiledRule {
  const spec: FilterSpec<SequorEvent> = { kind: 'filter', predicate, keyValues: () => [] };
  return ruleRunning(base, id, spec);
}

/** A sequence rule (as an EQL sequence runs): two events of one host, each passing `step`. */
export function pairSequenceRuleOf(
  base: CompiledRule,
  id: string,
  step: (e: SequorEvent) => boolean,
  maxspanMs = 60_000,
): CompiledRule {
  const each: SequenceStepSpec<SequorEvent> = {
    predicate: step,
    key: (e) => e.host?.id ?? null,
    runs: 1,
    missing: false,
  };
  const spec: SequenceSpec<SequorEvent> = {
    kind: 'sequence',
    maxspanMs,
    steps: [each, each],
    until: null,
    keyValues: (e) => [e.host?.id ?? null],
  };
  return ruleRunning(base, id, spec);
}
