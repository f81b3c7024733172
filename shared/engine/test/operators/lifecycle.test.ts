/**
 * rxjs's operator checklist, once per correlation operator (they share one shell, `runOperator`, and must
 * each honour it): completion, error, unsubscribe mid-stream and re-subscription, as marbles over `Timed`
 * input, with the state gauges back at zero afterwards (no state outlives its subscription).
 */
import { map, merge, repeat, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CorrelationStats,
  matchFilter,
  matchJoin,
  matchSequence,
  matchSpanAggregate,
  type Match,
  type Timed,
} from '../../src/index.js';
import { HOUR, MINUTE, ev, joinOf, sequenceOf, spanOf, step, type TestEvent } from './fixtures.js';

type Operator = OperatorFunction<Timed<TestEvent>, Match<TestEvent>>;

// x, y: a then b of key k1; z: an a of key k2, which leaves state open in the stateful operators.
const x = ev('a', 0, 'k1', 'x');
const y = ev('b', 1, 'k1', 'y');
const z = ev('a', 2, 'k2', 'z');
let arrival = 0;
const timed = (event: TestEvent): Timed<TestEvent> => ({
  kind: 'event',
  event,
  timestamp: event.ts,
  tiebreaker: 0,
  arrival: arrival++,
  late: false,
  size: 100,
});
const values = { x: timed(x), y: timed(y), z: timed(z), w: { kind: 'watermark' as const, watermark: z.ts } };

interface Case {
  readonly name: string;
  readonly build: (stats: CorrelationStats) => Operator;
  /** Output for 'x-y-w-z-|' as evidence ids joined with '+'. */
  readonly marble: string;
  readonly matches: Record<string, string>;
}

const cases: readonly Case[] = [
  {
    name: 'matchFilter',
    build: (stats) =>
      matchFilter({ kind: 'filter', predicate: (e) => e.type === 'a', keyValues: (e) => [e.key] }, { stats }),
    marble: 'm-----n-|',
    matches: { m: 'x', n: 'z' },
  },
  {
    name: 'matchSequence',
    build: (stats) => matchSequence(sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE }), { stats }),
    marble: '--m-----|',
    matches: { m: 'x+y' },
  },
  {
    name: 'matchJoin',
    build: (stats) => matchJoin(joinOf(['a', 'b'], HOUR), { stats }),
    marble: '--m-----|',
    matches: { m: 'x+y' },
  },
  {
    name: 'matchSpanAggregate',
    build: (stats) => matchSpanAggregate(spanOf('a'), { stats }),
    marble: 'm-----n-|',
    matches: { m: 'x', n: 'z' },
  },
];

const evidence = map((match: Match<TestEvent>) => match.events.map((event) => event.id).join('+'));
const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const released = (stats: CorrelationStats): void =>
  expect(stats).toMatchObject({ openPartials: 0, keys: 0, stateBytes: 0 });

describe.each(cases)('$name lifecycle (marbles)', ({ build, marble, matches }) => {
  it('completes when its input completes, and lets go of its state', () => {
    const stats = new CorrelationStats();
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('x-y-w-z-|', values);
      expectObservable(source.pipe(build(stats), evidence)).toBe(marble, matches);
    });
    released(stats);
  });

  it('passes an upstream error on, unchanged, and lets go of its state', () => {
    const stats = new CorrelationStats();
    const failure = new Error('broker gone');
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('x-y-w-z-#', values, failure);
      expectObservable(source.pipe(build(stats), evidence)).toBe(marble.replace('|', '#'), matches, failure);
    });
    released(stats);
  });

  it('errors when its own logic throws, and unsubscribes from the input', () => {
    const stats = new CorrelationStats();
    const failure = new Error('predicate failed');
    const throwing: Timed<TestEvent> = {
      ...values.x,
      get event(): TestEvent {
        throw failure;
      },
    };
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('x-y-t-z-|', { ...values, t: throwing });
      expectObservable(source.pipe(build(stats), evidence)).toBe(marble.slice(0, 4) + '#', matches, failure);
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    released(stats);
  });

  it('stops and lets go of its state when unsubscribed mid-stream', () => {
    const stats = new CorrelationStats();
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('x-y-w-z-|', values);
      expectObservable(source.pipe(build(stats), evidence), '^------!').toBe(marble.slice(0, 7), matches);
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
    released(stats);
  });

  it('gives each subscription its own state: a re-subscription starts from nothing', () => {
    const stats = new CorrelationStats();
    const operator = build(stats);
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('x-y-w-z-|', values);
      const twice = marble.slice(0, 8) + marble;
      expectObservable(source.pipe(operator, evidence, repeat(2))).toBe(twice, matches);
    });
    released(stats);
    expect(stats.matched).toBe(2 * Object.keys(matches).length);
  });

  it('keeps concurrent subscriptions apart: an a in one and a b in the other never correlate', () => {
    const stats = new CorrelationStats();
    const operator = build(stats);
    scheduler().run(({ cold, expectObservable }) => {
      const first = cold('x---|', values).pipe(operator, evidence);
      const second = cold('-y--|', values).pipe(operator, evidence);
      expectObservable(merge(first, second)).toBe(matches.m === 'x' ? 'm---|' : '----|', matches);
    });
    released(stats);
  });
});
