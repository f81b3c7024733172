/**
 * Rules of a chosen shape for tests of what runs rules (the processor, the detector, `sequor detect`):
 * a compiled rule's metadata around a spec the test writes, e.g. one whose predicate throws on a given
 * event. Not for production code.
 */
import type { CorrelationSpec, FilterSpec, SlidingAggregateSpec } from '@sequor/engine';
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

/**
 * A count rule (as a Sigma `event_count` correlation runs): at least `atLeast` events of one host passing
 * `counts` within `windowMs`, alerting on the event that reaches it.
 */
export function eventCountRuleOf(
  base: CompiledRule,
  id: string,
  counts: (e: SequorEvent) => boolean,
  atLeast = 2,
  windowMs = 60_000,
): CompiledRule {
  const spec: SlidingAggregateSpec<SequorEvent> = {
    kind: 'slidingAggregate',
    windowMs,
    measure: 'count',
    inputs: [
      {
        predicate: counts,
        key: (e) => e.host?.id ?? null,
        keyValues: (e) => [e.host?.id ?? null],
        value: null,
      },
    ],
    threshold: { gte: atLeast },
    maxEvidence: 10,
  };
  return ruleRunning(base, id, spec);
}

/**
 * The text of a Sigma rule named `name` (the name correlations reference) matching Security events of
 * `eventId`: the building block of the specification's logon correlations.
 */
export function sigmaSecurityRuleText(name: string, id: string, eventId: number): string {
  return `title: ${name}
id: ${id}
name: ${name}
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: ${eventId}
  condition: selection
`;
}
