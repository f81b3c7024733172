import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createRuleSetPipeline,
  type FilterDispatch,
  type FilterSpec,
  type RuleSetEntry,
} from '../src/index.js';
import { MINUTE, SECOND, eventTime, ev, sequenceOf, step, type TestEvent } from './operators/fixtures.js';

/** A filter on one event type, counting how often its predicate runs. */
function typeFilter(type: string, calls: Map<string, number>): FilterSpec<TestEvent> {
  return {
    kind: 'filter',
    predicate: (e) => {
      calls.set(type, (calls.get(type) ?? 0) + 1);
      return e.type === type;
    },
    keyValues: (e) => [e.key ?? null],
  };
}

const types = ['a', 'b', 'c', 'd', 'e', 'f'];

function stream(count: number): TestEvent[] {
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const out: TestEvent[] = [];
  for (let i = 0; i < count; i++) {
    const ts = i * 100 + Math.floor(random() * 3_000);
    out.push(ev(types[Math.floor(random() * types.length)]!, ts, `k${i % 5}`, `e${i}`));
  }
  return out;
}

function run(
  events: readonly TestEvent[],
  dispatchOf: ((rules: readonly RuleSetEntry<TestEvent, string>[]) => FilterDispatch<TestEvent>) | null,
) {
  const calls = new Map<string, number>();
  // Filters interleaved with a stateful rule and a filter the dispatch does not cover ('f').
  const rules: RuleSetEntry<TestEvent, string>[] = [
    { rule: 'a', spec: typeFilter('a', calls) },
    { rule: 'seq', spec: sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE }) },
    { rule: 'b', spec: typeFilter('b', calls) },
    { rule: 'f', spec: typeFilter('f', calls) },
    { rule: 'c', spec: typeFilter('c', calls) },
    { rule: 'b2', spec: typeFilter('b', calls) },
  ];
  const dispatch = dispatchOf === null ? undefined : dispatchOf(rules);
  const out: string[] = [];
  from(events)
    .pipe(
      createRuleSetPipeline(rules, eventTime, {
        allowedLatenessMs: 5 * SECOND,
        ...(dispatch ? { filterDispatch: dispatch } : {}),
      }).operator,
    )
    .subscribe(({ rule, match }) => out.push(`${rule}:${match.events.map((e) => e.id).join(',')}`));
  return { out, calls };
}

/** Covers the filters of types a-c (and the sequence, which it cannot take over); answers by event type. */
const byType = (rules: readonly RuleSetEntry<TestEvent, string>[]): FilterDispatch<TestEvent> => {
  const covers = [0, 1, 2, 4, 5];
  const byKind = new Map<string, number[]>();
  for (const index of covers) {
    const name = rules[index]!.rule.slice(0, 1);
    byKind.set(name, [...(byKind.get(name) ?? []), index]);
  }
  // The sequence's index is named too: it must still see every event, not only these.
  return { covers, matching: (e) => [...(byKind.get(e.type) ?? []), 1] };
};

describe('createRuleSetPipeline with a filter dispatch', () => {
  const events = stream(3_000);

  it('gives the same matches, in the same order, as calling every filter', () => {
    const plain = run(events, null);
    const dispatched = run(events, byType);
    expect(dispatched.out).toEqual(plain.out);
    expect(plain.out.some((m) => m.startsWith('seq:'))).toBe(true);
    expect(plain.out.some((m) => m.startsWith('b2:'))).toBe(true);
  });

  it('calls a covered filter only for the events the dispatch names; uncovered ones see every event', () => {
    const { calls } = run(events, byType);
    const count = (type: string): number => events.filter((e) => e.type === type).length;
    expect(calls.get('a')).toBe(count('a'));
    expect(calls.get('c')).toBe(count('c'));
    expect(calls.get('b')).toBe(2 * count('b')); // two rules on 'b'
    expect(calls.get('f')).toBe(events.length);
  });

  it("still runs a covered filter's own predicate: an over-approximating dispatch changes nothing", () => {
    const everything = (): FilterDispatch<TestEvent> => ({
      covers: [0, 2, 4, 5],
      matching: () => [5, 4, 2, 0, 2],
    });
    expect(run(events, everything).out).toEqual(run(events, null).out);
  });

  it('drops the matches of covered filters the dispatch does not name', () => {
    const none = (): FilterDispatch<TestEvent> => ({ covers: [0, 2, 4, 5], matching: () => [] });
    const { out } = run(events, none);
    expect(out.filter((m) => /^(a|b|c|b2):/.test(m))).toEqual([]);
    expect(out.some((m) => m.startsWith('f:'))).toBe(true);
  });
});

describe('the order of dispatched filters', () => {
  /** `n` filters that match every event, named by the dispatch in reverse entry order. */
  const order = (n: number): string[] => {
    const rules: RuleSetEntry<TestEvent, string>[] = Array.from({ length: n }, (_, i) => ({
      rule: `r${i}`,
      spec: { kind: 'filter', predicate: () => true, keyValues: () => [] },
    }));
    const covers = rules.map((_, i) => i);
    const reversed = [...covers].reverse();
    const out: string[] = [];
    from([ev('a', 0, 'k', 'e0')])
      .pipe(
        createRuleSetPipeline(rules, eventTime, {
          filterDispatch: { covers, matching: () => reversed },
        }).operator,
      )
      .subscribe(({ rule }) => out.push(rule));
    return out;
  };

  it('is entry order whatever order the dispatch names them in, few or many', () => {
    for (const n of [2, 7, 32, 33, 100])
      expect(order(n)).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
  });
});
