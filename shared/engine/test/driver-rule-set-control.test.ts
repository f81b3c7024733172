import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createRuleSetPipeline,
  RuleSetControl,
  type FilterDispatch,
  type FilterSpec,
  type RuleSetEntry,
  type SuppressSpec,
} from '../src/index.js';
import {
  HOUR,
  MINUTE,
  SECOND,
  eventTime,
  ev,
  sequenceOf,
  step,
  type TestEvent,
} from './operators/fixtures.js';

const filterOf = (type: string): FilterSpec<TestEvent> => ({
  kind: 'filter',
  predicate: (e) => e.type === type,
  keyValues: (e) => [e.key ?? null],
});

/** A rule set fed by hand, so the rules can change between two events. */
function harness(rules: RuleSetEntry<TestEvent, string>[]) {
  const control = new RuleSetControl<TestEvent, string>();
  const input = new Subject<TestEvent>();
  const out: string[] = [];
  input
    .pipe(createRuleSetPipeline(rules, eventTime, { allowedLatenessMs: 0, ruleSetControl: control }).operator)
    .subscribe(({ rule, match }) => out.push(`${rule}:${match.events.map((e) => e.id).join(',')}`));
  return { control, input, out };
}

describe('RuleSetControl', () => {
  const seqAB = { rule: 'seq', spec: sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE }) };

  it('keeps the open state of a rule that stays (same rule value), drops and restarts the others', () => {
    const { control, input, out } = harness([seqAB, { rule: 'seqAC', spec: seqAB.spec }]);
    input.next(ev('a', 0, 'k1', 'a1'));
    input.next(ev('x', 1 * SECOND, 'k1', 'x1')); // releases a1 (lateness 0)
    // 'seq' stays; 'seqAC' is replaced by a new rule value ('seqAC2'): its open partial (a1) is gone.
    const replaced = control.replace([seqAB, { rule: 'seqAC2', spec: seqAB.spec }]);
    expect([replaced.kept, replaced.started, replaced.dropped]).toEqual([1, 1, 1]);
    input.next(ev('b', 2 * SECOND, 'k1', 'b1'));
    input.next(ev('x', 3 * SECOND, 'k1', 'x2'));
    expect(out).toEqual(['seq:a1,b1']);
  });

  it('a removed rule emits nothing of what it held; a new filter sees the events released after the change', () => {
    const { control, input, out } = harness([seqAB]);
    input.next(ev('a', 0, 'k1', 'a1'));
    control.replace([{ rule: 'fb', spec: filterOf('b') }]);
    input.next(ev('b', 1 * SECOND, 'k1', 'b1'));
    input.next(ev('x', 2 * SECOND, 'k1', 'x1'));
    input.complete();
    expect(out).toEqual(['fb:b1']);
  });

  it('a stateful rule can join a set that started with filters only (the reorder stage is there)', () => {
    const { control, input, out } = harness([{ rule: 'fa', spec: filterOf('a') }]);
    input.next(ev('a', 0, 'k1', 'a1'));
    control.replace([{ rule: 'fa', spec: filterOf('a') }, seqAB]);
    input.next(ev('b', 1 * SECOND, 'k1', 'b1'));
    input.next(ev('x', 2 * SECOND, 'k1', 'x1'));
    // a1 was still in the reorder stage when the sequence joined: it opens the sequence.
    expect(out).toEqual(['fa:a1', 'seq:a1,b1']);
  });

  it('takes the new entries’ filter dispatch; without one every filter runs', () => {
    const rules = [
      { rule: 'fa', spec: filterOf('a') },
      { rule: 'fb', spec: filterOf('b') },
    ];
    const none: FilterDispatch<TestEvent> = { covers: [0, 1], matching: () => [] };
    const { control, input, out } = harness(rules);
    input.next(ev('a', 0, 'k1', 'a1'));
    control.replace(rules, none);
    input.next(ev('a', 1, 'k1', 'a2'));
    control.replace(rules);
    input.next(ev('b', 2, 'k1', 'b1'));
    expect(out).toEqual(['fa:a1', 'fb:b1']);
  });

  it('refuses a change when no subscription runs', () => {
    expect(() => new RuleSetControl<TestEvent, string>().replace([])).toThrow(/subscribed rule set/);
  });

  describe('suppression windows at a change', () => {
    const byKey: SuppressSpec<TestEvent> = { windowMs: HOUR, groupKey: (m) => `k:${m.events[0]?.key ?? ''}` };
    const suppressed = (rule: string, type: string): RuleSetEntry<TestEvent, string> => ({
      rule,
      spec: filterOf(type),
      suppress: byKey,
    });

    /** Alerts as `rule:ids`, updates as `U rule#index:opening+count:last:closedBy`, in one order. */
    function suppressingHarness(rules: RuleSetEntry<TestEvent, string>[]) {
      const control = new RuleSetControl<TestEvent, string>();
      const input = new Subject<TestEvent>();
      const out: string[] = [];
      const ids = (events: readonly TestEvent[]): string => events.map((e) => e.id).join(',');
      const pipeline = createRuleSetPipeline(rules, eventTime, {
        allowedLatenessMs: 0,
        ruleSetControl: control,
        onSuppressionUpdate: (u, index, rule) =>
          out.push(
            `U ${String(rule)}#${index}:${ids(u.opening.events)}+${u.suppressed}:${ids(u.last.events)}:${u.closedBy}`,
          ),
      });
      input.pipe(pipeline.operator).subscribe(({ rule, match }) => out.push(`${rule}:${ids(match.events)}`));
      return { control, input, out };
    }

    it('a changed or removed rule publishes its open windows at the change; a kept rule’s stay open', () => {
      const { control, input, out } = suppressingHarness([
        suppressed('fa', 'a'),
        suppressed('fb', 'b'),
        suppressed('fc', 'c'),
        suppressed('fd', 'd'),
      ]);
      for (const [type, at, id] of [
        ['a', 0, 'a1'],
        ['b', 1, 'b1'],
        ['c', 2, 'c1'],
        ['d', 3, 'd1'],
        ['a', 4, 'a2'],
        ['b', 5, 'b2'],
        ['c', 6, 'c2'],
        ['x', 7, 'x1'], // releases the others (lateness 0)
      ] as const)
        input.next(ev(type, at * SECOND, 'k1', id));
      expect(out).toEqual(['fa:a1', 'fb:b1', 'fc:c1', 'fd:d1']);
      out.length = 0;
      // fa stays, fb changes (a new rule value), fc and fd go: fd's window counted nothing, so no update.
      const replaced = control.replace([suppressed('fa', 'a'), suppressed('fb2', 'b')]);
      expect([replaced.kept, replaced.started, replaced.dropped]).toEqual([1, 1, 3]);
      expect(out).toEqual(['U fb#1:b1+1:b2:rule-change', 'U fc#2:c1+1:c2:rule-change']);
      out.length = 0;
      input.next(ev('a', 8 * SECOND, 'k1', 'a3')); // into fa's open window, counted
      input.next(ev('b', 9 * SECOND, 'k1', 'b3')); // fb2 starts empty: published
      input.next(ev('x', 10 * SECOND, 'k1', 'x2'));
      input.complete();
      expect(out).toEqual(['fb2:b3', 'U fa#0:a1+2:a3:end']);
    });

    it('a window closed at the change is not closed again by the watermark or the end', () => {
      const { control, input, out } = suppressingHarness([suppressed('fb', 'b')]);
      input.next(ev('b', 0, 'k1', 'b1'));
      input.next(ev('b', 1 * SECOND, 'k1', 'b2'));
      input.next(ev('x', 2 * SECOND, 'k1', 'x1'));
      control.replace([]);
      input.next(ev('x', 2 * HOUR, 'k1', 'x2'));
      input.complete();
      expect(out).toEqual(['fb:b1', 'U fb#0:b1+1:b2:rule-change']);
    });
  });
});
