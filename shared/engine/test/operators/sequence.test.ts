import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  matchSequence,
  reorderByEventTime,
  runCorrelation,
  runCorrelationDetailed,
  type Match,
  type SequenceSpec,
} from '../../src/index.js';
import {
  MINUTE,
  SECOND,
  T0,
  byKey,
  eventTime,
  ev,
  ids,
  isType,
  sequenceOf,
  step,
  type TestEvent,
} from './fixtures.js';

const inOrder = { allowedLatenessMs: 0 };
const ab1m = sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE });

describe('matchSequence: maxspan', () => {
  it('matches when the last event is exactly maxspan after the first (inclusive, as Elasticsearch)', () => {
    const matches = runCorrelation(ab1m, eventTime, inOrder, [
      ev('a', 0, 'k1', 'a'),
      ev('b', MINUTE, 'k1', 'b'),
    ]);
    expect(ids(matches)).toEqual([['a', 'b']]);
    expect(matches[0]).toMatchObject({
      kind: 'sequence',
      keyValues: ['k1'],
      firstTime: T0,
      lastTime: T0 + MINUTE,
    });
  });

  it('does not match at maxspan + 1 ms, and counts the partial as evicted by window', () => {
    const run = runCorrelationDetailed(ab1m, eventTime, inOrder, [ev('a', 0), ev('b', MINUTE + 1)]);
    expect(run.matches).toEqual([]);
    expect(run.stats.evictedByWindow).toBe(1);
  });

  it('counts maxspan from the first event, not the previous one', () => {
    const abc = sequenceOf([step('a'), step('b'), step('c')], { maxspanMs: MINUTE });
    const events = [ev('a', 0), ev('b', 40 * SECOND), ev('c', 80 * SECOND)];
    expect(runCorrelation(abc, eventTime, inOrder, events)).toEqual([]);
  });

  it('works at any epoch, including timestamps near and below 0', () => {
    for (const base of [0, 1000, -10 * MINUTE]) {
      const events = [
        { id: 'a', ts: base, type: 'a', key: 'k1' },
        { id: 'b', ts: base + 30 * SECOND, type: 'b', key: 'k1' },
      ];
      expect(ids(runCorrelation(ab1m, eventTime, inOrder, events))).toEqual([['a', 'b']]);
    }
  });

  it('without maxspan, a sequence may take any time', () => {
    const events = [ev('a', 0, 'k1', 'a'), ev('b', 30 * 24 * 60 * MINUTE, 'k1', 'b')];
    expect(ids(runCorrelation(sequenceOf([step('a'), step('b')]), eventTime, inOrder, events))).toEqual([
      ['a', 'b'],
    ]);
  });
});

describe('matchSequence: Elasticsearch state machine', () => {
  it('reproduces the documented example of "How sequence queries handle matches"', () => {
    // sequence by user.name [process where process.name == "attrib"] [.. "bash"] [.. "cat"]
    const rows: [string, string][] = [
      ['root', 'attrib'],
      ['root', 'attrib'],
      ['elkbee', 'bash'],
      ['root', 'bash'],
      ['root', 'bash'],
      ['elkbee', 'attrib'],
      ['root', 'attrib'],
      ['elkbee', 'bash'],
      ['root', 'cat'],
      ['elkbee', 'cat'],
      ['root', 'cat'],
    ];
    const events = rows.map(([user, name], index) => ev(name, index * SECOND, user, String(index + 1)));
    const spec = sequenceOf([step('attrib'), step('bash'), step('cat')]);
    const run = runCorrelationDetailed(spec, eventTime, inOrder, events);
    expect(ids(run.matches)).toEqual([
      ['2', '4', '9'],
      ['6', '8', '10'],
    ]);
    expect(run.matches.map((match) => match.keyValues)).toEqual([['root'], ['elkbee']]);
  });

  it('keeps one pending sequence per state: a newer one overwrites the older', () => {
    const events = [
      ev('a', 0, 'k1', 'a1'),
      ev('a', 1000, 'k1', 'a2'),
      ev('b', 2000, 'k1', 'b1'),
      ev('b', 3000, 'k1', 'b2'),
    ];
    const run = runCorrelationDetailed(sequenceOf([step('a'), step('b')]), eventTime, inOrder, events);
    expect(ids(run.matches)).toEqual([['a2', 'b1']]);
    expect(run.stats.openPartials).toBe(0);
  });

  it('moves a sequence by at most one step per event, even when the event satisfies several steps', () => {
    const either = (event: TestEvent) => event.type === 'x';
    const spec = sequenceOf([
      { ...step('x'), predicate: either },
      { ...step('x'), predicate: either },
      step('c'),
    ]);
    const events = [ev('x', 0, 'k1', 'x1'), ev('x', 1000, 'k1', 'x2'), ev('c', 2000, 'k1', 'c')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([['x1', 'x2', 'c']]);
  });

  it('keeps keys apart when their events interleave', () => {
    const events = [
      ev('a', 0, 'h1', 'a-h1'),
      ev('a', 1000, 'h2', 'a-h2'),
      ev('b', 2000, 'h2', 'b-h2'),
      ev('b', 3000, 'h3', 'b-h3'),
      ev('b', 4000, 'h1', 'b-h1'),
    ];
    expect(ids(runCorrelation(ab1m, eventTime, inOrder, events))).toEqual([
      ['a-h2', 'b-h2'],
      ['a-h1', 'b-h1'],
    ]);
  });

  it('never joins events whose key is null, even to each other', () => {
    const events = [ev('a', 0, null), ev('b', 1000, null), ev('a', 2000, 'k1'), ev('b', 3000, null)];
    const run = runCorrelationDetailed(ab1m, eventTime, inOrder, events);
    expect(run.matches).toEqual([]);
    expect(run.stats.keys).toBe(0);
  });

  it('advances only when the per-step keys are equal strings', () => {
    // sequence [a] by user [b] by target_user: b's key is its own field
    const byTarget = (event: TestEvent) => (event.id.startsWith('b') ? `s:${event.id.slice(2)}` : null);
    const spec = sequenceOf([step('a'), { ...step('b'), key: byTarget }]);
    const events = [ev('a', 0, 'alice', 'a1'), ev('b', 1000, 'x', 'b-bob'), ev('b', 2000, 'x', 'b-alice')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([['a1', 'b-alice']]);
  });

  it('frees the state of a completed sequence', () => {
    const run = runCorrelationDetailed(ab1m, eventTime, inOrder, [ev('a', 0), ev('b', 1000), ev('b', 2000)]);
    expect(run.matches).toHaveLength(1);
    expect(run.stats).toMatchObject({ matched: 1, openPartials: 0, keys: 0 });
  });
});

describe('matchSequence: until', () => {
  const spec = sequenceOf([step('a'), step('b')], { until: 'c' });

  it('matches A, B and A, B, C but not A, C, B (the documented until example)', () => {
    const events = [
      ev('a', 0, 'id1', 'a1'),
      ev('b', 1, 'id1', 'b1'),
      ev('a', 10, 'id2', 'a2'),
      ev('b', 11, 'id2', 'b2'),
      ev('c', 12, 'id2', 'c2'),
      ev('a', 20, 'id3', 'a3'),
      ev('c', 21, 'id3', 'c3'),
      ev('b', 22, 'id3', 'b3'),
    ];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([
      ['a1', 'b1'],
      ['a2', 'b2'],
    ]);
  });

  it('drops only the pending sequences of its own key', () => {
    const events = [
      ev('a', 0, 'k1', 'a1'),
      ev('a', 1, 'k2', 'a2'),
      ev('c', 2, 'k1'),
      ev('b', 3, 'k1'),
      ev('b', 4, 'k2', 'b2'),
    ];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([['a2', 'b2']]);
  });

  it('cancels before the steps run, so an event that is both until and a first step starts afresh', () => {
    const aOrC = sequenceOf(
      [{ ...step('a'), predicate: (e) => e.type === 'a' || e.type === 'c' }, step('b')],
      { until: 'c' },
    );
    const events = [ev('a', 0, 'k1', 'a1'), ev('c', 1, 'k1', 'c1'), ev('b', 2, 'k1', 'b1')];
    expect(ids(runCorrelation(aOrC, eventTime, inOrder, events))).toEqual([['c1', 'b1']]);
  });
});

describe('matchSequence: runs', () => {
  it('repeats a step N times', () => {
    const spec = sequenceOf([step('a', { runs: 3 }), step('b')]);
    const short = [ev('a', 0), ev('a', 1), ev('b', 2)];
    expect(runCorrelation(spec, eventTime, inOrder, short)).toEqual([]);
    const full = [
      ev('a', 0, 'k1', 'a1'),
      ev('a', 1, 'k1', 'a2'),
      ev('a', 2, 'k1', 'a3'),
      ev('b', 3, 'k1', 'b'),
    ];
    expect(ids(runCorrelation(spec, eventTime, inOrder, full))).toEqual([['a1', 'a2', 'a3', 'b']]);
  });

  it('rejects runs below 1 when built', () => {
    expect(() => matchSequence(sequenceOf([step('a', { runs: 0 }), step('b')]))).toThrow(
      CorrelationSpecError,
    );
  });
});

describe('matchSequence: event time', () => {
  it('matches out-of-order arrivals within the lateness in event-time order', () => {
    // b is written first but happened after a
    const events = [ev('b', 20 * SECOND, 'k1', 'b'), ev('a', 10 * SECOND, 'k1', 'a')];
    expect(runCorrelation(ab1m, eventTime, { allowedLatenessMs: 0 }, events)).toEqual([]);
    expect(ids(runCorrelation(ab1m, eventTime, { allowedLatenessMs: 15 * SECOND }, events))).toEqual([
      ['a', 'b'],
    ]);
  });

  it('drops an event beyond the lateness by default: counted and on the side channel', () => {
    const events = [ev('b', 20 * SECOND, 'k1', 'b'), ev('a', 10 * SECOND, 'k1', 'a')];
    const run = runCorrelationDetailed(ab1m, eventTime, { allowedLatenessMs: 5 * SECOND }, events);
    expect(run.matches).toEqual([]);
    expect(run.late.map((late) => late.event.id)).toEqual(['a']);
    expect(run.stats.late).toBe(1);
  });

  it("under 'process', a late event still joins a sequence best-effort, never against event-time order", () => {
    // a at 0 s, b at 30 s; then a late b at 10 s arrives when the watermark is at 25 s
    const events = [
      ev('a', 0, 'k1', 'a'),
      ev('b', 30 * SECOND, 'k2', 'other'),
      ev('b', 10 * SECOND, 'k1', 'late-b'),
    ];
    const run = runCorrelationDetailed(
      ab1m,
      eventTime,
      { allowedLatenessMs: 5 * SECOND, latePolicy: 'process' },
      events,
    );
    expect(ids(run.matches)).toEqual([['a', 'late-b']]);
    expect(run.stats.late).toBe(1);

    // a late 'a' older than a pending sequence does not overwrite it
    const older = [
      ev('a', 20 * SECOND, 'k1', 'a-new'),
      ev('b', 40 * SECOND, 'k2'),
      ev('a', 10 * SECOND, 'k1', 'a-old'),
      ev('b', 41 * SECOND, 'k1', 'b'),
    ];
    expect(
      ids(runCorrelation(ab1m, eventTime, { allowedLatenessMs: 5 * SECOND, latePolicy: 'process' }, older)),
    ).toEqual([['a-new', 'b']]);
  });

  it('is deterministic: the same input twice gives identical matches', () => {
    const events: TestEvent[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let index = 0; index < 2000; index++) {
      events.push(
        ev(
          random() < 0.5 ? 'a' : 'b',
          Math.floor(random() * 600_000),
          `k${Math.floor(random() * 20)}`,
          `e${index}`,
        ),
      );
    }
    const options = { allowedLatenessMs: 30 * SECOND };
    const first = runCorrelation(ab1m, eventTime, options, events);
    const second = runCorrelation(ab1m, eventTime, options, events);
    expect(first.length).toBeGreaterThan(10);
    expect(ids(second)).toEqual(ids(first));
  });

  it('emits a match when the completing event is released, not before (marbles)', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
      ({ cold, expectObservable }) => {
        const a = ev('a', 0, 'k1', 'a');
        const b = ev('b', 10 * SECOND, 'k1', 'b');
        const tick = ev('z', 16 * SECOND, 'k9', 'tick'); // moves the watermark past b (lateness 5 s)
        const source = cold<TestEvent>('a-b--t--|', { a, b, t: tick });
        const matches = source.pipe(
          reorderByEventTime(eventTime, { allowedLatenessMs: 5 * SECOND }),
          matchSequence(ab1m),
        );
        const expected: Match<TestEvent> = {
          kind: 'sequence',
          events: [a, b],
          keyValues: ['k1'],
          firstTime: a.ts,
          lastTime: b.ts,
        };
        expectObservable(matches).toBe('-----m--|', { m: expected });
      },
    );
  });
});

describe('matchSequence: state eviction', () => {
  it('evicts partials when the watermark passes first + maxspan', () => {
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    input
      .pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }), matchSequence(ab1m, { stats }))
      .subscribe();
    input.next(ev('a', 0, 'k1'));
    input.next(ev('a', 1000, 'k2'));
    input.next(ev('z', MINUTE, 'k3')); // watermark = 60 s: k1 (expires after 60 s) stays
    expect(stats).toMatchObject({ openPartials: 2, keys: 2, evictedByWindow: 0 });
    input.next(ev('z', MINUTE + 1, 'k3')); // watermark 60.001 s > 60 s
    expect(stats).toMatchObject({ openPartials: 1, keys: 1, evictedByWindow: 1 });
    input.next(ev('z', 2 * MINUTE, 'k3'));
    expect(stats).toMatchObject({ openPartials: 0, keys: 0, evictedByWindow: 2 });
  });

  it('evicts the oldest partial beyond the cap and counts it', () => {
    const events = [
      ev('a', 0, 'k1', 'a1'),
      ev('a', 1, 'k2', 'a2'),
      ev('a', 2, 'k3', 'a3'),
      ev('b', 3, 'k1'),
      ev('b', 4, 'k3', 'b3'),
    ];
    const run = runCorrelationDetailed(ab1m, eventTime, { allowedLatenessMs: 0, maxOpenPartials: 2 }, events);
    expect(ids(run.matches)).toEqual([['a3', 'b3']]);
    expect(run.stats.evictedByCap).toBe(1);
  });

  it('keeps its partial state under the byte bound, oldest evicted first and counted', () => {
    const record = { referenceTime: Number.NaN, sizeBytes: 1_000 };
    const events = Array.from({ length: 1_000 }, (_, i) => ev('a', i, `k${i}`, `a${i}`));
    events.push(ev('b', 1_000, 'k999', 'b999'), ev('b', 1_001, 'k0', 'b0'));
    const run = runCorrelationDetailed(
      ab1m,
      eventTime,
      { allowedLatenessMs: 0, maxStateBytes: 50_000, record },
      events,
    );
    // 1,000 partials of ~1.2 kB each against 50 kB: only the newest ~40 survive, so k0's is gone.
    expect(ids(run.matches)).toEqual([['a999', 'b999']]);
    expect(run.stats.evictedByBytes).toBeGreaterThan(900);
    expect(run.stats.evictedByCap).toBe(0);
  });

  it('does not let a key that keeps overwriting its pending sequence grow memory', () => {
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }),
        matchSequence(sequenceOf([step('a'), step('b')]), { stats }),
      )
      .subscribe();
    for (let index = 0; index < 50_000; index++) input.next(ev('a', index, 'k1'));
    expect(stats.openPartials).toBe(1);
    expect(stats.keys).toBe(1);
  });

  it('drops its state on unsubscribe and gives the gauges back', () => {
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    const subscription = input
      .pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }), matchSequence(ab1m, { stats }))
      .subscribe();
    input.next(ev('a', 0, 'k1'));
    input.next(ev('a', 1, 'k2'));
    input.next(ev('z', 2, 'k2'));
    expect(stats.openPartials).toBe(2);
    subscription.unsubscribe();
    expect(stats).toMatchObject({ openPartials: 0, keys: 0, buffered: 0 });
    expect(input.observed).toBe(false);
  });

  it('reports a predicate that throws to the subscriber and stops', () => {
    const spec: SequenceSpec<TestEvent> = {
      ...ab1m,
      steps: [
        {
          ...step('a'),
          predicate: () => {
            throw new Error('bad predicate');
          },
        },
        step('b'),
      ],
    };
    expect(() => runCorrelation(spec, eventTime, inOrder, [ev('a', 0), ev('b', 1)])).toThrow('bad predicate');
  });
});

describe('matchSequence: missing steps', () => {
  const logonNoLogoff = sequenceOf([step('logon'), step('logoff', { missing: true })], {
    maxspanMs: 5 * SECOND,
  });

  it('requires maxspan', () => {
    expect(() => matchSequence(sequenceOf([step('a'), step('b', { missing: true })]))).toThrow(
      CorrelationSpecError,
    );
  });

  it('completes a trailing missing step when the watermark passes first + maxspan without it', () => {
    const events = [
      ev('logon', 0, 'u1', 'on1'),
      ev('logon', 1000, 'u2', 'on2'),
      ev('logoff', 4000, 'u2'),
      ev('z', 5000, 'u9'),
    ];
    // watermark 5 s is not past 0 + 5 s (inclusive window): nothing yet
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    const out: Match<TestEvent>[] = [];
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }),
        matchSequence(logonNoLogoff, { stats }),
      )
      .subscribe((m) => out.push(m));
    for (const event of events) input.next(event);
    expect(out).toEqual([]);
    input.next(ev('z', 5001, 'u9'));
    expect(ids(out)).toEqual([['on1']]);
    input.complete();
    expect(ids(out)).toEqual([['on1']]); // u2 logged off within 5 s
    expect(stats.evictedByWindow).toBe(0);
  });

  it('counts an event at exactly first + maxspan as inside the window', () => {
    const events = [ev('logon', 0, 'u1'), ev('logoff', 5000, 'u1'), ev('z', 10_000, 'u9')];
    expect(runCorrelation(logonNoLogoff, eventTime, inOrder, events)).toEqual([]);
    const later = [ev('logon', 0, 'u1', 'on'), ev('logoff', 5001, 'u1'), ev('z', 10_000, 'u9')];
    expect(ids(runCorrelation(logonNoLogoff, eventTime, inOrder, later))).toEqual([['on']]);
  });

  it('keeps every completed candidate of a trailing missing step (they do not overwrite)', () => {
    const events = [ev('logon', 0, 'u1', 'on1'), ev('logon', 1000, 'u1', 'on2'), ev('logoff', 5500, 'u1')];
    // the logoff at 5.5 s is outside on1's window (0..5 s) but inside on2's (1..6 s)
    expect(ids(runCorrelation(logonNoLogoff, eventTime, inOrder, events))).toEqual([['on1']]);
  });

  it('cancels a sequence when a missing middle step occurs between its neighbours', () => {
    const spec = sequenceOf([step('a'), step('x', { missing: true }), step('b')], { maxspanMs: MINUTE });
    expect(runCorrelation(spec, eventTime, inOrder, [ev('a', 0), ev('x', 1), ev('b', 2)])).toEqual([]);
    expect(
      ids(
        runCorrelation(spec, eventTime, inOrder, [
          ev('a', 0, 'k1', 'a'),
          ev('x', 1, 'k2'),
          ev('b', 2, 'k1', 'b'),
        ]),
      ),
    ).toEqual([['a', 'b']]);
    // an x before the a does not matter
    expect(
      ids(
        runCorrelation(spec, eventTime, inOrder, [ev('x', 0), ev('a', 1, 'k1', 'a'), ev('b', 2, 'k1', 'b')]),
      ),
    ).toEqual([['a', 'b']]);
  });

  it('rejects a sequence with a leading missing step that occurred within maxspan before its last event', () => {
    const spec = sequenceOf([step('x', { missing: true }), step('a'), step('b')], { maxspanMs: MINUTE });
    const recent = [ev('x', 0), ev('a', 10 * SECOND), ev('b', 20 * SECOND)];
    expect(runCorrelation(spec, eventTime, inOrder, recent)).toEqual([]);
    const old = [ev('x', 0), ev('a', 50 * SECOND, 'k1', 'a'), ev('b', 61 * SECOND, 'k1', 'b')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, old))).toEqual([['a', 'b']]);
  });
});

describe('matchSequence: spec checks', () => {
  it('needs at least one positive step', () => {
    expect(() => matchSequence(sequenceOf([step('a', { missing: true })], { maxspanMs: 1 }))).toThrow(
      CorrelationSpecError,
    );
  });

  it('keys steps with the extractor they are given', () => {
    const spec = sequenceOf([step('a'), { predicate: isType('b'), key: byKey, runs: 1, missing: false }]);
    expect(runCorrelation(spec, eventTime, inOrder, [ev('a', 0, 'k1'), ev('b', 1, 'k1')])).toHaveLength(1);
  });
});
