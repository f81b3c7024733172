import { Subject, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createCorrelationPipeline, runCorrelation, runCorrelationDetailed, type LateEvent, type Match } from '../src/index.js';
import { MINUTE, SECOND, eventTime, ev, ids, sequenceOf, spanOf, step, type TestEvent } from './operators/fixtures.js';

const ab = sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE });

describe('runCorrelation', () => {
  it('runs synchronously over an array and flushes the reorder buffer at the end', () => {
    // with a 1 h grace nothing is released before the end of input
    const events = [ev('a', 0, 'k1', 'a'), ev('b', SECOND, 'k1', 'b')];
    expect(ids(runCorrelation(ab, eventTime, { allowedLatenessMs: 3_600_000 }, events))).toEqual([['a', 'b']]);
  });

  it('uses a 5 s grace by default', () => {
    const events = [ev('b', 10 * SECOND, 'k1', 'b'), ev('a', 6 * SECOND, 'k1', 'a'), ev('a', 4 * SECOND, 'k2', 'too-late')];
    const run = runCorrelationDetailed(ab, eventTime, {}, events);
    expect(ids(run.matches)).toEqual([['a', 'b']]);
    expect(run.late.map((late) => late.event.id)).toEqual(['too-late']);
  });

  it('rethrows an operator error', () => {
    const broken = { ...ab, keyValues: (): readonly unknown[] => { throw new Error('keyValues failed'); } };
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
    expect(pipeline.stats.snapshot()).toMatchObject({ eventsIn: 3, late: 1, matched: 1, openPartials: 0, keys: 0, buffered: 0 });
  });

  it('stops consuming a synchronous source when the consumer unsubscribes early', () => {
    const pipeline = createCorrelationPipeline(ab, eventTime, { allowedLatenessMs: 0 });
    const events: TestEvent[] = [];
    for (let index = 0; index < 100; index++) events.push(ev(index % 2 === 0 ? 'a' : 'b', index * 10, 'k1', `e${index}`));
    const input = new Subject<TestEvent>();
    const matches: Match<TestEvent>[] = [];
    input.pipe(pipeline.operator, take(1)).subscribe((match) => matches.push(match));
    for (const event of events) input.next(event);
    expect(ids(matches)).toEqual([['e0', 'e1']]);
    expect(pipeline.stats.openPartials).toBe(0);
    expect(input.observed).toBe(false);
  });
});
