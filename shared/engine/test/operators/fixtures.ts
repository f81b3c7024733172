import type {
  EventTime,
  JoinSpec,
  KeyExtractor,
  Predicate,
  SequenceSpec,
  SequenceStepSpec,
  SpanAggregateSpec,
} from '../../src/index.js';

/** A test event: just what the specs below read. */
export interface TestEvent {
  readonly id: string;
  readonly ts: number;
  readonly type: string;
  /** Correlation key; null = the key field is missing. */
  readonly key?: string | null;
  readonly seq?: number;
}

export const eventTime: EventTime<TestEvent> = {
  timestamp: (event) => event.ts,
  tiebreaker: (event) => event.seq ?? 0,
};

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

let counter = 0;
/** `ev('a', 1000)` = an event of type a, key k1, at T0 + 1000 ms. */
export function ev(type: string, offsetMs: number, key: string | null = 'k1', id?: string): TestEvent {
  return { id: id ?? `${type}${++counter}`, ts: T0 + offsetMs, type, key };
}

export const isType =
  (type: string): Predicate<TestEvent> =>
  (event) =>
    event.type === type;

export const byKey: KeyExtractor<TestEvent> = (event) =>
  event.key === undefined || event.key === null ? null : `s:${event.key}`;

export function step(
  type: string,
  extra: Partial<SequenceStepSpec<TestEvent>> = {},
): SequenceStepSpec<TestEvent> {
  return { predicate: isType(type), key: byKey, runs: 1, missing: false, ...extra };
}

export function sequenceOf(
  steps: readonly SequenceStepSpec<TestEvent>[],
  options: { maxspanMs?: number | null; until?: string } = {},
): SequenceSpec<TestEvent> {
  return {
    kind: 'sequence',
    maxspanMs: options.maxspanMs ?? null,
    steps,
    until: options.until === undefined ? null : { predicate: isType(options.until), key: byKey },
    keyValues: (event) => [event.key ?? null],
  };
}

export function joinOf(types: readonly string[], windowMs: number, until?: string): JoinSpec<TestEvent> {
  return {
    kind: 'join',
    windowMs,
    items: types.map((type) => ({ predicate: isType(type), key: byKey })),
    until: until === undefined ? null : { predicate: isType(until), key: byKey },
    keyValues: (event) => [event.key ?? null],
  };
}

export function spanOf(type: string, spanMs = HOUR): SpanAggregateSpec<TestEvent> {
  return {
    kind: 'spanAggregate',
    spanMs,
    predicate: isType(type),
    groupKey: (event) => `s:${event.key ?? ''}`,
    keyValues: (event) => [event.key ?? null],
  };
}

/** Evidence ids per match: what most assertions compare. */
export function ids(matches: readonly { readonly events: readonly TestEvent[] }[]): string[][] {
  return matches.map((match) => match.events.map((event) => event.id));
}
