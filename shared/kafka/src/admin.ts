import type { Admin } from 'kafkajs';
import {
  InvalidTopicSpecError,
  isRetriable,
  TopicNotReadyError,
  TopicPartitionCountError,
  wrapClientError,
} from './errors.js';
import type { Logger } from './logger.js';

/** The admin calls `ensureTopics` needs (a KafkaJS `Admin` has them). */
export type TopicAdmin = Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'>;

export interface TopicSpec {
  readonly topic: string;
  /** Partitions to create; an existing topic must have at least this many. */
  readonly partitions: number;
  /** Default: the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
  /** Topic configs applied at creation only (e.g. `{ 'cleanup.policy': 'compact' }`). */
  readonly configs?: Readonly<Record<string, string>>;
}

export interface EnsureTopicsOptions {
  /** How long to wait for every partition to have a leader. Default 30 s. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface EnsureTopicsResult {
  readonly created: readonly string[];
  readonly existing: readonly string[];
}

interface PartitionInfo {
  readonly partitionId: number;
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly partitionErrorCode?: number;
}

/**
 * Makes sure every topic exists with at least the requested partitions and that every partition has a
 * leader, so the caller can produce and consume right away. Creates missing topics; never alters existing
 * ones (a topic with fewer partitions is a `TopicPartitionCountError`, because adding partitions moves keys
 * and that is an operator's call). Safe to run from several processes at once.
 */
export async function ensureTopics(
  admin: TopicAdmin,
  specs: readonly TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  validateSpecs(specs);
  if (specs.length === 0) return { created: [], existing: [] };

  let present: Set<string>;
  try {
    present = new Set(await admin.listTopics());
  } catch (error) {
    throw wrapClientError(error, 'listing topics');
  }
  const missing = specs.filter((spec) => !present.has(spec.topic));
  const created: string[] = [];
  if (missing.length > 0) {
    try {
      // A concurrent creator may win the race: kafkajs then returns false (TOPIC_ALREADY_EXISTS) and the
      // partition check below applies to whatever it created.
      const didCreate = await admin.createTopics({
        waitForLeaders: false,
        timeout: timeoutMs,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor ?? -1,
          configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      if (didCreate) created.push(...missing.map((spec) => spec.topic));
    } catch (error) {
      throw wrapClientError(error, `creating topics ${missing.map((spec) => spec.topic).join(', ')}`);
    }
  }
  const createdSet = new Set(created);
  const existing = specs.map((spec) => spec.topic).filter((topic) => !createdSet.has(topic));

  await waitForLeaders(admin, specs, timeoutMs, options.logger);
  options.logger?.info('topics ready', { created, existing });
  return { created, existing };
}

function validateSpecs(specs: readonly TopicSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.topic === '' || spec.topic.length > 249 || !/^[A-Za-z0-9._-]+$/.test(spec.topic)) {
      throw new InvalidTopicSpecError(spec.topic, 'a topic name is 1-249 of letters, digits, ".", "_", "-"');
    }
    if (seen.has(spec.topic)) throw new InvalidTopicSpecError(spec.topic, 'listed twice');
    seen.add(spec.topic);
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new InvalidTopicSpecError(
        spec.topic,
        `partitions must be a positive integer, got ${spec.partitions}`,
      );
    }
    const rf = spec.replicationFactor;
    if (rf !== undefined && rf !== -1 && !(Number.isInteger(rf) && rf >= 1)) {
      throw new InvalidTopicSpecError(spec.topic, `replicationFactor must be a positive integer, got ${rf}`);
    }
  }
}

async function waitForLeaders(
  admin: TopicAdmin,
  specs: readonly TopicSpec[],
  timeoutMs: number,
  logger: Logger | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const topics = specs.map((spec) => spec.topic);
  let delayMs = 50;
  let lastError: unknown;
  for (;;) {
    let waitingFor: string[] = topics;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const byTopic = new Map(metadata.topics.map((t) => [t.name, t.partitions as readonly PartitionInfo[]]));
      waitingFor = [];
      for (const spec of specs) {
        const partitions = byTopic.get(spec.topic);
        if (partitions === undefined) {
          waitingFor.push(spec.topic);
          continue;
        }
        if (partitions.length < spec.partitions) {
          throw new TopicPartitionCountError(spec.topic, partitions.length, spec.partitions);
        }
        if (!partitions.every((p) => p.leader >= 0 && (p.partitionErrorCode ?? 0) === 0)) {
          waitingFor.push(spec.topic);
          continue;
        }
      }
      if (waitingFor.length === 0) {
        warnAboutReplication(specs, byTopic, logger);
        return;
      }
    } catch (error) {
      if (error instanceof TopicPartitionCountError) throw error;
      // Metadata for a topic created a moment ago may still be UNKNOWN_TOPIC_OR_PARTITION (retriable).
      if (!isRetriable(error)) throw wrapClientError(error, `fetching metadata for ${topics.join(', ')}`);
      lastError = error;
    }
    if (Date.now() >= deadline) throw new TopicNotReadyError(waitingFor, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 1_000);
  }
}

function warnAboutReplication(
  specs: readonly TopicSpec[],
  byTopic: ReadonlyMap<string, readonly PartitionInfo[]>,
  logger: Logger | undefined,
): void {
  for (const spec of specs) {
    const requested = spec.replicationFactor;
    const actual = byTopic.get(spec.topic)?.[0]?.replicas.length ?? 0;
    if (requested !== undefined && requested !== -1 && actual !== requested) {
      logger?.warn('topic has a different replication factor than requested', {
        topic: spec.topic,
        replicationFactor: actual,
        requested,
      });
    }
  }
}
