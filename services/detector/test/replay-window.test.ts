// The restore a partition's new owner does, in its fast form: the engine's sliding correlations fed a stream
// once in full, and again from `replayWindowMs(spec)` before a restore point R with the matches of events
// at or before R dropped (they were the old owner's). The matches after R must be the same for every R.
// Pins why a sliding correlation replays two windows, not one: its alert is edge-triggered (the condition
// holds on the window ending at an event and did not on the window of the group's previous event), and
// that previous window reaches up to two windows back. A chain (a correlation of correlations) adds its
// inner part's two windows to its outer part's: the outer one's state is made of inner alerts. (A Sigma
// temporal_ordered compiles to an EQL sequence, which replays its maxspan: tested with the sequences.)
// The e2e form of this proof is test/e2e/scaling-detector-sigma.test.ts with
// ./support/replay-window-probes.ts.
import { describe, expect, it } from 'vitest';
import type {
  ChainedEvent,
  ChainSpec,
  CorrelationSpec,
  Match,
  SlidingAggregateSpec,
  SlidingTemporalSpec,
} from '@sequor/engine';
import {
  chainRuntime,
  replayWindowMs,
  slidingAggregateRuntime,
  slidingTemporalRuntime,
} from '@sequor/engine';

/** A test event: its time, its group, the input it matches, and a value (value_count). */
interface Probe {
  readonly id: string;
  readonly t: number;
  readonly group: string;
  readonly input: number;
  readonly value: string;
}

type SlidingSpec = SlidingTemporalSpec<Probe> | SlidingAggregateSpec<Probe> | ChainSpec<Probe>;

const W = 1_000;

function input(index: number, counted = false): SlidingAggregateSpec<Probe>['inputs'][number] {
  return {
    predicate: (e) => e.input === index,
    key: (e) => e.group,
    keyValues: (e) => [e.group],
    value: counted ? (e) => e.value : null,
  };
}

function temporal(inputs: number, minInputs = inputs): SlidingTemporalSpec<Probe> {
  return {
    kind: 'slidingTemporal',
    windowMs: W,
    inputs: Array.from({ length: inputs }, (_, i) => input(i)),
    minInputs,
  };
}

function eventCount(gte: number, measure: 'count' | 'distinct' = 'count'): SlidingAggregateSpec<Probe> {
  return {
    kind: 'slidingAggregate',
    windowMs: W,
    measure,
    // Every input counts (the busy stream's three), as an event_count over three rules would.
    inputs: [
      input(0, measure === 'distinct'),
      input(1, measure === 'distinct'),
      input(2, measure === 'distinct'),
    ],
    threshold: { gte },
    maxEvidence: 10,
  };
}

/**
 * A correlation of correlations (Sigma's `correlation` over correlation rules): an inner event_count (gte
 * 2, one window) per group, and an outer event_count (gte 2, three windows) over the events on which the inner one alerted. Its
 * alerts depend on the inner alerts of up to two outer windows back, each of which depends on events up to
 * two inner windows before it: `replayWindowMs` adds the two.
 */
function chain(): ChainSpec<Probe> {
  const inner = eventCount(2);
  // Two alerts of the inner one are more than a window apart (it stops holding in between), so the outer
  // window is wider.
  const outer: SlidingAggregateSpec<ChainedEvent<Probe>> = {
    kind: 'slidingAggregate',
    windowMs: 3 * W,
    measure: 'count',
    inputs: [
      {
        predicate: (c) => c.fired[0] !== undefined,
        key: (c) => c.event.group,
        keyValues: (c) => [c.event.group],
        value: null,
      },
    ],
    threshold: { gte: 2 },
    maxEvidence: 10,
  };
  return { kind: 'chain', inner: [inner], outer };
}

/** The matches of `events` (in time order) whose last event is after `restoreAt`, from a replay of `replayMs`. */
function matchesAfter(
  spec: SlidingSpec,
  events: readonly Probe[],
  restoreAt: number,
  replayMs: number,
): string[] {
  const out: string[] = [];
  const emit = (m: Match<Probe>) => {
    if (m.lastTime > restoreAt)
      out.push(`${m.lastTime} ${m.keyValues.join(',')} ${m.count} ${m.events.map((e) => e.id).join('+')}`);
  };
  const runtime =
    spec.kind === 'slidingTemporal'
      ? slidingTemporalRuntime(spec)(emit)
      : spec.kind === 'chain'
        ? chainRuntime(spec)(emit)
        : slidingAggregateRuntime(spec)(emit);
  let arrival = 0;
  for (const event of events) {
    if (event.t < restoreAt - replayMs) continue;
    runtime.onWatermark(event.t);
    runtime.onEvent({
      kind: 'event',
      event,
      timestamp: event.t,
      tiebreaker: 0,
      arrival: arrival++,
      late: false,
      size: 100,
    });
  }
  runtime.complete();
  return out;
}

/** Restore points at which a replay of `replayMs` gives other matches than the full stream. */
function wrongRestorePoints(spec: SlidingSpec, events: readonly Probe[], replayMs: number): number[] {
  const wrong: number[] = [];
  const last = events.at(-1)!.t;
  for (let restoreAt = 0; restoreAt <= last; restoreAt += 50) {
    const full = matchesAfter(spec, events, restoreAt, Number.POSITIVE_INFINITY);
    if (JSON.stringify(matchesAfter(spec, events, restoreAt, replayMs)) !== JSON.stringify(full))
      wrong.push(restoreAt);
  }
  return wrong;
}

function probes(...events: [t: number, input: number, group?: string][]): Probe[] {
  return events.map(([t, input, group = 'g'], i) => ({ id: `e${i}`, t, group, input, value: `v${i}` }));
}

/**
 * A deterministic busy stream: 3 groups, 3 inputs, gaps of 0 to `maxGap - 1` ms (so windows overlap in every
 * way).
 */
function busyStream(maxGap = 250, length = 120): Probe[] {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const events: Probe[] = [];
  for (let i = 0, t = 0; i < length; i++, t += next(maxGap))
    events.push({ id: `b${i}`, t, group: `g${next(3)}`, input: next(3), value: `v${next(4)}` });
  return events;
}

/** Each sliding kind, and whether one window would do on the busy stream (only `gte: 1`: see below). */
const KINDS: readonly [string, SlidingSpec, boolean][] = [
  ['temporal, all inputs', temporal(3), false],
  ['temporal, 2 of 3 inputs', temporal(3, 2), false],
  ['event_count gte 1', eventCount(1), true],
  ['event_count gte 3', eventCount(3), false],
  ['value_count gte 2', eventCount(2, 'distinct'), false],
];

describe('replayWindowMs rebuilds a sliding correlation at any restore point', () => {
  it.each(KINDS)(
    '%s: two windows give the full stream matches after every restore point',
    (_, spec, oneWindowEnough) => {
      expect(replayWindowMs(spec as CorrelationSpec<Probe>)).toBe(2 * W);
      const events = busyStream();
      // The stream has matches to get wrong, and does get them wrong from a shorter replay.
      expect(matchesAfter(spec, events, -1, Number.POSITIVE_INFINITY).length).toBeGreaterThan(1);
      expect(wrongRestorePoints(spec, events, replayWindowMs(spec as CorrelationSpec<Probe>)!)).toEqual([]);
      expect(wrongRestorePoints(spec, events, W).length > 0).toBe(!oneWindowEnough);
      expect(wrongRestorePoints(spec, events, W / 2).length).toBeGreaterThan(0);
    },
  );

  it("a chain (event_count over an event_count) replays both its parts' two windows, where the outer's alone are too short", () => {
    const spec = chain();
    expect(replayWindowMs(spec)).toBe(2 * W + 6 * W);
    // Sparser than the others' stream: the inner condition must start to hold often for the outer to count.
    const events = busyStream(700, 300);
    expect(matchesAfter(spec, events, -1, Number.POSITIVE_INFINITY).length).toBeGreaterThan(1);
    expect(wrongRestorePoints(spec, events, 8 * W)).toEqual([]);
    expect(wrongRestorePoints(spec, events, 6 * W).length).toBeGreaterThan(0);
  });

  it('temporal: one window is too short (a write, the process start 0.9 W later, a second write 0.9 W after that)', () => {
    const spec = temporal(2);
    // Full stream: the alert on the process start (e1); the second write (e2) is the same episode.
    const events = probes([0, 1], [900, 0], [1_800, 1]);
    expect(matchesAfter(spec, events, -1, Number.POSITIVE_INFINITY)).toEqual(['900 g 2 e0+e1']);
    // Restored between 1 W and 1.8 W after the first write: the replay sees the process start without
    // the first write, so "the previous window did not hold" and the second write alerts again.
    expect(matchesAfter(spec, events, 1_500, W)).toEqual(['1800 g 2 e1+e2']);
    expect(wrongRestorePoints(spec, events, W)).toEqual([
      1_050, 1_100, 1_150, 1_200, 1_250, 1_300, 1_350, 1_400, 1_450, 1_500, 1_550, 1_600, 1_650, 1_700, 1_750,
    ]);
    expect(wrongRestorePoints(spec, events, 2 * W)).toEqual([]);
  });

  it('event_count gte 2: one window is too short (three events 0.9 W apart)', () => {
    const spec = eventCount(2);
    const events = probes([0, 0], [900, 0], [1_800, 0]);
    expect(matchesAfter(spec, events, -1, Number.POSITIVE_INFINITY)).toEqual(['900 g 2 e0+e1']);
    expect(matchesAfter(spec, events, 1_500, W)).toEqual(['1800 g 2 e1+e2']);
    expect(wrongRestorePoints(spec, events, W).length).toBeGreaterThan(0);
    expect(wrongRestorePoints(spec, events, 2 * W)).toEqual([]);
  });

  it('event_count gte 1 (the service-creation seed): one window is enough, half a window is not', () => {
    // The previous event's window always holds `gte: 1` (it holds that event), so only whether the
    // previous event is within a window matters: one window back. The e2e probes check half a window.
    const spec = eventCount(1);
    const events = probes([0, 0], [800, 0]);
    expect(matchesAfter(spec, events, -1, Number.POSITIVE_INFINITY)).toEqual(['0 g 1 e0']);
    expect(wrongRestorePoints(spec, events, W)).toEqual([]);
    expect(wrongRestorePoints(spec, events, W / 2)).toEqual([550, 600, 650, 700, 750]);
  });
});
