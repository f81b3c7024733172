/**
 * The in-memory transport: named topics of N partitions in one process, standing in for Kafka in
 * `sequor detect` and in tests. Records are placed exactly as the Kafka producers place them (the Java
 * client's murmur2 of the key, `partitionFor` from `@sequor/model`; key-less records round-robin), so a
 * host's events meet in the same partition, in the same order, under the same per-partition processor as
 * in the services: one engine, two transports.
 *
 * Each partition is an append-only log with offsets from 0. A consumer group reads each partition from
 * its position and commits; committed records are deleted from the log (Kafka's `DeleteRecords`), so a
 * run over a billion lines holds only what has not been consumed yet.
 *
 * ```ts
 * const transport = new InMemoryTransport();
 * const events = transport.createTopic<SequorEvent>('events.normalized', 4);
 * events.send({ key: 'name:ws01', value: event, timestamp: event.timestamp });
 * const group = events.consumer();
 * for (const batch of group.poll()) for (const r of batch.records) processors[batch.partition].push(r.value);
 * group.commit();
 * ```
 */
import { partitionFor, SequorError } from '@sequor/model';
import type { RecordHeaders } from '../normalize/headers.js';

/** One record as a consumer sees it. */
export interface MemoryRecord<V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** `null` for a key-less record. */
  readonly key: string | null;
  readonly value: V;
  /** Epoch ms: the event time the producer gave (as the services set record timestamps), else 0. */
  readonly timestamp: number;
  readonly headers: RecordHeaders | undefined;
}

/** One record to append. */
export interface MemoryProducerRecord<V> {
  /** Placed by `partitionFor(key, partitions)`; `null` (or absent) spreads records round-robin. */
  readonly key?: string | null;
  readonly value: V;
  readonly timestamp?: number;
  readonly headers?: RecordHeaders;
  /** An explicit partition overrides the key's (as in Kafka's ProducerRecord). */
  readonly partition?: number;
}

/** Where an appended record landed. */
export interface RecordPosition {
  readonly partition: number;
  readonly offset: number;
}

/** The records of one partition returned by one poll, in offset order. */
export interface PartitionBatch<V> {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly MemoryRecord<V>[];
}

/** Misuse of the in-memory transport: unknown topic, topic created twice, bad partition or offset. */
export class MemoryTransportError extends SequorError {}

/** The log of one partition: records from `startOffset` on; offsets below it were deleted. */
class PartitionLog<V> {
  private records: MemoryRecord<V>[] = [];
  /** Index in `records` of `startOffset` (deleted records are sliced off in bulk, not one by one). */
  private head = 0;
  private base = 0;

  get startOffset(): number {
    return this.base + this.head;
  }

  /** The offset the next appended record gets (Kafka's log end offset). */
  get endOffset(): number {
    return this.base + this.records.length;
  }

  append(record: MemoryRecord<V>): void {
    this.records.push(record);
  }

  /** Up to `max` records from `offset` (clamped to the log start). */
  read(offset: number, max: number): MemoryRecord<V>[] {
    const from = Math.max(offset, this.startOffset) - this.base;
    return this.records.slice(from, Math.min(this.records.length, from + max));
  }

  /** Deletes the records below `offset`. */
  deleteBefore(offset: number): void {
    const to = Math.min(offset, this.endOffset) - this.base;
    if (to <= this.head) return;
    this.head = to;
    // Drop the consumed prefix once it is most of the array: amortised O(1) per record.
    if (this.head >= 4096 && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}

/**
 * Keys whose partition is remembered: a run's keys are its hosts, a few thousand at most, and a key's
 * partition costs a UTF-8 encode and a murmur2 per record otherwise. Past this many distinct keys (a flood
 * of made-up host names) the memory starts over, so it stays bounded.
 */
const REMEMBERED_KEYS = 1 << 16;

/** A topic of the in-memory transport. Create with `InMemoryTransport.createTopic`. */
export class MemoryTopic<V> {
  private readonly logs: PartitionLog<V>[];
  private readonly partitionOfKey = new Map<string, number>();
  private roundRobin = 0;
  private readonly consumers: MemoryConsumer<V>[] = [];

  constructor(
    readonly name: string,
    readonly partitions: number,
  ) {
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new MemoryTransportError(
        `topic ${name}: partitions must be a positive integer, got ${partitions}`,
      );
    }
    this.logs = Array.from({ length: partitions }, () => new PartitionLog<V>());
  }

  /** The partition a key goes to: the Java producer's choice. */
  partitionOf(key: string | Uint8Array): number {
    return partitionFor(key, this.partitions);
  }

  /** Appends one record; returns where it landed. */
  send(record: MemoryProducerRecord<V>): RecordPosition {
    const key = record.key ?? null;
    let partition: number;
    if (record.partition !== undefined) {
      partition = record.partition;
      if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
        throw new MemoryTransportError(
          `topic ${this.name} has partitions 0..${this.partitions - 1}, not ${partition}`,
        );
      }
    } else if (key !== null) {
      partition = this.partitionOfKey.get(key) ?? this.place(key);
    } else {
      partition = this.roundRobin;
      this.roundRobin = (this.roundRobin + 1) % this.partitions;
    }
    const log = this.logs[partition] as PartitionLog<V>;
    const offset = log.endOffset;
    log.append({
      topic: this.name,
      partition,
      offset,
      key,
      value: record.value,
      timestamp: record.timestamp ?? 0,
      headers: record.headers,
    });
    return { partition, offset };
  }

  private place(key: string): number {
    const partition = partitionFor(key, this.partitions);
    if (this.partitionOfKey.size >= REMEMBERED_KEYS) this.partitionOfKey.clear();
    this.partitionOfKey.set(key, partition);
    return partition;
  }

  /** Offsets of a partition: `start` (oldest kept) and `end` (next to be written). */
  offsets(partition: number): { readonly start: number; readonly end: number } {
    const log = this.log(partition);
    return { start: log.startOffset, end: log.endOffset };
  }

  /** Records of one partition from `offset`, without a consumer group (inspection, tests). */
  read(partition: number, offset = 0, max = Number.MAX_SAFE_INTEGER): readonly MemoryRecord<V>[] {
    return this.log(partition).read(offset, max);
  }

  /**
   * A consumer group reading every partition from the current log start. With `deleteCommitted` (the
   * default) a commit deletes what every group of this topic has committed, as a retention policy would.
   */
  consumer(options: { readonly deleteCommitted?: boolean } = {}): MemoryConsumer<V> {
    const consumer = new MemoryConsumer<V>(
      this,
      this.logs.map((log) => log.startOffset),
      options.deleteCommitted ?? true,
    );
    this.consumers.push(consumer);
    return consumer;
  }

  /** @internal Called by a consumer's commit: deletes records every deleting group has committed. */
  retain(): void {
    for (let p = 0; p < this.partitions; p++) {
      let lowest = Number.POSITIVE_INFINITY;
      for (const c of this.consumers) {
        if (!c.deletesCommitted) return;
        lowest = Math.min(lowest, c.committed(p));
      }
      if (Number.isFinite(lowest)) (this.logs[p] as PartitionLog<V>).deleteBefore(lowest);
    }
  }

  private log(partition: number): PartitionLog<V> {
    const log = this.logs[partition];
    if (log === undefined)
      throw new MemoryTransportError(
        `topic ${this.name} has partitions 0..${this.partitions - 1}, not ${partition}`,
      );
    return log;
  }
}

/** A consumer group of one topic: a position and a committed offset per partition. */
export class MemoryConsumer<V> {
  private readonly positions: number[];
  private readonly commits: number[];

  constructor(
    private readonly topic: MemoryTopic<V>,
    start: readonly number[],
    readonly deletesCommitted: boolean,
  ) {
    this.positions = [...start];
    this.commits = [...start];
  }

  /**
   * The next records of every partition that has any, partition by partition, at most `maxPerPartition`
   * each; advances the positions (not the commits).
   */
  poll(maxPerPartition = 10_000): PartitionBatch<V>[] {
    const batches: PartitionBatch<V>[] = [];
    for (let p = 0; p < this.topic.partitions; p++) {
      const records = this.topic.read(p, this.positions[p] as number, maxPerPartition);
      if (records.length === 0) continue;
      this.positions[p] = (records[records.length - 1] as MemoryRecord<V>).offset + 1;
      batches.push({ topic: this.topic.name, partition: p, records });
    }
    return batches;
  }

  /** Records written but not yet polled, over all partitions (the group's lag). */
  lag(): number {
    let lag = 0;
    for (let p = 0; p < this.topic.partitions; p++)
      lag += this.topic.offsets(p).end - (this.positions[p] as number);
    return lag;
  }

  /** Commits the positions polled so far (all partitions, or one). */
  commit(partition?: number): void {
    if (partition === undefined)
      for (let p = 0; p < this.positions.length; p++) this.commits[p] = this.positions[p] as number;
    else this.commits[partition] = this.positions[partition] as number;
    this.topic.retain();
  }

  /** The committed offset of a partition: the next record the group would read after a restart. */
  committed(partition: number): number {
    const offset = this.commits[partition];
    if (offset === undefined)
      throw new MemoryTransportError(`topic ${this.topic.name} has no partition ${partition}`);
    return offset;
  }
}

/** Named topics in one process. */
export class InMemoryTransport {
  private readonly topics = new Map<string, MemoryTopic<unknown>>();

  createTopic<V>(name: string, partitions: number): MemoryTopic<V> {
    if (this.topics.has(name)) throw new MemoryTransportError(`topic ${name} already exists`);
    const topic = new MemoryTopic<V>(name, partitions);
    this.topics.set(name, topic as MemoryTopic<unknown>);
    return topic;
  }

  /** An existing topic; throws MemoryTransportError naming the topics that exist. */
  topic<V>(name: string): MemoryTopic<V> {
    const topic = this.topics.get(name);
    if (topic === undefined)
      throw new MemoryTransportError(
        `no topic ${name} (topics: ${[...this.topics.keys()].join(', ') || 'none'})`,
      );
    return topic as MemoryTopic<V>;
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }
}
