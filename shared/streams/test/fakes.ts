/**
 * Broker-free stand-ins for what the task runner talks to (consumer group member, transactional
 * producer, admin), recording every call in order, and a small task: a running sum per partition whose
 * output and restore points are easy to predict.
 */
import type {
  ConsumedRecord,
  ConsumerRunnerOptions,
  KafkaAdmin,
  Logger,
  PartitionAssignment,
  ProducerRecord,
  RecordBatch,
  TopicPartitionOffset,
} from '@sequor/kafka';
import { createLogger } from '@sequor/kafka';
import type {
  IdleClock,
  RestorePlan,
  RestorePoint,
  StreamTask,
  TaskBatch,
  TaskConsumer,
  TaskProducer,
} from '../src/index.js';
import { RestorePointTracker } from '../src/index.js';

export const quietLogger: Logger = createLogger('streams-test', { level: 'error', write: () => undefined });

/** A kafkajs-shaped broker error: `type` is what the runtime reads. */
export function brokerError(type: string, retriable = false): Error {
  return Object.assign(new Error(`broker says ${type}`), { type, retriable });
}

export class FakeConsumer implements TaskConsumer {
  options!: ConsumerRunnerOptions;
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  readonly done = new Promise<void>(() => undefined);
  started = false;
  stopped = false;

  start(): Promise<void> {
    this.started = true;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
  seek(topic: string, partition: number, offset: string): void {
    this.seeks.push({ topic, partition, offset });
  }
  assign(assignment: readonly PartitionAssignment[]): void {
    this.options.onAssigned?.(assignment);
  }
  /** Delivers a batch as the consumer runner would. */
  deliver(batch: RecordBatch): Promise<void> {
    const context = {
      groupId: this.options.groupId,
      heartbeat: () => Promise.resolve(),
      isRunning: () => true,
      isStale: () => false,
    };
    return this.options.processBatch(batch, context);
  }
}

/** What a fake producer was asked, in order: the protocol under test. */
export type ProducerCall =
  | { readonly op: 'initTransactions' | 'beginTransaction' | 'commit' | 'abort' | 'disconnect' }
  | { readonly op: 'send'; readonly records: readonly ProducerRecord[] }
  | {
      readonly op: 'sendOffsets';
      readonly groupId: string;
      readonly offsets: readonly TopicPartitionOffset[];
    };

export class FakeProducer implements TaskProducer {
  readonly calls: ProducerCall[] = [];
  /** Makes the named operation fail once with `error`. */
  failNext: { op: ProducerCall['op']; error: Error } | undefined;
  private open = false;

  constructor(
    readonly transactionalId: string,
    private readonly log: string[],
  ) {}

  get inTransaction(): boolean {
    return this.open;
  }
  private call(call: ProducerCall): Promise<void> {
    this.calls.push(call);
    this.log.push(`${this.transactionalId}:${call.op}`);
    if (this.failNext?.op === call.op) {
      const { error } = this.failNext;
      this.failNext = undefined;
      return Promise.reject(error);
    }
    return Promise.resolve();
  }
  initTransactions(): Promise<void> {
    return this.call({ op: 'initTransactions' });
  }
  async beginTransaction(): Promise<void> {
    await this.call({ op: 'beginTransaction' });
    this.open = true;
  }
  /** While set, `send` waits for it (a slow broker). */
  hold: Promise<void> | undefined;
  async send(records: readonly ProducerRecord[]): Promise<void> {
    await this.hold;
    return this.call({ op: 'send', records: [...records] });
  }
  sendOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    return this.call({ op: 'sendOffsets', groupId, offsets: [...offsets] });
  }
  commit(): Promise<void> {
    this.open = false;
    return this.call({ op: 'commit' });
  }
  abort(): Promise<void> {
    this.open = false;
    return this.call({ op: 'abort' });
  }
  disconnect(): Promise<void> {
    this.open = false;
    return this.call({ op: 'disconnect' });
  }
  sent(): ProducerRecord[] {
    return this.calls.flatMap((c) => (c.op === 'send' ? c.records : []));
  }
  offsets(): TopicPartitionOffset[] {
    return this.calls.flatMap((c) => (c.op === 'sendOffsets' ? c.offsets : []));
  }
}

/** The admin calls the runtime makes: committed offsets with metadata, log starts, topic configs. */
export class FakeAdmin {
  readonly committed = new Map<string, { offset: number; metadata: string | null }>();
  readonly logStart = new Map<string, number>();
  readonly maxMessageBytes = new Map<string, number>();
  describeCalls = 0;

  constructor(private readonly log: string[] = []) {}

  commit(topic: string, partition: number, offset: number, metadata: string | null = null): void {
    this.committed.set(`${topic}/${partition}`, { offset, metadata });
  }

  fetchOffsets({ topics }: { groupId: string; topics: string[] }) {
    this.log.push('admin:fetchOffsets');
    return Promise.resolve(
      topics.map((topic) => ({
        topic,
        partitions: [0, 1, 2].map((partition) => {
          const c = this.committed.get(`${topic}/${partition}`);
          return { partition, offset: String(c?.offset ?? -1), metadata: c?.metadata ?? null };
        }),
      })),
    );
  }

  fetchTopicOffsets(topic: string) {
    return Promise.resolve(
      [0, 1, 2].map((partition) => ({
        partition,
        offset: '1000',
        high: '1000',
        low: String(this.logStart.get(`${topic}/${partition}`) ?? 0),
      })),
    );
  }

  describeConfigs({
    resources,
  }: {
    resources: { name: string }[];
  }): ReturnType<KafkaAdmin['describeConfigs']> {
    this.describeCalls++;
    // Only the fields TopicLimits reads; the enum-typed ones would need kafkajs itself.
    const response = {
      throttleTime: 0,
      resources: resources.map(({ name }) => ({
        resourceName: name,
        configEntries: [
          {
            configName: 'max.message.bytes',
            configValue: String(this.maxMessageBytes.get(name) ?? 1_048_588),
          },
        ],
      })),
    };
    return Promise.resolve(response as unknown as Awaited<ReturnType<KafkaAdmin['describeConfigs']>>);
  }
}

export interface SumRestored {
  readonly replayed: number;
  readonly suppressed: number;
}

/**
 * A windowed sum over one partition: each live record produces the sum of the values of the records
 * within `windowMs` of event time before it (the record's timestamp), keyed by the record's key; a
 * value `n:padding` adds n and echoes the padding (to make large outputs). State reaches back
 * `windowMs`, so a replay from a restore point of that horizon rebuilds it exactly; a replayed record's
 * output is suppressed, as a stateful task's must be.
 */
export class SumTask implements StreamTask {
  closed = false;
  private window: { time: number; value: number }[] = [];
  private next: number;
  private replayed = 0;
  private suppressed = 0;
  private restoreDone: boolean;
  private readonly tracker: RestorePointTracker;
  readonly startOffset: number;
  readonly liveFrom: number;

  constructor(
    readonly topic: string,
    readonly partition: number,
    plan: RestorePlan,
    private readonly windowMs: number,
  ) {
    this.startOffset = plan.startOffset;
    this.liveFrom = plan.liveFrom;
    this.next = plan.startOffset;
    this.restoreDone = plan.startOffset >= plan.liveFrom;
    this.tracker = new RestorePointTracker(windowMs);
  }

  get nextOffset(): number {
    return this.next;
  }
  get isLive(): boolean {
    return this.restoreDone;
  }
  restorePoint(): RestorePoint | null {
    return this.tracker.restorePoint();
  }
  close(): void {
    this.closed = true;
  }

  /**
   * The idle rule of this fake: stream time moves to the last record's time + the quiet time (whole
   * seconds), recorded at the next offset, with one output record `idle:<time>`; nothing when the
   * stream time would not move.
   */
  advanceIdle(idleForMs: number): TaskBatch<SumRestored> | null {
    const target = this.lastTime + Math.floor(idleForMs / 1_000) * 1_000;
    if (!Number.isFinite(target) || !this.tracker.advance(this.next, target)) return null;
    return {
      records: [{ topic: 'sums', key: null, value: Buffer.from(`idle:${target}`) }],
      commitOffset: this.next,
      restored: null,
    };
  }
  private lastTime = Number.NEGATIVE_INFINITY;

  process(records: readonly ConsumedRecord[]): TaskBatch<SumRestored> {
    const out: ProducerRecord[] = [];
    let commitOffset: number | null = null;
    let restored: SumRestored | null = null;
    for (const record of records) {
      const offset = Number(record.offset);
      if (offset < this.next) continue;
      this.next = offset + 1;
      const time = Number(record.timestamp);
      const [n, padding = ''] = (record.value?.toString() ?? '0').split(':');
      this.window = this.window.filter((e) => e.time > time - this.windowMs);
      this.window.push({ time, value: Number(n) });
      this.tracker.observe(offset, time);
      this.lastTime = time;
      if (offset >= this.liveFrom) {
        const sum = this.window.reduce((a, e) => a + e.value, 0);
        out.push({ topic: 'sums', key: record.key, value: Buffer.from(`${sum}${padding}`) });
        commitOffset = offset + 1;
      } else {
        this.replayed++;
        this.suppressed++;
      }
      if (!this.restoreDone && this.next >= this.liveFrom) {
        this.restoreDone = true;
        restored = { replayed: this.replayed, suppressed: this.suppressed };
      }
    }
    return { records: out, commitOffset, restored };
  }
}

/** Records `from..to-1` of a partition: value = the offset, event time 1 s apart. */
export function records(from: number, to: number, value = (o: number) => String(o)): ConsumedRecord[] {
  const out: ConsumedRecord[] = [];
  for (let o = from; o < to; o++)
    out.push({
      key: Buffer.from(`k${o % 3}`),
      value: Buffer.from(value(o)),
      offset: String(o),
      timestamp: String(1_700_000_000_000 + o * 1_000),
    });
  return out;
}

export function batch(topic: string, partition: number, recs: readonly ConsumedRecord[]): RecordBatch {
  return { topic, partition, records: recs, highWatermark: String(Number(recs.at(-1)?.offset ?? -1) + 1) };
}

/** Virtual wall-clock time for the idle rule: `advance(ms)` fires the timers that fall due, in order. */
export class VirtualIdleClock implements IdleClock {
  time = 0;
  private readonly timers = new Set<{ periodMs: number; next: number; tick: () => void }>();

  now(): number {
    return this.time;
  }
  every(periodMs: number, tick: () => void): () => void {
    const timer = { periodMs, next: this.time + periodMs, tick };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }
  get active(): number {
    return this.timers.size;
  }
  /** Moves time on by `ms`, firing each due tick, then lets the promises they started settle. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let due: { periodMs: number; next: number; tick: () => void } | undefined;
      for (const t of this.timers) if (t.next <= end && (due === undefined || t.next < due.next)) due = t;
      if (due === undefined) break;
      this.time = due.next;
      due.next += due.periodMs;
      due.tick();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.time = end;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
