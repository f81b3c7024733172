import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createCorrelationPipeline,
  runCorrelationDetailed,
  type FilterSpec,
  type Match,
} from '../../src/index.js';
import { T0, eventTime, ev, ids, isType, type TestEvent } from './fixtures.js';

const remcos: FilterSpec<TestEvent> = {
  kind: 'filter',
  predicate: isType('reg'),
  keyValues: (event) => [event.key ?? null],
};

describe('matchFilter', () => {
  it('emits one match per matching event', () => {
    const run = runCorrelationDetailed(remcos, eventTime, {}, [
      ev('reg', 0, 'h1', 'r1'),
      ev('x', 1),
      ev('reg', 2, 'h2', 'r2'),
    ]);
    expect(ids(run.matches)).toEqual([['r1'], ['r2']]);
    expect(run.matches[0]).toEqual({
      kind: 'filter',
      events: [expect.objectContaining({ id: 'r1' })],
      keyValues: ['h1'],
      firstTime: T0,
      lastTime: T0,
    });
    expect(run.stats).toMatchObject({ eventsIn: 3, matched: 2, late: 0 });
  });

  it('skips the reorder stage: a match leaves as soon as its event arrives, in arrival order, and nothing is late', () => {
    const pipeline = createCorrelationPipeline(remcos, eventTime, { allowedLatenessMs: 60_000 });
    const input = new Subject<TestEvent>();
    const out: Match<TestEvent>[] = [];
    input.pipe(pipeline.operator).subscribe((match) => out.push(match));
    input.next(ev('reg', 10_000_000, 'h1', 'new'));
    expect(ids(out)).toEqual([['new']]);
    input.next(ev('reg', 0, 'h1', 'old'));
    expect(ids(out)).toEqual([['new'], ['old']]);
    expect(pipeline.stats.late).toBe(0);
  });
});
