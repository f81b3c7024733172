/**
 * Throughput of the Sigma correlation operators (slidingAggregate, slidingTemporal, chain) through the
 * rule-set pipeline the detector runs, each beside a floor measured in the same run: spanAggregate on the
 * same events, predicate and groups (one bucket per hour per group, no per-event state). Worst case for
 * the sliding kinds: every event is counted. Best of 3 interleaved passes; prints, asserts nothing.
 *
 *   npx tsx --conditions=sequor-source shared/engine/test/bench/sliding.ts [events]
 */
import {
  runCorrelationDetailed,
  type CorrelationSpec,
  type EventTime,
  type KeyExtractor,
} from '../../src/index.js';

interface Ev {
  readonly ts: number;
  readonly type: string;
  readonly user: string;
  readonly host: string;
  readonly bytes: number;
}

const count = Number(process.argv[2] ?? 300_000);
const events: Ev[] = [];
for (let i = 0; i < count; i++) {
  events.push({
    ts: 1_700_000_000_000 + i * 10, // 100 events/s of event time
    type: i % 10 === 0 ? 'ok' : 'fail',
    user: `u${(i * 7919) % 499}`,
    host: `h${i % 50}`,
    bytes: i % 1000,
  });
}
const eventTime: EventTime<Ev> = { timestamp: (e) => e.ts, tiebreaker: () => 0 };
const isFail = (e: Ev) => e.type === 'fail';
const isOk = (e: Ev) => e.type === 'ok';
const byUser: KeyExtractor<Ev> = (e) => e.user;
const keyValues = (e: Ev) => [e.user];
const HOUR = 3_600_000;
const WINDOW = 10 * 60_000;

const specs: Record<string, CorrelationSpec<Ev>> = {
  'floor: spanAggregate': {
    kind: 'spanAggregate',
    spanMs: HOUR,
    predicate: isFail,
    groupKey: (e) => e.user,
    keyValues,
  },
  'event_count gte 100': {
    kind: 'slidingAggregate',
    windowMs: WINDOW,
    measure: 'count',
    inputs: [{ predicate: isFail, key: byUser, keyValues, value: null }],
    threshold: { gte: 100 },
    maxEvidence: 10,
  },
  'value_count gte 40 (host)': {
    kind: 'slidingAggregate',
    windowMs: WINDOW,
    measure: 'distinct',
    inputs: [{ predicate: isFail, key: byUser, keyValues, value: (e) => e.host }],
    threshold: { gte: 40 },
    maxEvidence: 10,
  },
  'event_count lt 5 (buckets)': {
    kind: 'slidingAggregate',
    windowMs: WINDOW,
    measure: 'count',
    inputs: [{ predicate: isFail, key: byUser, keyValues, value: null }],
    threshold: { lt: 5 },
    maxEvidence: 10,
  },
  'temporal fail+ok': {
    kind: 'slidingTemporal',
    windowMs: WINDOW,
    inputs: [
      { predicate: isFail, key: byUser, keyValues },
      { predicate: isOk, key: byUser, keyValues },
    ],
    minInputs: 2,
  },
};
specs['chain: count then ok'] = {
  kind: 'chain',
  inner: [specs['event_count gte 100']!],
  outer: {
    kind: 'sequence',
    maxspanMs: WINDOW,
    steps: [
      { predicate: (c) => c.fired[0] !== undefined, key: (c) => c.event.user, runs: 1, missing: false },
      { predicate: (c) => c.event.type === 'ok', key: (c) => c.event.user, runs: 1, missing: false },
    ],
    until: null,
    keyValues: (c) => [c.event.user],
  },
};

const best = new Map<string, number>();
const matched = new Map<string, number>();
for (let pass = 0; pass < 3; pass++) {
  for (const [name, spec] of Object.entries(specs)) {
    const start = process.cpuUsage();
    const run = runCorrelationDetailed(spec, eventTime, { allowedLatenessMs: 1000 }, events);
    const used = process.cpuUsage(start);
    const seconds = (used.user + used.system) / 1e6;
    best.set(name, Math.min(best.get(name) ?? Infinity, seconds));
    matched.set(name, run.matches.length);
  }
}
const floor = count / best.get('floor: spanAggregate')!;
console.log(`${count} events, best of 3 (CPU time); floor = spanAggregate on the same events`);
for (const [name, seconds] of best) {
  const rate = count / seconds;
  console.log(
    `${name.padEnd(28)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} events/cpu-s  ${(rate / floor).toFixed(2)}x floor  (${matched.get(name)} matches)`,
  );
}
