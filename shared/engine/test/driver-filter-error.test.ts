/**
 * `onFilterError`: one plain filter that throws on one event is reported once, counts as not matched
 * there, and neither the other rules' matches for that event nor later events change. Without the option
 * the stream fails, as before.
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createRuleSetPipeline,
  type FilterDispatch,
  type FilterSpec,
  type RuleSetEntry,
} from '../src/index.js';
import { MINUTE, SECOND, eventTime, ev, sequenceOf, step, type TestEvent } from './operators/fixtures.js';

const bug = new Error('predicate bug');

const typeFilter = (type: string): FilterSpec<TestEvent> => ({
  kind: 'filter',
  predicate: (e) => e.type === type,
  keyValues: (e) => [e.key ?? null],
});

/** Matches type `a`, and throws on the event with id `bad`. */
const throwing: FilterSpec<TestEvent> = {
  kind: 'filter',
  predicate: (e) => {
    if (e.id === 'bad') throw bug;
    return e.type === 'a';
  },
  keyValues: (e) => [e.key ?? null],
};

const rules = (bad: FilterSpec<TestEvent>): RuleSetEntry<TestEvent, string>[] => [
  { rule: 'a', spec: typeFilter('a') },
  { rule: 'bad', spec: bad },
  { rule: 'seq', spec: sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE }) },
  { rule: 'a2', spec: typeFilter('a') },
];

const events = [
  ev('a', 1_000, 'k', 'e1'),
  ev('a', 2_000, 'k', 'bad'),
  ev('b', 3_000, 'k', 'e3'),
  ev('a', 4_000, 'k', 'e4'),
];

function run(
  entries: readonly RuleSetEntry<TestEvent, string>[],
  options: {
    readonly onFilterError?: (rule: string, event: TestEvent, error: unknown) => void;
    readonly filterDispatch?: FilterDispatch<TestEvent>;
  },
) {
  const out: string[] = [];
  let failed: unknown = null;
  from(events)
    .pipe(createRuleSetPipeline(entries, eventTime, { allowedLatenessMs: 5 * SECOND, ...options }).operator)
    .subscribe({
      next: ({ rule, match }) => out.push(`${rule}:${match.events.map((e) => e.id).join(',')}`),
      error: (error: unknown) => (failed = error),
    });
  return { out, failed };
}

describe('createRuleSetPipeline: onFilterError', () => {
  const healthy = run(rules(typeFilter('a')), {});

  it('reports a throwing filter once; the other rules and later events match as without it', () => {
    const reported: [string, string | undefined, unknown][] = [];
    const guarded = run(rules(throwing), {
      onFilterError: (rule, e, error) => reported.push([rule, e.id, error]),
    });
    expect(reported).toEqual([['bad', 'bad', bug]]);
    expect(guarded.failed).toBeNull();
    // Only the throwing rule's match on the bad event is missing.
    expect(guarded.out).toEqual(healthy.out.filter((m) => m !== 'bad:bad'));
    expect(guarded.out).toContain('a2:bad');
    expect(guarded.out).toContain('bad:e4');
  });

  it('reports the failures a filter dispatch names, by entry, and runs the filters it dispatches', () => {
    // Covers the three filters; claims `bad` threw on the event `bad` (and leaves it out).
    let last: TestEvent | null = null;
    const dispatch: FilterDispatch<TestEvent> = {
      covers: [0, 1, 3],
      matching: (e) => {
        last = e;
        return e.type !== 'a' ? [] : e.id === 'bad' ? [0, 3] : [0, 1, 3];
      },
      failures: () => (last?.id === 'bad' ? [{ index: 1, error: bug }] : []),
    };
    const reported: [string, string | undefined][] = [];
    const guarded = run(rules(typeFilter('a')), {
      filterDispatch: dispatch,
      onFilterError: (rule, e) => reported.push([rule, e.id]),
    });
    expect(reported).toEqual([['bad', 'bad']]);
    expect(guarded.out).toEqual(healthy.out.filter((m) => m !== 'bad:bad'));
  });

  it('fails the stream without onFilterError, as before', () => {
    const strict = run(rules(throwing), {});
    expect(strict.failed).toBe(bug);
    // The event's earlier filters ran; nothing after the throw.
    expect(strict.out).toEqual(['a:e1', 'bad:e1', 'a2:e1', 'a:bad']);
  });

  it('fails the stream when onFilterError itself throws', () => {
    const sinkError = new Error('sink down');
    const guarded = run(rules(throwing), {
      onFilterError: () => {
        throw sinkError;
      },
    });
    expect(guarded.failed).toBe(sinkError);
  });
});
