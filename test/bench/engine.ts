/**
 * Engine benchmark: the four seed rule shapes on one seeded stream over 100,000 distinct hosts/users.
 *
 *   npx tsx --conditions=sequor-source test/bench/engine.ts [events=1000000] [batch=1000]
 *
 * Specs are hand-written (plain predicate functions), so this measures the runtime operators, not the
 * compiler. Prints throughput for the four rules together, per-event time percentiles over batches,
 * heap, open partials per rule, and the heap cost of one open partial sequence / partial join.
 */
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject } from 'rxjs';
import {
  createCorrelationPipeline,
  createRuleSetPipeline,
  type CorrelationPipeline,
  type CorrelationStatsSnapshot,
  type CorrelationSpec,
  type EventTime,
  type FilterSpec,
  type JoinSpec,
  type SequenceSpec,
  type SpanAggregateSpec,
} from '@sequor/engine';

interface BenchEvent {
  readonly id: string;
  readonly ts: number;
  readonly seq: number;
  readonly category: 'authentication' | 'file' | 'process' | 'registry' | 'network';
  readonly hostId: string;
  readonly userId: string;
  readonly entityId: string;
  readonly outcome: 'success' | 'failure';
  readonly logonType: string;
  readonly action: string;
  readonly processName: string;
  readonly fileSize: number;
  readonly registryPath: string;
}

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const BATCH = Number(process.argv[3] ?? 1_000);
const HOSTS = 100_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const T0 = Date.UTC(2024, 0, 1, 9, 0, 0);
const REGISTRY_PATHS = [
  'HKLM\\SYSTEM\\CurrentControlSet\\Services\\evil\\ImagePath',
  'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x',
  'HKCU\\Software\\Remcos\\license',
  'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender',
];

/** ~1,000 events per second of event time, delivered up to 2 s out of order; made a batch at a time. */
function eventSource(seed: number): (index: number) => BenchEvent {
  const random = prng(seed);
  return (index) => {
    const host = Math.floor(random() * HOSTS);
    const roll = random();
    const category: BenchEvent['category'] =
      roll < 0.25
        ? 'authentication'
        : roll < 0.45
          ? 'file'
          : roll < 0.65
            ? 'process'
            : roll < 0.85
              ? 'registry'
              : 'network';
    return {
      id: `evt-${index}`,
      ts: T0 + index + Math.floor(random() * 2_000),
      seq: index,
      category,
      hostId: `host-${host}`,
      userId: `S-1-5-21-${host}`,
      entityId: `{proc-${host}-${Math.floor(random() * 4)}}`,
      outcome: random() < 0.9 ? 'success' : 'failure',
      logonType: random() < 0.5 ? 'Network' : 'Interactive',
      action: random() < 0.5 ? 'creation' : 'modification',
      processName: random() < 0.3 ? 'svchost.exe' : 'explorer.exe',
      fileSize: Math.floor(random() * 100_000),
      registryPath: REGISTRY_PATHS[Math.floor(random() * REGISTRY_PATHS.length)]!,
    };
  };
}

const eventTime: EventTime<BenchEvent> = { timestamp: (e) => e.ts, tiebreaker: (e) => e.seq };
const hostUser = (e: BenchEvent): string => `${e.hostId}\u0000${e.userId}`;
const hostEntity = (e: BenchEvent): string => `${e.hostId}\u0000${e.entityId}`;

// CAR-2014-11-005 / Remcos shape: a single-event filter.
const remcos: FilterSpec<BenchEvent> = {
  kind: 'filter',
  predicate: (e) => e.category === 'registry' && e.registryPath.endsWith('\\Remcos\\license'),
  keyValues: (e) => [e.hostId],
};
// Elastic remote SAM shape: sequence by host.id, user.id with maxspan=1m.
const remoteSam: SequenceSpec<BenchEvent> = {
  kind: 'sequence',
  maxspanMs: MINUTE,
  steps: [
    {
      predicate: (e) =>
        e.category === 'authentication' && e.outcome === 'success' && e.logonType === 'Network',
      key: hostUser,
      runs: 1,
      missing: false,
    },
    {
      predicate: (e) =>
        e.category === 'file' &&
        e.action === 'creation' &&
        e.processName === 'svchost.exe' &&
        e.fileSize >= 30_000,
      key: hostUser,
      runs: 1,
      missing: false,
    },
  ],
  until: null,
  keyValues: (e) => [e.hostId, e.userId],
};
// Splunk Remcos join shape: join by host.id, process.entity_id within 1h.
const processRegistry: JoinSpec<BenchEvent> = {
  kind: 'join',
  windowMs: HOUR,
  items: [
    { predicate: (e) => e.category === 'process' && e.processName === 'explorer.exe', key: hostEntity },
    { predicate: (e) => e.category === 'registry' && e.registryPath.startsWith('HKCU'), key: hostEntity },
  ],
  until: null,
  keyValues: (e) => [e.hostId, e.entityId],
};
// Splunk service-creation shape: tstats count by _time span=1h, host.
const serviceCreation: SpanAggregateSpec<BenchEvent> = {
  kind: 'spanAggregate',
  spanMs: HOUR,
  predicate: (e) => e.category === 'registry' && e.registryPath.endsWith('\\ImagePath'),
  groupKey: (e) => e.hostId,
  keyValues: (e) => [e.hostId],
};

const rules: [string, CorrelationSpec<BenchEvent>][] = [
  ['filter (remcos)', remcos],
  ['sequence (remote SAM, 1m)', remoteSam],
  ['join (process+registry, 1h)', processRegistry],
  ['spanAggregate (service creation, 1h)', serviceCreation],
];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function format(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

interface Feed {
  readonly next: (event: BenchEvent) => void;
  readonly report: () => void;
  readonly complete: () => void;
}

/** The detector's way: one rule set, one reorder stage shared by the four rules. */
function ruleSetFeed(): Feed {
  const input = new Subject<BenchEvent>();
  const pipeline = createRuleSetPipeline(
    rules.map(([name, spec]) => ({ rule: name, spec })),
    eventTime,
    { allowedLatenessMs: 5_000, maxOpenPartials: 1_000_000 },
  );
  const matched = new Map<string, number>(rules.map(([name]) => [name, 0]));
  input.pipe(pipeline.operator).subscribe(({ rule }) => matched.set(rule, matched.get(rule)! + 1));
  return {
    next: (event) => input.next(event),
    complete: () => input.complete(),
    report: () => {
      const stream = pipeline.streamStats;
      console.log(
        `  stream: late ${format(stream.late)}, buffered ${format(stream.buffered)} (one reorder stage for all rules)`,
      );
      rules.forEach(([name], index) =>
        printRule(name, matched.get(name)!, pipeline.ruleStats[index]!.snapshot()),
      );
    },
  };
}

/** One pipeline per rule, each with its own reorder stage (createCorrelationPipeline), for comparison. */
function perRuleFeed(): Feed {
  const input = new Subject<BenchEvent>();
  const pipelines: CorrelationPipeline<BenchEvent>[] = [];
  for (const [, spec] of rules) {
    const pipeline = createCorrelationPipeline(spec, eventTime, {
      allowedLatenessMs: 5_000,
      maxOpenPartials: 1_000_000,
    });
    input.pipe(pipeline.operator).subscribe();
    pipelines.push(pipeline);
  }
  return { next: (event) => input.next(event), complete: () => input.complete(), report: () => undefined };
}

function printRule(name: string, matched: number, stats: CorrelationStatsSnapshot): void {
  console.log(
    `  ${name.padEnd(38)} matched ${format(matched).padStart(8)}  open ${format(stats.openPartials).padStart(8)}  ` +
      `evicted by window ${format(stats.evictedByWindow).padStart(8)}, by cap ${format(stats.evictedByCap)}`,
  );
}

function throughputRun(label: string, feed: Feed): void {
  const nextEvent = eventSource(42);
  const heapBefore = heapAfterGc();
  const perEventNs: number[] = [];
  let elapsedNs = 0;
  let cpuMicros = 0;
  const batch: BenchEvent[] = new Array(BATCH);
  for (let offset = 0; offset < TOTAL; offset += BATCH) {
    const size = Math.min(BATCH, TOTAL - offset);
    for (let index = 0; index < size; index++) batch[index] = nextEvent(offset + index); // not timed
    const cpuStart = process.cpuUsage();
    const batchStart = process.hrtime.bigint();
    for (let index = 0; index < size; index++) feed.next(batch[index]!);
    const batchNs = Number(process.hrtime.bigint() - batchStart);
    const cpu = process.cpuUsage(cpuStart);
    elapsedNs += batchNs;
    cpuMicros += cpu.user + cpu.system;
    perEventNs.push(batchNs / size);
  }
  const heapOpen = heapAfterGc();
  perEventNs.sort((a, b) => a - b);
  // Wall clock suffers from other processes on a shared machine; CPU time is this process's own work
  // (GC helper threads included).
  console.log(`${label}:`);
  console.log(
    `  throughput (4 rules together): ${format(TOTAL / (elapsedNs / 1e9))} events/s wall, ${format(TOTAL / (cpuMicros / 1e6))} events/s per CPU second`,
  );
  console.log(
    `  per-event time in batches of ${BATCH}: p50 ${(percentile(perEventNs, 50) / 1000).toFixed(2)} us, ` +
      `p99 ${(percentile(perEventNs, 99) / 1000).toFixed(2)} us, max ${(perEventNs[perEventNs.length - 1]! / 1000).toFixed(2)} us`,
  );
  console.log(
    `  heap used: ${format(heapOpen / 2 ** 20)} MiB with state open (${format((heapOpen - heapBefore) / 2 ** 20)} MiB more than before the run)`,
  );
  feed.report();
  feed.complete();
}

/** Heap per open partial: 100k first-step events with distinct keys, no completion, no eviction. */
function bytesPerPartial(
  name: string,
  spec: CorrelationSpec<BenchEvent>,
  first: (index: number) => BenchEvent,
): void {
  const count = 100_000;
  const events: BenchEvent[] = [];
  for (let index = 0; index < count; index++) events.push(first(index));
  // A later event that matches nothing moves the watermark past the last partial's event (grace 0).
  events.push({
    ...first(count),
    id: 'tick',
    ts: events[count - 1]!.ts + 1,
    category: 'network',
    hostId: 'tick',
  });
  const pipeline = createCorrelationPipeline(spec, eventTime, {
    allowedLatenessMs: 0,
    maxOpenPartials: 1_000_000,
  });
  const input = new Subject<BenchEvent>();
  const subscription = input.pipe(pipeline.operator).subscribe();
  const before = heapAfterGc();
  for (const event of events) input.next(event);
  const after = heapAfterGc();
  const open = pipeline.stats.openPartials;
  console.log(
    `${name}: ${format(open)} open partials, ${format((after - before) / open)} bytes each (state only; the events are held by the caller)`,
  );
  subscription.unsubscribe();
}

console.log(
  `${format(TOTAL)} events over ${format(HOSTS)} hosts/users, 4 rules, grace 5 s, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`,
);
throughputRun('rule set (createRuleSetPipeline)', ruleSetFeed());
throughputRun('one pipeline per rule (createCorrelationPipeline x4)', perRuleFeed());
const template = eventSource(7);
bytesPerPartial('sequence partial (2 steps)', remoteSam, (index) => ({
  ...template(index),
  ts: T0 + index / 10, // 100k events in 10 s: well within maxspan 1m
  category: 'authentication',
  outcome: 'success',
  logonType: 'Network',
  hostId: `host-${index}`,
  userId: `S-1-5-21-${index}`,
}));
bytesPerPartial('join partial (2 items)', processRegistry, (index) => ({
  ...template(index),
  ts: T0 + index / 10,
  category: 'process',
  processName: 'explorer.exe',
  hostId: `host-${index}`,
}));
