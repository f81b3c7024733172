/**
 * `onStatefulError`: a rule on the reordered stream (here a sequence) whose step throws on one released
 * event is reported with that event; the rule goes on with later events, the other rules see every event,
 * the stream does not fail. Without the option the stream fails, as before; a throwing callback fails it.
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createRuleSetPipeline, type FilterSpec, type RuleSetEntry } from '../src/index.js';
import {
  MINUTE,
  SECOND,
  eventTime,
  ev,
  isType,
  sequenceOf,
  spanOf,
  step,
  type TestEvent,
} from './operators/fixtures.js';

const bug = new Error('step bug');

const typeFilter = (type: string): FilterSpec<TestEvent> => ({
  kind: 'filter',
  predicate: (e) => e.type === type,
  keyValues: (e) => [e.key ?? null],
});

/** A sequence a -> b whose first step throws on the event with id `bad` (and is otherwise `a`). */
const throwingStep = step('a', {
  predicate: (e) => {
    if (e.id === 'bad') throw bug;
    return isType('a')(e);
  },
});

const rules = (first: ReturnType<typeof step>): RuleSetEntry<TestEvent, string>[] => [
  { rule: 'a', spec: typeFilter('a') },
  { rule: 'seq', spec: sequenceOf([first, step('b')], { maxspanMs: MINUTE }) },
  { rule: 'seq2', spec: sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE }) },
];

// `bad` is an `a` the throwing step cannot read: bad -> e5 is a sequence only where it can.
const events = [
  ev('a', 1_000, 'k', 'e1'),
  ev('b', 2_000, 'k', 'e3'),
  ev('a', 3_000, 'k', 'bad'),
  ev('b', 4_000, 'k', 'e5'),
  ev('a', 5_000, 'k', 'e6'),
  ev('b', 6_000, 'k', 'e7'),
];

function run(
  entries: readonly RuleSetEntry<TestEvent, string>[],
  onStatefulError?: (rule: string, event: TestEvent, error: unknown) => void,
) {
  const out: string[] = [];
  let failed: unknown = null;
  const options = onStatefulError === undefined ? {} : { onStatefulError };
  from(events)
    .pipe(createRuleSetPipeline(entries, eventTime, { allowedLatenessMs: 5 * SECOND, ...options }).operator)
    .subscribe({
      next: ({ rule, match }) => out.push(`${rule}:${match.events.map((e) => e.id).join(',')}`),
      error: (error: unknown) => (failed = error),
    });
  return { out, failed };
}

describe('createRuleSetPipeline: onStatefulError', () => {
  const healthy = run(rules(step('a')));

  it('reports the released event a stateful rule threw on; that rule and the others go on', () => {
    const reported: [string, string | undefined, unknown][] = [];
    const guarded = run(rules(throwingStep), (rule, e, error) => reported.push([rule, e.id, error]));
    expect(reported).toEqual([['seq', 'bad', bug]]);
    expect(guarded.failed).toBeNull();
    // Everything the healthy run matched, except what the throwing step would have started from `bad`.
    expect(healthy.out).toContain('seq:bad,e5');
    expect(guarded.out).toEqual(healthy.out.filter((m) => m !== 'seq:bad,e5'));
    expect(guarded.out).toContain('seq:e6,e7');
    expect(guarded.out).toContain('seq2:bad,e5');
    expect(guarded.out).toContain('a:bad');
  });

  it('fails the stream without onStatefulError, as before', () => {
    const strict = run(rules(throwingStep));
    expect(strict.failed).toBe(bug);
    expect(strict.out).not.toContain('seq:e6,e7');
  });

  it('fails the stream when onStatefulError itself throws', () => {
    const sinkError = new Error('sink down');
    const guarded = run(rules(throwingStep), () => {
      throw sinkError;
    });
    expect(guarded.failed).toBe(sinkError);
  });

  it('still fails the stream for an aggregate, whose state an exception could leave inconsistent', () => {
    const span = spanOf('a');
    const throwingSpan = {
      ...span,
      groupKey: (e: TestEvent) => {
        if (e.id === 'bad') throw bug;
        return span.groupKey(e);
      },
    };
    const reported: string[] = [];
    const guarded = run([{ rule: 'span', spec: throwingSpan }], (rule) => reported.push(rule));
    expect(guarded.failed).toBe(bug);
    expect(reported).toEqual([]);
  });
});
