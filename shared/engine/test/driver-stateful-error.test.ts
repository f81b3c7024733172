/**
 * `onStatefulError`: a filter on the reordered stream, span or sliding aggregate, temporal correlation,
 * sequence or join whose rule function throws on one released event is reported with that event; its state
 * is as if the event had not come (its alerts are those of the same stream without it), the other rules see
 * every event and the stream does not fail. A suppressed rule's suppression key that throws fails open (the
 * alert goes out unsuppressed, reported). A correlation of correlations goes on part by part (the part that
 * threw as if the event had not come). The stream fails without the option, or when the callback or the
 * caller's own callbacks throw.
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type ChainedEvent,
  type ChainSpec,
  createRuleSetPipeline,
  type FilterSpec,
  type JoinSpec,
  type Match,
  type RuleSetEntry,
  type SlidingAggregateSpec,
  type SlidingTemporalSpec,
  SuppressionKeyError,
} from '../src/index.js';
import {
  HOUR,
  MINUTE,
  SECOND,
  byKey,
  eventTime,
  ev,
  isType,
  joinOf,
  sequenceOf,
  spanOf,
  step,
  type TestEvent,
} from './operators/fixtures.js';

const bug = new Error('rule function bug');

const typeFilter = (type: string): FilterSpec<TestEvent> => ({
  kind: 'filter',
  predicate: (e) => e.type === type,
  keyValues: (e) => [e.key ?? null],
});

// Bursts of `a` on one key; `bad` is one of them, which a throwing rule function cannot read.
const burst = [
  ev('a', 1_000, 'k', 'a1'),
  ev('a', 2_000, 'k', 'bad'),
  ev('a', 3_000, 'k', 'a3'),
  ev('b', 4_000, 'k', 'b4'),
  ev('a', 20_000, 'k', 'a4'),
  ev('a', 21_000, 'k', 'a5'),
  ev('a', 22_000, 'k', 'a6'),
  ev('a', 40_000, 'k', 'a7'),
];
const withoutBad = burst.filter((e) => e.id !== 'bad');

function run(
  entries: readonly RuleSetEntry<TestEvent, string>[],
  input: readonly TestEvent[],
  onStatefulError?: (rule: string, event: TestEvent, error: unknown) => void,
) {
  const out: string[] = [];
  const reported: string[] = [];
  let failed: unknown = null;
  const report = onStatefulError ?? ((rule: string, e: TestEvent) => reported.push(`${rule}:${e.id}`));
  from(input)
    .pipe(
      createRuleSetPipeline(entries, eventTime, { allowedLatenessMs: 5 * SECOND, onStatefulError: report })
        .operator,
    )
    .subscribe({
      next: ({ rule, match }) => out.push(`${rule}:${match.events.map((e) => e.id).join(',')}`),
      error: (error: unknown) => (failed = error),
    });
  return { out, reported, failed };
}

function strict(entries: readonly RuleSetEntry<TestEvent, string>[], input: readonly TestEvent[]) {
  let failed: unknown = null;
  from(input)
    .pipe(createRuleSetPipeline(entries, eventTime, { allowedLatenessMs: 5 * SECOND }).operator)
    .subscribe({ error: (error: unknown) => (failed = error) });
  return failed;
}

/**
 * The claim for an exception-safe rule: `spec(true)` (its function throws on `bad`) over `events` reports
 * `bad` once, does not fail, and alerts as `spec(false)` over the same events without `bad`, which gives
 * `expected` (or at least one alert).
 */
function expectAsWithoutBad(
  rule: string,
  spec: (throwing: boolean) => RuleSetEntry<TestEvent, string>['spec'],
  events: readonly TestEvent[],
  expected?: readonly string[],
): void {
  const guarded = run([{ rule, spec: spec(true) }], events);
  const healthy = run(
    [{ rule, spec: spec(false) }],
    events.filter((e) => e.id !== 'bad'),
  );
  if (expected === undefined) expect(healthy.out.length).toBeGreaterThan(0);
  else expect(healthy.out).toEqual(expected);
  expect(guarded.failed).toBeNull();
  expect(guarded.reported).toEqual([`${rule}:bad`]);
  expect(guarded.out).toEqual(healthy.out);
}

const throwsOnBad =
  <A extends unknown[], R>(f: (e: TestEvent, ...rest: A) => R) =>
  (e: TestEvent, ...rest: A): R => {
    if (e.id === 'bad') throw bug;
    return f(e, ...rest);
  };

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

/** `spec` with its input's `part` throwing on `bad`. */
const slidingThrowing = (
  spec: SlidingAggregateSpec<TestEvent>,
  part: 'predicate' | 'key' | 'keyValues',
): SlidingAggregateSpec<TestEvent> => ({
  ...spec,
  inputs: spec.inputs.map((input) => ({
    ...input,
    [part]: throwsOnBad(input[part] as (e: TestEvent) => never),
  })),
});

describe('createRuleSetPipeline: onStatefulError', () => {
  it.each([
    ['a sliding aggregate, lower bound (one entry per event), key values', sliding({ gte: 2 }), 'keyValues'],
    ['a sliding aggregate, lower bound, predicate', sliding({ gte: 2 }), 'predicate'],
    ['a sliding aggregate, upper bound (fixed buckets), key values', sliding({ lte: 2 }), 'keyValues'],
    ['a sliding aggregate, upper bound, key', sliding({ lte: 2 }), 'key'],
  ] as const)('%s: reported, its alerts those of the stream without the event', (_name, spec, part) => {
    const entries = (agg: SlidingAggregateSpec<TestEvent>) => [
      { rule: 'a', spec: typeFilter('a') },
      { rule: 'agg', spec: agg },
    ];
    const guarded = run(entries(slidingThrowing(spec, part)), burst);
    const healthy = run(entries(spec), withoutBad);
    expect(guarded.failed).toBeNull();
    expect(guarded.reported).toEqual(['agg:bad']);
    expect(guarded.out.filter((m) => m.startsWith('agg:'))).toEqual(
      healthy.out.filter((m) => m.startsWith('agg:')),
    );
    expect(healthy.out.some((m) => m.startsWith('agg:'))).toBe(true);
    // The other rules saw every event, `bad` included.
    expect(guarded.out).toContain('a:bad');
  });

  it('a span aggregate whose group key throws: reported, its buckets as if the event had not come', () => {
    const span = spanOf('a', 10 * SECOND);
    const guarded = run([{ rule: 'span', spec: { ...span, groupKey: throwsOnBad(span.groupKey) } }], burst);
    const healthy = run([{ rule: 'span', spec: span }], withoutBad);
    expect(guarded.failed).toBeNull();
    expect(guarded.reported).toEqual(['span:bad']);
    expect(guarded.out).toEqual(healthy.out);
    expect(healthy.out.length).toBeGreaterThan(0);
  });

  it('a temporal correlation whose second input throws: reported, its groups as if the event had not come', () => {
    const temporal = (throwing: boolean): SlidingTemporalSpec<TestEvent> => ({
      kind: 'slidingTemporal',
      windowMs: 10 * SECOND,
      inputs: [
        { predicate: isType('a'), key: (e) => e.key ?? null, keyValues: (e) => [e.key ?? null] },
        {
          // `bad` is an `a` too: counted under the first input before this one throws, before the fix.
          predicate: throwing ? throwsOnBad(isType('b')) : isType('b'),
          key: (e) => e.key ?? null,
          keyValues: (e) => [e.key ?? null],
        },
      ],
      minInputs: 2,
    });
    // `bad` comes between a1 and b3: stored as the group's `a`, it would be b3's evidence.
    const events = [ev('a', 1_000, 'k', 'a1'), ev('a', 2_000, 'k', 'bad'), ev('b', 3_000, 'k', 'b3')];
    expectAsWithoutBad('temporal', temporal, events, ['temporal:a1,b3']);
  });

  it('fails the stream without onStatefulError, as before, and when the callback throws', () => {
    const entries = [{ rule: 'agg', spec: slidingThrowing(sliding({ gte: 2 }), 'keyValues') }];
    expect(strict(entries, burst)).toBe(bug);
    const sinkError = new Error('sink down');
    const guarded = run(entries, burst, () => {
      throw sinkError;
    });
    expect(guarded.failed).toBe(sinkError);
  });

  describe('a sequence (every function read before its state changes)', () => {
    const a = (throwing: boolean) => step('a', throwing ? { predicate: throwsOnBad(isType('a')) } : {});
    it('whose first step throws on one of a burst: reported, its alerts those of the stream without it', () => {
      const spec = (throwing: boolean) => sequenceOf([a(throwing), step('b')], { maxspanMs: MINUTE });
      expectAsWithoutBad('s', spec, burst);
    });

    it('whose first step throws on the event that completes it (the last step is tried first): no alert of that event', () => {
      // `bad` is a `b`: it completes a1's sequence before step a is asked about it, in a one-pass machine.
      const events = [ev('a', 1_000, 'k', 'a1'), ev('b', 2_000, 'k', 'bad'), ev('b', 3_000, 'k', 'b3')];
      const spec = (throwing: boolean) => sequenceOf([a(throwing), step('b')], { maxspanMs: MINUTE });
      expectAsWithoutBad('s', spec, events, ['s:a1,b3']);
    });

    it('whose missing step throws after its until cancelled: reported, as without the event', () => {
      // `bad` is both the until (which cancels a1's sequence first) and the missing step, whose key throws.
      const events = [ev('a', 1_000, 'k', 'a1'), ev('m', 2_000, 'k', 'bad'), ev('b', 3_000, 'k', 'b3')];
      const spec = (throwing: boolean) =>
        sequenceOf(
          [step('a'), step('m', { missing: true, key: throwing ? throwsOnBad(byKey) : byKey }), step('b')],
          { maxspanMs: MINUTE, until: 'm' },
        );
      expectAsWithoutBad('s', spec, events, ['s:a1,b3']);
    });

    it("whose first event's key values throw: that event is reported when it comes and starts none", () => {
      // Read as the event comes, not when a later event completes its sequence: read then, every later
      // event completing it was reported in its place and dropped, and the key never matched again.
      const events = [ev('a', 1_000, 'k', 'bad'), ev('a', 2_000, 'k', 'a2'), ev('b', 3_000, 'k', 'b3')];
      const spec = sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE });
      const keyValues = (throwing: boolean) => ({
        ...spec,
        keyValues: throwing ? throwsOnBad(spec.keyValues) : spec.keyValues,
      });
      expectAsWithoutBad('s', keyValues, events, ['s:a2,b3']);
    });
  });

  describe('a join (every function read before a slot is filled)', () => {
    it("whose second item throws on an event the first item takes: reported, not the join's evidence", () => {
      // `bad` is an `x`, which the first item also takes: filled there before the second item throws, it
      // was the evidence instead of a2 (the first event per item wins).
      const join = (throwing: boolean): JoinSpec<TestEvent> => {
        const base = joinOf(['a', 'b'], MINUTE);
        const [first, second] = base.items;
        return {
          ...base,
          items: [
            { ...first!, predicate: (e) => e.type === 'a' || e.type === 'x' },
            { ...second!, predicate: throwing ? throwsOnBad(isType('b')) : isType('b') },
          ],
        };
      };
      const events = [ev('x', 1_000, 'k', 'bad'), ev('a', 2_000, 'k', 'a2'), ev('b', 3_000, 'k', 'b3')];
      expectAsWithoutBad('j', join, events, ['j:a2,b3']);
    });

    it('whose key values throw on an event: that event is reported when it comes, the join completes without it', () => {
      const base = joinOf(['a', 'b'], MINUTE);
      const events = [ev('a', 1_000, 'k', 'bad'), ev('a', 2_000, 'k', 'a2'), ev('b', 3_000, 'k', 'b3')];
      const keyValues = (throwing: boolean) => ({
        ...base,
        keyValues: throwing ? throwsOnBad(base.keyValues) : base.keyValues,
      });
      expectAsWithoutBad('j', keyValues, events, ['j:a2,b3']);
    });
  });

  describe('a correlation of correlations (a chain: part by part)', () => {
    const outerKey = (c: ChainedEvent<TestEvent>) => byKey(c.event);
    // Two `a` of a key within 10 s (the inner count), then a `b` of that key within a minute (the outer,
    // whose first step throws on `bad` when asked to).
    const chainOf = (
      inner: (e: TestEvent) => boolean,
      outerThrows: boolean,
      gte = 2,
    ): ChainSpec<TestEvent> => ({
      kind: 'chain',
      inner: [
        {
          kind: 'slidingAggregate',
          windowMs: 10 * SECOND,
          measure: 'count',
          inputs: [{ predicate: inner, key: byKey, keyValues: (e) => [e.key ?? null], value: null }],
          threshold: { gte },
          maxEvidence: 10,
        },
      ],
      outer: {
        kind: 'sequence',
        maxspanMs: MINUTE,
        steps: [
          {
            predicate: (c) => {
              if (outerThrows && c.event.id === 'bad') throw bug;
              return c.fired[0] !== undefined;
            },
            key: outerKey,
            runs: 1,
            missing: false,
          },
          { predicate: (c) => c.event.type === 'b', key: outerKey, runs: 1, missing: false },
        ],
        until: null,
        keyValues: (c) => [c.event.key ?? null],
      },
    });
    it('whose inner correlation throws on an event: reported, its alerts those of the stream without it', () => {
      const spec = (throwing: boolean) => chainOf(throwing ? throwsOnBad(isType('a')) : isType('a'), false);
      expectAsWithoutBad('chain', spec, burst, ['chain:a1,a3,b4']);
    });

    it('whose outer correlation throws on an event: reported, its alerts those of the stream without it', () => {
      const events = [
        ev('a', 1_000, 'k', 'a1'),
        ev('a', 2_000, 'k', 'a2'),
        ev('b', 3_000, 'k', 'bad'),
        ev('b', 4_000, 'k', 'b4'),
      ];
      const spec = (throwing: boolean) => chainOf(isType('a'), throwing);
      expectAsWithoutBad('chain', spec, events, ['chain:a1,a2,b4']);
    });

    it('whose outer throws on an event the inner took: the inner counted it, the outer never saw it', () => {
      // Three `a` within 10 s: the inner counts `bad` and fires on a3 (a1, bad, a3); the outer throws on
      // `bad` only, so the chain alerts where the stream without `bad` would not.
      const events = [
        ev('a', 1_000, 'k', 'a1'),
        ev('a', 2_000, 'k', 'bad'),
        ev('a', 3_000, 'k', 'a3'),
        ev('b', 4_000, 'k', 'b4'),
      ];
      const throwingOuter = chainOf(isType('a'), true, 3);
      const guarded = run([{ rule: 'chain', spec: throwingOuter }], events);
      expect(guarded.failed).toBeNull();
      expect(guarded.reported).toEqual(['chain:bad']);
      expect(guarded.out).toEqual(['chain:a1,bad,a3,b4']);
      const withoutBad = events.filter((e) => e.id !== 'bad');
      expect(run([{ rule: 'chain', spec: chainOf(isType('a'), false, 3) }], withoutBad).out).toEqual([]);
    });

    it('suppressed, whose part throws after it matched on that event: the key failure is reported too', () => {
      // Two inner counts of one `a`, the second throwing on `bad`; the outer fires on the first's: it
      // matches on `bad`, then the part's error comes, and the match's suppression key throws as well.
      const count = (throwing: boolean): SlidingAggregateSpec<TestEvent> => ({
        ...sliding({ gte: 1 }),
        inputs: [
          {
            predicate: throwing ? throwsOnBad(isType('a')) : isType('a'),
            key: byKey,
            keyValues: (e) => [e.key ?? null],
            value: null,
          },
        ],
      });
      const keyBug = new Error('key bug');
      const spec: ChainSpec<TestEvent> = {
        kind: 'chain',
        inner: [count(false), count(true)],
        outer: {
          kind: 'sequence',
          maxspanMs: MINUTE,
          steps: [{ predicate: (c) => c.fired[0] !== undefined, key: outerKey, runs: 1, missing: false }],
          until: null,
          keyValues: (c) => [c.event.key ?? null],
        },
      };
      const entries: RuleSetEntry<TestEvent, string>[] = [
        {
          rule: 'chain',
          spec,
          suppress: {
            windowMs: HOUR,
            groupKey: (m) => {
              if (m.events.at(-1)!.id === 'bad') throw keyBug;
              return 'g';
            },
          },
        },
      ];
      const events = [ev('a', 1_000, 'k', 'bad'), ev('a', 30_000, 'k2', 'a2')];
      const reported: string[] = [];
      const guarded = run(entries, events, (rule, event, error) =>
        reported.push(`${rule}:${event.id}:${(error as Error).message}`),
      );
      expect(guarded.failed).toBeNull();
      expect(guarded.out).toEqual(['chain:bad', 'chain:a2']);
      expect(reported).toEqual(['chain:bad:key bug', `chain:bad:${bug.message}`]);
      // Without onStatefulError the stream fails with the rule's own error, as it would alone.
      expect(strict(entries, events)).toBe(bug);
    });

    it('fails the stream without onStatefulError, as before', () => {
      const spec = chainOf(throwsOnBad(isType('a')), false);
      expect(strict([{ rule: 'chain', spec }], burst)).toBe(bug);
    });
  });

  describe('a suppressed rule', () => {
    const suppressedAgg = (
      spec: SlidingAggregateSpec<TestEvent>,
      groupKey: (match: Match<TestEvent>) => string | null,
    ): RuleSetEntry<TestEvent, string>[] => [{ rule: 'agg', spec, suppress: { windowMs: MINUTE, groupKey } }];

    it('whose suppression key throws on a match: the alert goes out unsuppressed, reported with its last event', () => {
      const keyOf = (match: Match<TestEvent>) => throwsOnBad(() => 'k')(match.events.at(-1)!);
      const guarded = run(suppressedAgg(sliding({ gte: 2 }), keyOf), burst);
      const healthy = run(
        suppressedAgg(sliding({ gte: 2 }), () => 'k'),
        burst,
      );
      expect(guarded.failed).toBeNull();
      expect(guarded.reported).toEqual(['agg:bad']);
      // Healthy: the match ending at bad opens the minute's window and the later one is counted into it.
      // Guarded: that match goes out all the same (a detection fails open) and opens no window, so the
      // next alert of the group opens it.
      expect(healthy.out).toEqual(['agg:a1,bad']);
      expect(guarded.out).toEqual(['agg:a1,bad', 'agg:a4,a5']);
    });

    it('whose own detection throws: as without the event (its kind is safe)', () => {
      const guarded = run(
        suppressedAgg(slidingThrowing(sliding({ gte: 2 }), 'predicate'), () => 'k'),
        burst,
      );
      const healthy = run(
        suppressedAgg(sliding({ gte: 2 }), () => 'k'),
        withoutBad,
      );
      expect(guarded.failed).toBeNull();
      expect(guarded.reported).toEqual(['agg:bad']);
      expect(guarded.out).toEqual(healthy.out);
      expect(healthy.out.length).toBeGreaterThan(0);
    });

    it('a filter whose predicate throws (a suppressed filter runs on the reordered stream): as without the event', () => {
      const entries = (throwing: boolean): RuleSetEntry<TestEvent, string>[] => {
        const filter = typeFilter('a');
        const predicate = throwing ? throwsOnBad(filter.predicate) : filter.predicate;
        return [
          {
            rule: 'f',
            spec: { ...filter, predicate },
            suppress: { windowMs: 10 * SECOND, groupKey: () => 'k' },
          },
        ];
      };
      const guarded = run(entries(true), burst);
      const healthy = run(entries(false), withoutBad);
      expect(guarded.failed).toBeNull();
      expect(guarded.reported).toEqual(['f:bad']);
      expect(guarded.out).toEqual(healthy.out);
      expect(healthy.out).toEqual(['f:a1', 'f:a4', 'f:a7']);
    });

    it("the caller's update callback throwing is not the rule's: the stream fails with it", () => {
      // One window at most: k2's first alert closes k1's (which counted x2), whose update throws.
      const entries: RuleSetEntry<TestEvent, string>[] = [
        {
          rule: 'f',
          spec: typeFilter('a'),
          suppress: { windowMs: MINUTE, groupKey: (m) => m.events[0]!.key! },
        },
      ];
      const sinkDown = new Error('update sink down');
      const events = [ev('a', 1_000, 'k1', 'x1'), ev('a', 2_000, 'k1', 'x2'), ev('a', 3_000, 'k2', 'y1')];
      let failed: unknown = null;
      const reported: string[] = [];
      from(events)
        .pipe(
          createRuleSetPipeline(entries, eventTime, {
            allowedLatenessMs: 5 * SECOND,
            suppression: { maxOpenWindows: 1 },
            onSuppressionUpdate: () => {
              throw sinkDown;
            },
            onStatefulError: (rule, e) => reported.push(`${rule}:${e.id}`),
          }).operator,
        )
        .subscribe({ error: (error: unknown) => (failed = error) });
      expect(failed).toBe(sinkDown);
      expect(reported).toEqual([]);
    });

    it('whose suppression key throws on a match made after the last event (a bucket closing): reported, published', () => {
      const entries: RuleSetEntry<TestEvent, string>[] = [
        {
          rule: 'span',
          spec: spanOf('a', 10 * SECOND),
          suppress: {
            windowMs: HOUR,
            groupKey: () => {
              throw bug;
            },
          },
        },
      ];
      const guarded = run(entries, burst);
      expect(guarded.failed).toBeNull();
      // Each bucket's match (named by its last evidence event) reported and published: none suppressed.
      expect(guarded.reported).toEqual(['span:a1', 'span:a4', 'span:a7']);
      expect(guarded.out).toEqual(['span:a1', 'span:a4', 'span:a7']);
      // Without onStatefulError it fails the stream, as before (the error says the alerts went out).
      const failed = strict(entries, burst);
      expect(failed).toBeInstanceOf(SuppressionKeyError);
      expect((failed as SuppressionKeyError<TestEvent>).cause).toBe(bug);
    });
  });
});
