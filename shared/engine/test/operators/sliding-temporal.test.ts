import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  matchSlidingTemporal,
  reorderByEventTime,
  runCorrelation,
  runCorrelationDetailed,
  type Match,
  type SlidingTemporalSpec,
} from '../../src/index.js';
import { MINUTE, SECOND, T0, byKey, eventTime, ev, ids, isType, type TestEvent } from './fixtures.js';

const inOrder = { allowedLatenessMs: 0 };

function temporalOf(
  types: readonly string[],
  windowMs = MINUTE,
  minInputs = types.length,
): SlidingTemporalSpec<TestEvent> {
  return {
    kind: 'slidingTemporal',
    windowMs,
    inputs: types.map((type) => ({
      predicate: isType(type),
      key: byKey,
      keyValues: (event: TestEvent) => [event.key ?? null],
    })),
    minInputs,
  };
}

describe('matchSlidingTemporal', () => {
  it('every input within the window, in any order (the specification recon example)', () => {
    const spec = temporalOf(['recon_a', 'recon_b', 'recon_c'], 5 * MINUTE);
    const events = [
      ev('recon_c', 0, 'u1', 'c'),
      ev('recon_a', MINUTE, 'u1', 'a'),
      ev('recon_a', MINUTE, 'u2'),
      ev('recon_b', 2 * MINUTE, 'u1', 'b'),
    ];
    const matches = runCorrelation(spec, eventTime, inOrder, events);
    expect(ids(matches)).toEqual([['c', 'a', 'b']]);
    expect(matches[0]).toMatchObject({
      kind: 'slidingTemporal',
      keyValues: ['u1'],
      firstTime: T0,
      lastTime: T0 + 2 * MINUTE,
      count: 3,
    });
  });

  it('exactly windowMs apart matches, one millisecond more does not', () => {
    const spec = temporalOf(['a', 'b']);
    expect(
      ids(runCorrelation(spec, eventTime, inOrder, [ev('a', 0, 'k1', 'a'), ev('b', MINUTE, 'k1', 'b')])),
    ).toEqual([['a', 'b']]);
    expect(runCorrelation(spec, eventTime, inOrder, [ev('a', 0), ev('b', MINUTE + 1)])).toEqual([]);
  });

  it('slides: a later event of the same input replaces the earlier one (a join anchored at the first would miss this)', () => {
    const spec = temporalOf(['a', 'b']);
    const events = [
      ev('a', 0, 'k1', 'a0'),
      ev('a', 50 * SECOND, 'k1', 'a50'),
      ev('b', 70 * SECOND, 'k1', 'b70'),
    ];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([['a50', 'b70']]);
  });

  it('one alert per episode: again only after the condition stopped holding', () => {
    const spec = temporalOf(['a', 'b']);
    const events = [
      ev('a', 0, 'k1', 'a1'),
      ev('b', SECOND, 'k1', 'b1'),
      ev('a', 2 * SECOND, 'k1'), // still holds: no second alert
      ev('b', 3 * MINUTE, 'k1', 'b2'), // a is out of the window: does not hold
      ev('a', 3 * MINUTE + 1, 'k1', 'a2'), // holds again
    ];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([
      ['a1', 'b1'],
      ['b2', 'a2'],
    ]);
  });

  it('fireWhileHeld (inside a chain): a match on every event at which the condition holds', () => {
    const spec = { ...temporalOf(['a', 'b']), fireWhileHeld: true };
    const events = [
      ev('a', 0, 'k1', 'a1'),
      ev('b', SECOND, 'k1', 'b1'),
      ev('a', 2 * SECOND, 'k1', 'a2'), // still holds: a match again
      ev('b', 3 * MINUTE, 'k1', 'b2'), // a is out of the window: none
    ];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([
      ['a1', 'b1'],
      ['b1', 'a2'],
    ]);
  });

  it('an event matching two inputs fills both, and is evidence once', () => {
    const spec: SlidingTemporalSpec<TestEvent> = {
      ...temporalOf(['a', 'b']),
      inputs: [isType('a'), (e: TestEvent) => e.type === 'a' || e.type === 'b'].map((predicate) => ({
        predicate,
        key: byKey,
        keyValues: (event: TestEvent) => [event.key ?? null],
      })),
    };
    const [match] = runCorrelation(spec, eventTime, inOrder, [ev('a', 0, 'k1', 'a1')]);
    expect(match).toMatchObject({ count: 2 });
    expect(match!.events.map((e) => e.id)).toEqual(['a1']);
  });

  it('minInputs (a condition of gte 2 of 3 rules), groups apart, missing key joins no group', () => {
    const spec = temporalOf(['a', 'b', 'c'], MINUTE, 2);
    const events = [ev('a', 0, 'u1', 'a'), ev('b', 1, 'u2'), ev('c', 2, null), ev('c', 3, 'u1', 'c')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([['a', 'c']]);
  });

  it('inputs with their own keys (Sigma aliases)', () => {
    const spec: SlidingTemporalSpec<TestEvent> = {
      ...temporalOf(['a', 'b']),
      inputs: [
        { predicate: isType('a'), key: (e) => `ip:${e.key}`, keyValues: (e) => [e.key] },
        {
          predicate: isType('b'),
          key: (e) => `ip:${e.id.split('@')[1]}`,
          keyValues: (e) => [e.id.split('@')[1]],
        },
      ],
    };
    const events = [ev('a', 0, '10.0.0.1', 'a'), ev('b', 1, 'other', 'b@10.0.0.1')];
    const matches = runCorrelation(spec, eventTime, inOrder, events);
    expect(ids(matches)).toEqual([['a', 'b@10.0.0.1']]);
    expect(matches[0]!.keyValues).toEqual(['10.0.0.1']);
  });

  it('out of order within the lateness gives the sorted result; late beyond it is dropped', () => {
    const spec = temporalOf(['a', 'b']);
    const lax = { allowedLatenessMs: 5 * SECOND };
    const sorted = [ev('a', 0, 'k1', 'a'), ev('b', 2 * SECOND, 'k1', 'b')];
    expect(ids(runCorrelation(spec, eventTime, lax, [sorted[1]!, sorted[0]!]))).toEqual([['a', 'b']]);
    const run = runCorrelationDetailed(spec, eventTime, { allowedLatenessMs: SECOND }, [
      ev('b', 10 * SECOND),
      ev('x', 20 * SECOND),
      ev('a', 9 * SECOND, 'k1', 'late'),
    ]);
    expect(run.matches).toEqual([]);
    expect(run.late.map((l) => l.event.id)).toEqual(['late']);
  });

  it('evicts by watermark and bounds the state by count', () => {
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    const matches: Match<TestEvent>[] = [];
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }),
        matchSlidingTemporal(temporalOf(['a', 'b']), { stats, maxOpenPartials: 2 }),
      )
      .subscribe((m) => matches.push(m));
    input.next(ev('a', 0, 'g1'));
    input.next(ev('a', 1, 'g2'));
    input.next(ev('a', 2, 'g3'));
    input.next(ev('a', 3, 'g4'));
    expect(stats).toMatchObject({ openPartials: 2, keys: 2, evictedByCap: 1 });
    input.next(ev('x', 2 * MINUTE));
    expect(stats).toMatchObject({
      openPartials: 0,
      keys: 0,
      evictedByCap: 2,
      evictedByWindow: 2,
      stateBytes: 0,
    });
    expect(matches).toEqual([]);
  });

  it('a replay from 2 * windowMs + lateness before a cut raises what the uninterrupted run raised after it', () => {
    const spec = temporalOf(['a', 'b', 'c'], 10 * SECOND);
    const lateness = SECOND;
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const events: TestEvent[] = [];
    let t = 0;
    for (let i = 0; i < 800; i++) {
      t += Math.floor(random() * 3 * SECOND);
      events.push({
        ...ev(['a', 'b', 'c'][Math.floor(random() * 3)]!, t, `g${Math.floor(random() * 2)}`, `e${i}`),
        seq: i,
      });
    }
    const key = (m: Match<TestEvent>) => m.events.map((e) => e.id).join(',');
    const full = runCorrelation(spec, eventTime, { allowedLatenessMs: lateness }, events);
    for (const cut of [150, 400, 650]) {
      const cutTime = events[cut]!.ts;
      const from = events.findIndex((e) => e.ts >= cutTime - lateness - 2 * spec.windowMs);
      const replay = runCorrelation(spec, eventTime, { allowedLatenessMs: lateness }, events.slice(from));
      const after = (m: Match<TestEvent>) => m.lastTime >= cutTime;
      expect(replay.filter(after).map(key)).toEqual(full.filter(after).map(key));
      expect(full.filter(after).length).toBeGreaterThan(0);
    }
  });

  it('refuses minInputs beyond the inputs, at build time', () => {
    expect(() => matchSlidingTemporal(temporalOf(['a'], MINUTE, 2))).toThrow(CorrelationSpecError);
  });
});
