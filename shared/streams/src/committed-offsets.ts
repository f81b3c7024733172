/**
 * The one lookup of a group's committed offsets and the metadata committed with them (a restore point,
 * a decoder checkpoint): what a partition's new owner reads before it processes anything.
 */
import type { KafkaAdmin } from '@sequor/kafka';

/** A partition's committed position: `offset` -1 when the group never committed it. */
export interface CommittedOffset {
  readonly offset: number;
  /** The text committed with the offset (kafkajs returns '' or null for none). */
  readonly metadata: string | null;
}

const NONE: CommittedOffset = { offset: -1, metadata: null };

/** The admin calls the runtime needs (a fake in tests). */
export type OffsetAdmin = Pick<KafkaAdmin, 'fetchOffsets' | 'fetchTopicOffsets'>;

/** Committed offsets of a group on some topics, read in one request. */
export class CommittedOffsets {
  private constructor(private readonly byPartition: ReadonlyMap<string, CommittedOffset>) {}

  static async read(
    admin: OffsetAdmin,
    groupId: string,
    topics: readonly string[],
  ): Promise<CommittedOffsets> {
    const response = await admin.fetchOffsets({ groupId, topics: [...new Set(topics)] });
    const byPartition = new Map<string, CommittedOffset>();
    for (const { topic, partitions } of response) {
      for (const { partition, offset, metadata } of partitions) {
        byPartition.set(partitionKey(topic, partition), {
          offset: Number(offset),
          metadata: metadata === '' || metadata === undefined ? null : metadata,
        });
      }
    }
    return new CommittedOffsets(byPartition);
  }

  /** One partition's committed offset and metadata; offset -1 when none. */
  static async readOne(
    admin: OffsetAdmin,
    groupId: string,
    topic: string,
    partition: number,
  ): Promise<CommittedOffset> {
    return (await CommittedOffsets.read(admin, groupId, [topic])).of(topic, partition);
  }

  of(topic: string, partition: number): CommittedOffset {
    return this.byPartition.get(partitionKey(topic, partition)) ?? NONE;
  }
}

/**
 * The metadata committed with `committed` when processing resumes exactly there (`firstOffset`, the
 * first record in hand): a checkpoint describes the state at the committed offset and at no other.
 * Null when there is none, or when the records in hand start elsewhere (`mismatch` true).
 */
export function checkpointAt(
  committed: CommittedOffset,
  firstOffset: number,
): { checkpoint: string | null; mismatch: boolean } {
  if (committed.metadata === null || committed.offset < 0) return { checkpoint: null, mismatch: false };
  if (committed.offset !== firstOffset) return { checkpoint: null, mismatch: true };
  return { checkpoint: committed.metadata, mismatch: false };
}

/** The first offset still in the log of each partition of a topic (retention moves it), read once per topic. */
export class LogStartOffsets {
  private readonly byTopic = new Map<string, Promise<ReadonlyMap<number, number>>>();

  constructor(private readonly admin: OffsetAdmin) {}

  async of(topic: string, partition: number): Promise<number> {
    let lows = this.byTopic.get(topic);
    if (lows === undefined) {
      lows = this.admin
        .fetchTopicOffsets(topic)
        .then((offsets) => new Map(offsets.map((o) => [o.partition, Number(o.low)])));
      // A failed read is not cached: the next caller asks again.
      lows.catch(() => this.byTopic.delete(topic));
      this.byTopic.set(topic, lows);
    }
    return (await lows).get(partition) ?? 0;
  }
}

/** Key of a partition in maps and sets: `topic\0partition`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** `topic[partition]` for a key made by `partitionKey`. */
export function describePartitionKey(key: string): string {
  const cut = key.lastIndexOf('\u0000');
  return cut < 0 ? key : `${key.slice(0, cut)}[${key.slice(cut + 1)}]`;
}
