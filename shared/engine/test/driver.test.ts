import { Subject, from, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createCorrelationPipeline,
  createRuleSetPipeline,
  runCorrelation,
  runCorrelationDetailed,
  type LateEvent,
  type Match,
} from '../src/index.js';
import {
  MINUTE,
  SECOND,
  T0,
  eventTime,
  ev,
  ids,
  joinOf,
  sequenceOf,
  spanOf,
  step,
  type TestEvent,
} from './operators/fixtures.js';

const ab = sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE });

describe('runCorrelation', () => {
  it('runs synchronously over an array and flushes the reorder buffer at the end', () => {
    // with a 1 h grace nothing is released before the end of input
    const events = [ev('a', 0, 'k1', 'a'), ev('b', SECOND, 'k1', 'b')];
    expect(ids(runCorrelation(ab, eventTime, { allowedLatenessMs: 3_600_000 }, events))).toEqual([
      ['a', 'b'],
    ]);
  });

  it('uses a 5 s grace by default', () => {
    const events = [
      ev('b', 10 * SECOND, 'k1', 'b'),
      ev('a', 6 * SECOND, 'k1', 'a'),
      ev('a', 4 * SECOND, 'k2', 'too-late'),
    ];
    const run = runCorrelationDetailed(ab, eventTime, {}, events);
    expect(ids(run.matches)).toEqual([['a', 'b']]);
    expect(run.late.map((late) => late.event.id)).toEqual(['too-late']);
  });

  it('rethrows an operator error', () => {
    const broken = {
      ...ab,
      keyValues: (): readonly unknown[] => {
        throw new Error('keyValues failed');
      },
    };
    expect(() => runCorrelation(broken, eventTime, {}, [ev('a', 0), ev('b', 1)])).toThrow('keyValues failed');
  });
});

describe('createCorrelationPipeline', () => {
  it('exposes stats, late events and bucket summaries beside the matches', () => {
    const pipeline = createCorrelationPipeline(spanOf('reg'), eventTime, { allowedLatenessMs: 0 });
    const late: LateEvent<TestEvent>[] = [];
    const summaries: number[] = [];
    pipeline.late$.subscribe((event) => late.push(event));
    pipeline.bucketSummaries$.subscribe((summary) => summaries.push(summary.count));
    const input = new Subject<TestEvent>();
    const matches: Match<TestEvent>[] = [];
    input.pipe(pipeline.operator).subscribe((match) => matches.push(match));
    input.next(ev('reg', 0, 'h1'));
    input.next(ev('reg', 1, 'h1'));
    input.next(ev('reg', 0, 'h1', 'late'));
    input.complete();
    expect(matches).toHaveLength(1);
    expect(late.map((event) => event.event.id)).toEqual(['late']);
    expect(summaries).toEqual([2]);
    expect(pipeline.stats.snapshot()).toMatchObject({
      eventsIn: 3,
      late: 1,
      matched: 1,
      openPartials: 0,
      keys: 0,
      buffered: 0,
    });
  });

  it('stops consuming a synchronous source when the consumer unsubscribes early', () => {
    const pipeline = createCorrelationPipeline(ab, eventTime, { allowedLatenessMs: 0 });
    const events: TestEvent[] = [];
    for (let index = 0; index < 100; index++)
      events.push(ev(index % 2 === 0 ? 'a' : 'b', index * 10, 'k1', `e${index}`));
    const input = new Subject<TestEvent>();
    const matches: Match<TestEvent>[] = [];
    input.pipe(pipeline.operator, take(1)).subscribe((match) => matches.push(match));
    for (const event of events) input.next(event);
    expect(ids(matches)).toEqual([['e0', 'e1']]);
    expect(pipeline.stats.openPartials).toBe(0);
    expect(input.observed).toBe(false);
  });
});

describe('createRuleSetPipeline', () => {
  const filterSpec = {
    kind: 'filter' as const,
    predicate: (e: TestEvent) => e.type === 'reg',
    keyValues: (e: TestEvent) => [e.key ?? null],
  };
  const rules = [
    { rule: 'filter', spec: filterSpec },
    { rule: 'sequence', spec: ab },
    { rule: 'join', spec: joinOf(['a', 'reg'], 10 * MINUTE) },
    { rule: 'span', spec: spanOf('reg', 10 * MINUTE) },
  ];

  function randomStream(count: number): TestEvent[] {
    let seed = 11;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const types = ['a', 'b', 'reg', 'x'];
    const events: TestEvent[] = [];
    for (let index = 0; index < count; index++) {
      // mostly increasing, up to 8 s out of order: some events are late for a 5 s grace
      const ts = index * 100 + Math.floor(random() * 8_000);
      events.push(
        ev(types[Math.floor(random() * types.length)]!, ts, `k${Math.floor(random() * 30)}`, `e${index}`),
      );
    }
    return events;
  }

  function runSet(events: readonly TestEvent[]) {
    const pipeline = createRuleSetPipeline(rules, eventTime, { allowedLatenessMs: 5 * SECOND });
    const late: string[] = [];
    pipeline.late$.subscribe((event) => late.push(event.event.id));
    const byRule = new Map<string, string[][]>(rules.map((entry) => [entry.rule, []]));
    from(events)
      .pipe(pipeline.operator)
      .subscribe(({ rule, match }) => byRule.get(rule)!.push(match.events.map((event) => event.id)));
    return { pipeline, late, byRule };
  }

  it('gives each rule the matches its own pipeline gives, reordering once', () => {
    const events = randomStream(5_000);
    const { pipeline, late, byRule } = runSet(events);
    for (const entry of rules) {
      const alone = runCorrelationDetailed(entry.spec, eventTime, { allowedLatenessMs: 5 * SECOND }, events);
      expect(byRule.get(entry.rule), entry.rule).toEqual(ids(alone.matches));
      expect(byRule.get(entry.rule)!.length, entry.rule).toBeGreaterThan(0);
    }
    expect(pipeline.streamStats.eventsIn).toBe(events.length); // counted once, not per rule
    expect(late.length).toBe(pipeline.streamStats.late);
    expect(late.length).toBeGreaterThan(0);
    expect(pipeline.ruleStats.map((stats) => stats.matched)).toEqual(
      rules.map((entry) => byRule.get(entry.rule)!.length),
    );
    expect(pipeline.ruleStats.map((stats) => stats.openPartials)).toEqual([0, 0, 0, 0]);
  });

  it('is deterministic: the same stream twice gives identical matches and late events', () => {
    const events = randomStream(3_000);
    const first = runSet(events);
    const second = runSet(events);
    expect([...second.byRule]).toEqual([...first.byRule]);
    expect(second.late).toEqual(first.late);
  });

  it("gives each filter match its own event's time (the stamp behind filters is rewritten per event)", () => {
    const events = [ev('reg', 3 * SECOND, 'h1', 'r1'), ev('x', 4 * SECOND), ev('reg', SECOND, 'h2', 'r2')];
    const matches: Match<TestEvent>[] = [];
    from(events)
      .pipe(createRuleSetPipeline(rules, eventTime, { allowedLatenessMs: 0 }).operator)
      .subscribe(({ rule, match }) => {
        if (rule === 'filter') matches.push(match);
      });
    expect(matches.map((match) => [match.events[0]!.id, match.firstTime, match.lastTime])).toEqual([
      ['r1', T0 + 3 * SECOND, T0 + 3 * SECOND],
      ['r2', T0 + SECOND, T0 + SECOND],
    ]);
  });

  it('tags bucket summaries with their rule', () => {
    const pipeline = createRuleSetPipeline(rules, eventTime, { allowedLatenessMs: 0 });
    const summaries: string[] = [];
    pipeline.bucketSummaries$.subscribe(({ rule, summary }) =>
      summaries.push(`${rule}:${summary.groupKey}:${summary.count}`),
    );
    from([ev('reg', 0, 'h1'), ev('reg', 1, 'h1')])
      .pipe(pipeline.operator)
      .subscribe();
    expect(summaries).toEqual(['span:s:h1:2']);
  });

  it('releases every stage on unsubscribe', () => {
    const pipeline = createRuleSetPipeline(rules, eventTime, { allowedLatenessMs: 5 * SECOND });
    const input = new Subject<TestEvent>();
    const subscription = input.pipe(pipeline.operator).subscribe();
    for (const event of randomStream(500)) input.next(event);
    expect(pipeline.streamStats.buffered).toBeGreaterThan(0);
    subscription.unsubscribe();
    expect(input.observed).toBe(false);
    expect(pipeline.streamStats.buffered).toBe(0);
    expect(pipeline.ruleStats.map((stats) => [stats.openPartials, stats.keys])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });
});
