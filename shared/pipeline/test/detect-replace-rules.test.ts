import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import type { Alert, CompiledRule, Rule } from '@sequor/rules';
import { compileRule, decodeTestEvents, loadBuiltinRules } from '@sequor/rules';
import { createDetectionProcessor } from '../src/index.js';

const rules: readonly Rule[] = await loadBuiltinRules();
const elasticId = '850d901a-2a3c-46c6-8b22-55398a01aad8';
const elastic = rules.find((r) => r.id === elasticId) as Rule;
const others = rules.filter((r) => r.id !== elasticId).map((r) => compileRule(r));
const events: SequorEvent[] = decodeTestEvents(elastic, elastic.tests[0]!);

function run(cut: number, change: (running: readonly CompiledRule[]) => readonly CompiledRule[]) {
  const alerts: Alert[] = [];
  const first = compileRule(elastic);
  const processor = createDetectionProcessor({
    rules: [...others, first],
    allowedLatenessMs: 0,
    replaceable: true,
    clock: () => 0,
    onAlert: (alert) => alerts.push(alert),
  });
  events.forEach((event, i) => {
    if (i === cut) {
      // Release what the reorder stage holds, so the rules before the change have seen it.
      if (cut > 0) processor.advanceStreamTime(events[cut - 1]!.timestamp + 1);
      processor.replaceRules(change(processor.rules));
    }
    processor.push(event);
  });
  processor.flush();
  return { alerts, processor };
}

describe('DetectionProcessor.replaceRules', () => {
  it('is refused by a processor made without `replaceable` (it keeps the plain-filter fast path)', () => {
    const processor = createDetectionProcessor({ rules: others, onAlert: () => {} });
    expect(() => processor.replaceRules(others)).toThrow(/replaceable/);
  });

  const expected = elastic.tests[0]!.expect.map((e) => [...e.evidence]);

  it('a rule that stays (the same compiled rule) keeps its open sequence across the change', () => {
    const { alerts } = run(1, (running) => [...running]);
    expect(alerts.map((a) => a.evidence.map((e) => e.event_id))).toEqual(expected);
  });

  it('a changed rule (another compiled rule, here with a revision) starts fresh: the open sequence is gone', () => {
    const { alerts, processor } = run(1, (running) => [
      ...running.filter((r) => r.rule.id !== elasticId),
      compileRule(elastic, { revision: 'r2' }),
    ]);
    expect(alerts).toEqual([]);
    expect(processor.stats().rules.map((r) => r.ruleId)).toContain(elasticId);
  });

  it('a removed rule raises nothing; the revision a rule runs with is the one its alerts carry', () => {
    expect(run(1, (running) => running.filter((r) => r.rule.id !== elasticId)).alerts).toEqual([]);
    const atStart = run(0, (running) => [
      ...running.filter((r) => r.rule.id !== elasticId),
      compileRule(elastic, { revision: 'r2' }),
    ]);
    expect(atStart.alerts.map((a) => a.rule.revision)).toEqual(expected.map(() => 'r2'));
  });
});
