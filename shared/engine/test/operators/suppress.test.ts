import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  createRuleSetPipeline,
  filterRuntime,
  suppressRuntime,
  type CorrelationOptions,
  type CorrelationSpec,
  type FilterSpec,
  type Match,
  type SuppressSpec,
  type SuppressionUpdate,
  type TimedEvent,
} from '../../src/index.js';
import { HOUR, MINUTE, eventTime, ev, isType, sequenceOf, step, type TestEvent } from './fixtures.js';

const alerts: FilterSpec<TestEvent> = {
  kind: 'filter',
  predicate: isType('a'),
  keyValues: (event) => [event.key ?? null],
};

/** `by: [key]`; `missing` decides what an alert without the key does. */
function byKey(windowMs: number, missing: 'suppress' | 'alert' = 'suppress'): SuppressSpec<TestEvent> {
  return {
    windowMs,
    groupKey: (match) => {
      const key = match.events[0]?.key ?? null;
      if (key === null) return missing === 'alert' ? null : 'n:';
      return `s:${key}`;
    },
  };
}

interface Rule {
  readonly spec: CorrelationSpec<TestEvent>;
  readonly suppress: SuppressSpec<TestEvent> | null;
}

/**
 * Pushes the events one by one and logs what each push (`i`) or the end (`end`) raised, in order:
 * `A:<evidence ids>` for a published alert, `U:<opening ids>+<count>:<last ids>:<closedBy>` for an update.
 */
function run(
  rules: readonly Rule[],
  events: readonly TestEvent[],
  options: CorrelationOptions<TestEvent> = { allowedLatenessMs: 0 },
): { log: string[]; updates: SuppressionUpdate<TestEvent>[]; pipeline: ReturnType<typeof build> } {
  const log: string[] = [];
  const updates: SuppressionUpdate<TestEvent>[] = [];
  let at = '';
  const evidence = (match: Match<TestEvent>): string => match.events.map((event) => event.id).join(',');
  const pipeline = build(rules, {
    ...options,
    onSuppressionUpdate: (update) => {
      updates.push(update);
      log.push(
        `${at} U:${evidence(update.opening)}+${update.suppressed}:${evidence(update.last)}:${update.closedBy}`,
      );
    },
  });
  const input = new Subject<TestEvent>();
  input.pipe(pipeline.operator).subscribe(({ match }) => log.push(`${at} A:${evidence(match)}`));
  events.forEach((event, index) => {
    at = String(index);
    input.next(event);
  });
  at = 'end';
  input.complete();
  return { log, updates, pipeline };
}

function build(rules: readonly Rule[], options: CorrelationOptions<TestEvent>) {
  return createRuleSetPipeline(
    rules.map((rule, index) => ({ rule: index, spec: rule.spec, suppress: rule.suppress })),
    eventTime,
    options,
  );
}

const hourly = [{ spec: alerts, suppress: byKey(HOUR) }];

describe('suppressRuntime', () => {
  it('publishes the first alert per group, counts the rest of its window, and updates once the watermark passes the end', () => {
    const { log, updates, pipeline } = run(hourly, [
      ev('a', 0, 'h1', 'h1-open'),
      ev('a', 10 * MINUTE, 'h1', 'h1-b'),
      ev('a', 20 * MINUTE, 'h2', 'h2-open'),
      ev('a', 30 * MINUTE, 'h1', 'h1-c'),
      ev('x', 61 * MINUTE, 'h1', 'tick'), // watermark 61 min: closes h1's window [0, 60 min)
      ev('x', 90 * MINUTE, 'h1', 'tick2'), // closes h2's, which suppressed nothing: no update
    ]);
    // Grace 0: an event is released when a later one moves the watermark past it.
    expect(log).toEqual(['1 A:h1-open', '3 A:h2-open', '4 U:h1-open+2:h1-c:watermark']);
    expect(updates[0]).toMatchObject({
      groupKey: 's:h1',
      suppressed: 2,
      firstTime: updates[0]!.windowStart,
      lastTime: updates[0]!.windowStart + 30 * MINUTE,
      windowEnd: updates[0]!.windowStart + HOUR,
    });
    expect(pipeline.suppressionStats[0]).toMatchObject({ suppressed: 2, updates: 1 });
    expect(pipeline.suppressionStats[0]!.windows.openPartials).toBe(0);
    expect(pipeline.ruleStats[0]!.matched).toBe(2); // published alerts; the other 2 are `suppressed`
  });

  it('an alert at exactly the window end opens the next window; one ms before the end is suppressed', () => {
    const { log } = run(hourly, [
      ev('a', 0, 'h1', 'open'),
      ev('a', HOUR - 1, 'h1', 'last-ms'),
      ev('a', HOUR, 'h1', 'at-end'),
      ev('a', HOUR + 1, 'h1', 'in-next'),
    ]);
    // The event at the end moves the watermark to the end, which closes the window before it is released.
    expect(log).toEqual([
      '1 A:open',
      '2 U:open+1:last-ms:watermark',
      '3 A:at-end',
      'end U:at-end+1:in-next:end',
    ]);
  });

  it('windows are aligned to the window length, not anchored on the first alert', () => {
    const { log, updates } = run(hourly, [
      ev('a', 30 * MINUTE, 'h1', 'open'),
      ev('a', 59 * MINUTE, 'h1', 'same-hour'),
      ev('a', 61 * MINUTE, 'h1', 'next-hour'), // within an hour of 'open', but in the next window
      ev('x', 200 * MINUTE, 'h1', 'tick'),
    ]);
    expect(log).toEqual(['1 A:open', '2 U:open+1:same-hour:watermark', '3 A:next-hour']);
    expect(updates[0]).toMatchObject({
      windowStart: updates[0]!.firstTime - 30 * MINUTE,
      windowEnd: updates[0]!.firstTime + 30 * MINUTE,
    });
  });

  it('an alert one ms past the end closes the window before the watermark does (grace: the window is still open)', () => {
    const { log } = run(
      hourly,
      [ev('a', 0, 'h1', 'open'), ev('a', 30 * MINUTE, 'h1', 'mid'), ev('a', HOUR + 1, 'h1', 'over')],
      { allowedLatenessMs: 10 * MINUTE },
    );
    // 'over' is released at the end of input (grace 10 min): it finds the window open and past its end.
    expect(log).toEqual(['1 A:open', 'end U:open+1:mid:next', 'end A:over']);
  });

  it('takes out-of-order alerts within the lateness: the earliest opens the window, a late one inside it is counted', () => {
    const { log } = run(
      hourly,
      [
        ev('a', 5 * MINUTE, 'h1', 'second'),
        ev('a', 0, 'h1', 'first'), // out of order, within the 10 min grace: reordered before 'second'
        ev('a', 65 * MINUTE, 'h1', 'next-hour'),
        ev('a', 59 * MINUTE, 'h1', 'late-in-window'), // behind stream time, within grace: still in [0, 60)
        ev('x', 200 * MINUTE, 'h9', 'tick'),
      ],
      { allowedLatenessMs: 10 * MINUTE },
    );
    expect(log).toEqual(['2 A:first', '4 U:first+2:late-in-window:next', '4 A:next-hour']);
  });

  it('missing: suppress groups the alerts without the by field together', () => {
    const { log } = run(
      [{ spec: alerts, suppress: byKey(HOUR, 'suppress') }],
      [ev('a', 0, null, 'n1'), ev('a', 1, null, 'n2'), ev('a', 2, 'h1', 'h1'), ev('a', 3, null, 'n3')],
    );
    expect(log).toEqual(['1 A:n1', '3 A:h1', 'end U:n1+2:n3:end']);
  });

  it('missing: alert publishes every alert without the by field and keeps no state for it', () => {
    const { log, pipeline } = run(
      [{ spec: alerts, suppress: byKey(HOUR, 'alert') }],
      [ev('a', 0, null, 'n1'), ev('a', 1, null, 'n2'), ev('a', 2, 'h1', 'h1'), ev('a', 3, 'h1', 'h1-b')],
    );
    expect(log).toEqual(['1 A:n1', '2 A:n2', '3 A:h1', 'end U:h1+1:h1-b:end']);
    expect(pipeline.suppressionStats[0]!.suppressed).toBe(1);
  });

  it('at the count bound the oldest window closes early with its update (closedBy bound, counted)', () => {
    const { log, pipeline } = run(
      hourly,
      [
        ev('a', 0, 'h1', 'h1'),
        ev('a', 1, 'h1', 'h1-b'),
        ev('a', 2, 'h2', 'h2'),
        ev('a', 3, 'h3', 'h3'), // third open window: h1's closes
        ev('a', 4, 'h1', 'h1-again'), // h1 has no window now: published
      ],
      { allowedLatenessMs: 0, suppression: { maxOpenWindows: 2 } },
    );
    expect(log).toEqual(['1 A:h1', '3 A:h2', '4 U:h1+1:h1-b:bound', '4 A:h3', 'end A:h1-again']);
    expect(pipeline.suppressionStats[0]!.windows.evictedByCap).toBe(2); // h1, then h2 for h1-again
  });

  it('at the byte bound the oldest window closes early too', () => {
    const { log, pipeline } = run(
      hourly,
      [ev('a', 0, 'h1', 'h1'), ev('a', 1, 'h1', 'h1-b'), ev('a', 2, 'h2', 'h2')],
      { allowedLatenessMs: 0, suppression: { maxStateBytes: 3_000, eventBytes: 1_000 } },
    );
    expect(log).toEqual(['1 A:h1', 'end U:h1+1:h1-b:bound', 'end A:h2']);
    expect(pipeline.suppressionStats[0]!.windows.evictedByBytes).toBe(1);
  });

  it('suppresses sequences by their evidence, beside an unsuppressed rule', () => {
    const sequence = sequenceOf([step('s1'), step('s2')], { maxspanMs: 10 * MINUTE });
    const { log } = run(
      [
        { spec: sequence, suppress: byKey(HOUR) },
        { spec: alerts, suppress: null },
      ],
      [
        ev('s1', 0, 'h1', 'x1'),
        ev('s2', 1, 'h1', 'y1'),
        ev('a', 2, 'h1', 'plain1'),
        ev('s1', 3, 'h1', 'x2'),
        ev('s2', 4, 'h1', 'y2'),
        ev('a', 5, 'h1', 'plain2'),
      ],
    );
    // The filter without suppress is not reordered: it alerts before the sequence its event releases.
    expect(log).toEqual(['2 A:plain1', '2 A:x1,y1', '5 A:plain2', 'end U:x1,y1+1:x2,y2:end']);
  });

  it('dispose drops the windows without updates', () => {
    const updates: unknown[] = [];
    const factory = suppressRuntime(filterRuntime(alerts), byKey(HOUR), (update) => updates.push(update));
    const runtime = factory(() => {});
    const item = (event: TestEvent): TimedEvent<TestEvent> => ({
      kind: 'event',
      event,
      timestamp: event.ts,
      tiebreaker: 0,
      arrival: 0,
      late: false,
      size: 0,
    });
    runtime.onEvent(item(ev('a', 0, 'h1')));
    runtime.onEvent(item(ev('a', 1, 'h1')));
    runtime.dispose();
    runtime.dispose();
    expect(updates).toEqual([]);
    expect(factory.suppression.windows.openPartials).toBe(0);
  });

  it('rejects a window that is not positive', () => {
    expect(() => suppressRuntime(filterRuntime(alerts), byKey(0), () => {})).toThrow(CorrelationSpecError);
  });
});

describe('suppression timing (marbles)', () => {
  it('publishes the opener at once and the update when the watermark reaches the window end', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
      ({ cold, expectObservable }) => {
        const values = {
          a: ev('a', 0, 'h1', 'open'),
          b: ev('a', 20 * MINUTE, 'h1', 'counted'),
          c: ev('x', HOUR, 'h1', 'tick'),
        };
        const out = new Subject<string>();
        const pipeline = build(hourly, {
          allowedLatenessMs: 0,
          onSuppressionUpdate: (update) => out.next(`U${update.suppressed}`),
        });
        const source = cold<TestEvent>('a-b-c-|', values);
        const merged = new Subject<string>();
        source.pipe(pipeline.operator).subscribe({
          next: ({ match }) => merged.next(`A:${match.events[0]!.id}`),
          complete: () => merged.complete(),
        });
        out.subscribe((text) => merged.next(text));
        expectObservable(merged).toBe('--a-u-|', { a: 'A:open', u: 'U1' });
      },
    );
  });
});
