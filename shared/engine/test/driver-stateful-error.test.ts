/**
 * `onStatefulError`: a rule on the reordered stream (here a sequence) whose step throws on one released
 * event is reported with that event; the rule goes on with later events, the other rules see every event,
 * the stream does not fail. Without the option the stream fails, as before; a throwing callback fails it.
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createRuleSetPipeline,
  type FilterSpec,
  type RuleSetEntry,
  type SlidingAggregateSpec,
  type SlidingTemporalSpec,
} from '../src/index.js';
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

  // An aggregate whose key values throw on one event: reported, and its state as if the event had not
  // come (before, a sliding window kept an entry it never stored and its expiry spun forever).
  const burst = [
    ev('a', 1_000, 'k', 'a1'),
    ev('a', 2_000, 'k', 'bad'),
    ev('a', 3_000, 'k', 'a3'),
    ev('a', 20_000, 'k', 'a4'),
    ev('a', 21_000, 'k', 'a5'),
    ev('a', 22_000, 'k', 'a6'),
    ev('a', 40_000, 'k', 'a7'),
  ];
  const runOver = (entries: readonly RuleSetEntry<TestEvent, string>[], input: readonly TestEvent[]) => {
    const out: string[] = [];
    const reported: string[] = [];
    let failed: unknown = null;
    from(input)
      .pipe(
        createRuleSetPipeline(entries, eventTime, {
          allowedLatenessMs: 5 * SECOND,
          onStatefulError: (rule, e) => reported.push(`${rule}:${e.id}`),
        }).operator,
      )
      .subscribe({
        next: ({ rule, match }) => out.push(`${rule}:${match.events.map((e) => e.id).join(',')}`),
        error: (error: unknown) => (failed = error),
      });
    return { out, reported, failed };
  };
  const throwingOn = <S extends { readonly keyValues: (e: TestEvent) => readonly unknown[] }>(
    spec: S,
  ): S => ({
    ...spec,
    keyValues: (e: TestEvent) => {
      if (e.id === 'bad') throw bug;
      return spec.keyValues(e);
    },
  });
  const sliding = (threshold: { gte: number } | { lte: number }): SlidingAggregateSpec<TestEvent> => ({
    kind: 'slidingAggregate',
    windowMs: 10 * SECOND,
    measure: 'count',
    inputs: [
      { predicate: isType('a'), key: (e) => e.key ?? null, keyValues: (e) => [e.key ?? null], value: null },
    ],
    threshold,
    maxEvidence: 10,
  });

  it.each([
    ['a sliding aggregate (lower bound: one entry per event)', sliding({ gte: 2 })],
    ['a sliding aggregate (upper bound: fixed buckets)', sliding({ lte: 2 })],
  ])('%s: reported, the window goes on as if the event had not come', (_name, spec) => {
    const guarded = runOver([{ rule: 'agg', spec: { ...spec, inputs: spec.inputs.map(throwingOn) } }], burst);
    const without = runOver(
      [{ rule: 'agg', spec }],
      burst.filter((e) => e.id !== 'bad'),
    );
    expect(guarded.failed).toBeNull();
    expect(guarded.reported).toEqual(['agg:bad']);
    expect(guarded.out).toEqual(without.out);
    expect(without.out.length).toBeGreaterThan(0);
  });

  it('a span aggregate whose group key throws: reported, its buckets as if the event had not come', () => {
    const span = spanOf('a', 10 * SECOND);
    const throwingKey = {
      ...span,
      groupKey: (e: TestEvent) => {
        if (e.id === 'bad') throw bug;
        return span.groupKey(e);
      },
    };
    const guarded = runOver([{ rule: 'span', spec: throwingKey }], burst);
    const without = runOver(
      [{ rule: 'span', spec: span }],
      burst.filter((e) => e.id !== 'bad'),
    );
    expect(guarded.failed).toBeNull();
    expect(guarded.reported).toEqual(['span:bad']);
    expect(guarded.out).toEqual(without.out);
  });

  it('still fails the stream for a temporal correlation, whose state an exception could leave half-applied', () => {
    const temporal: SlidingTemporalSpec<TestEvent> = {
      kind: 'slidingTemporal',
      windowMs: 10 * SECOND,
      inputs: [
        { predicate: isType('a'), key: (e) => e.key ?? null, keyValues: (e) => [e.key ?? null] },
        {
          predicate: (e) => {
            if (e.id === 'bad') throw bug;
            return e.type === 'b';
          },
          key: (e) => e.key ?? null,
          keyValues: (e) => [e.key ?? null],
        },
      ],
      minInputs: 2,
    };
    const guarded = runOver([{ rule: 'temporal', spec: temporal }], burst);
    expect(guarded.failed).toBe(bug);
    expect(guarded.reported).toEqual([]);
  });
});
