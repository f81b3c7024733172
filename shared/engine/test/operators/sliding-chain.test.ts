import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  matchChain,
  replayWindowMs,
  runCorrelation,
  runCorrelationDetailed,
  type ChainSpec,
  type ChainedEvent,
  type CorrelationThreshold,
  type SlidingAggregateSpec,
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
  type TestEvent,
} from './fixtures.js';

const inOrder = { allowedLatenessMs: 0 };

function countOf(
  type: string,
  threshold: CorrelationThreshold,
  windowMs = MINUTE,
): SlidingAggregateSpec<TestEvent> {
  return {
    kind: 'slidingAggregate',
    windowMs,
    measure: 'count',
    inputs: [{ predicate: isType(type), key: byKey, keyValues: (e) => [e.key ?? null], value: null }],
    threshold,
    maxEvidence: 5,
  };
}

/** "3 failures, then a success of the same key within 10 minutes": an event_count feeding a sequence. */
function bruteForceThenSuccess(threshold: CorrelationThreshold = { gte: 3 }): ChainSpec<TestEvent> {
  const chainedKey = (c: ChainedEvent<TestEvent>) => byKey(c.event);
  return {
    kind: 'chain',
    inner: [countOf('fail', threshold)],
    outer: {
      kind: 'sequence',
      maxspanMs: 10 * MINUTE,
      steps: [
        { predicate: (c) => c.fired[0] !== undefined, key: chainedKey, runs: 1, missing: false },
        { predicate: (c) => c.event.type === 'ok', key: chainedKey, runs: 1, missing: false },
      ],
      until: null,
      keyValues: (c) => [c.event.key ?? null],
    },
  };
}

describe('matchChain', () => {
  it('the event on which the inner correlation fires is an event of the outer one; evidence is both', () => {
    const events = [
      ev('fail', 0, 'u1', 'f1'),
      ev('ok', SECOND, 'u1', 'too-early'),
      ev('fail', 2 * SECOND, 'u1', 'f2'),
      ev('fail', 3 * SECOND, 'u1', 'f3'),
      ev('ok', 4 * SECOND, 'u2', 'other-user'),
      ev('ok', 5 * SECOND, 'u1', 'ok'),
    ];
    const matches = runCorrelation(bruteForceThenSuccess(), eventTime, inOrder, events);
    expect(ids(matches)).toEqual([['f1', 'f2', 'f3', 'ok']]);
    expect(matches[0]).toMatchObject({
      kind: 'chain',
      keyValues: ['u1'],
      firstTime: T0,
      lastTime: T0 + 5 * SECOND,
    });
  });

  it('the outer window counts from the inner match event: past it, no match', () => {
    const events = [ev('fail', 0), ev('fail', 1), ev('fail', 2), ev('ok', 2 + 10 * MINUTE + 1)];
    expect(runCorrelation(bruteForceThenSuccess(), eventTime, inOrder, events)).toEqual([]);
  });

  it('inner matches decided by the watermark carry no event and feed nothing', () => {
    const spec = bruteForceThenSuccess({ lt: 5 });
    const events = [ev('fail', 0), ev('ok', MINUTE + SECOND), ev('ok', 2 * MINUTE)];
    const run = runCorrelationDetailed(spec, eventTime, inOrder, events);
    expect(run.matches).toEqual([]);
  });

  it('replayWindowMs: the longest inner need plus the outer one; two windows for sliding kinds', () => {
    expect(replayWindowMs(bruteForceThenSuccess())).toBe(2 * MINUTE + 10 * MINUTE);
    expect(replayWindowMs(countOf('x', { gt: 1 }))).toBe(2 * MINUTE);
    expect(replayWindowMs(sequenceOf([]))).toBeNull();
  });

  it('a replay from replayWindowMs + lateness before a cut raises what the uninterrupted run raised after it', () => {
    const spec = bruteForceThenSuccess();
    const lateness = SECOND;
    let seed = 5;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const events: TestEvent[] = [];
    let t = 0;
    for (let i = 0; i < 1500; i++) {
      t += Math.floor(random() * 20 * SECOND);
      const type = random() < 0.8 ? 'fail' : 'ok';
      events.push({ ...ev(type, t, `u${Math.floor(random() * 3)}`, `e${i}`), seq: i });
    }
    const key = (m: { events: readonly TestEvent[] }) => m.events.map((e) => e.id).join(',');
    const full = runCorrelation(spec, eventTime, { allowedLatenessMs: lateness }, events);
    const horizon = lateness + replayWindowMs(spec)!;
    for (const cut of [300, 700, 1100]) {
      const cutTime = events[cut]!.ts;
      const from = events.findIndex((e) => e.ts >= cutTime - horizon);
      const replay = runCorrelation(spec, eventTime, { allowedLatenessMs: lateness }, events.slice(from));
      const after = (m: { lastTime: number }) => m.lastTime >= cutTime;
      expect(replay.filter(after).map(key)).toEqual(full.filter(after).map(key));
      expect(full.filter(after).length).toBeGreaterThan(0);
    }
  });

  it('refuses a chain without inner correlations', () => {
    expect(() => matchChain({ ...bruteForceThenSuccess(), inner: [] })).toThrow(CorrelationSpecError);
  });
});
