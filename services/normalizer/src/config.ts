/**
 * The normalizer's configuration, read from the environment (and `--source` flags) once at start and
 * validated as a whole: every problem is a ConfigError naming the variable, its value and what was
 * expected. Pure: takes the environment as an argument. Defaults and meanings: README.md.
 */
import type { EntityIdentityOptions } from '@sequor/model';
import { ConfigError, entityIdentityFromEnv, envInteger, envOneOf, envValue } from '@sequor/model';
import type { SourceBinding } from '@sequor/formats';
import { parseSourceBindings } from '@sequor/formats';
import type { Env, KafkaConfig, LogLevel, SchemaRegistryConfig } from '@sequor/kafka';
import {
  kafkaConfigFromEnv,
  logLevelFromEnv,
  schemaRegistryConfigFromEnv,
  topicFromEnv,
} from '@sequor/kafka';
import type { PartitionKeyFields } from '@sequor/pipeline';
import { DEFAULT_PARTITION_KEY_FIELDS, parsePartitionKeyFields } from '@sequor/pipeline';

/** `dead-letter`: set the record aside and go on. `fail`: stop without committing it (an operator looks). */
export type PoisonPolicy = 'dead-letter' | 'fail';

/** Where a new consumer group (one without committed offsets) starts on the raw topics. */
export type StartPosition = 'earliest' | 'latest';

export interface NormalizerConfig {
  readonly kafka: KafkaConfig;
  readonly sources: readonly SourceBinding[];
  readonly normalizedTopic: string;
  /** Partitions to create the normalized topic with, if it is missing. */
  readonly normalizedPartitions: number;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly partitionKeyFields: PartitionKeyFields;
  readonly maxRecordBytes: number;
  readonly identity: EntityIdentityOptions;
  /** Confluent Schema Registry (`SCHEMA_REGISTRY_*`); undefined means Avro single-object encoding. */
  readonly schemaRegistry: SchemaRegistryConfig | undefined;
  readonly poisonPolicy: PoisonPolicy;
  readonly startFrom: StartPosition;
  /** Raw partitions processed at the same time (each one always in offset order). */
  readonly partitionsConcurrently: number;
  readonly logLevel: LogLevel;
}

export const NORMALIZER_DEFAULTS = {
  normalizedTopic: 'sequor.events',
  normalizedPartitions: 6,
  deadLetterTopic: 'sequor.dead-letters',
  groupId: 'sequor-normalizer',
  partitionKeyFields: DEFAULT_PARTITION_KEY_FIELDS.join(','),
  maxRecordBytes: 1 << 20,
  poisonPolicy: 'dead-letter' as PoisonPolicy,
  startFrom: 'earliest' as StartPosition,
  partitionsConcurrently: 2,
} as const;

const GROUP = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Builds the config from `env`; `sourceFlags` (main's `--source format:topic` values), when given,
 * replace `NORMALIZER_SOURCES`.
 */
export function normalizerConfigFromEnv(env: Env, sourceFlags: readonly string[] = []): NormalizerConfig {
  const sourceSpec = sourceFlags.length > 0 ? sourceFlags.join(',') : envValue(env, 'NORMALIZER_SOURCES');
  const sourceVariable = sourceFlags.length > 0 ? '--source' : 'NORMALIZER_SOURCES';
  if (sourceSpec === undefined) {
    throw new ConfigError(
      'NORMALIZER_SOURCES',
      env['NORMALIZER_SOURCES'],
      'format:topic bindings, e.g. flat-windows:windows.raw,zeek-dce-rpc:zeek.dce_rpc (or --source flags)',
    );
  }
  const sources = parseSourceBindings(sourceSpec, sourceVariable);
  const normalizedTopic = topicFromEnv(env, 'NORMALIZED_TOPIC', NORMALIZER_DEFAULTS.normalizedTopic);
  const deadLetterTopic = topicFromEnv(env, 'DEAD_LETTER_TOPIC', NORMALIZER_DEFAULTS.deadLetterTopic);
  // Reading from the topic one writes to would loop forever; a raw topic as dead-letter topic mixes inputs.
  for (const binding of sources) {
    if (binding.topic === normalizedTopic)
      throw new ConfigError(
        'NORMALIZED_TOPIC',
        normalizedTopic,
        `a topic other than the raw topic bound to ${binding.format.name}`,
      );
    if (binding.topic === deadLetterTopic)
      throw new ConfigError(
        'DEAD_LETTER_TOPIC',
        deadLetterTopic,
        `a topic other than the raw topic bound to ${binding.format.name}`,
      );
  }
  if (normalizedTopic === deadLetterTopic)
    throw new ConfigError('DEAD_LETTER_TOPIC', deadLetterTopic, 'a topic other than NORMALIZED_TOPIC');
  const groupId = envValue(env, 'NORMALIZER_GROUP_ID') ?? NORMALIZER_DEFAULTS.groupId;
  if (!GROUP.test(groupId))
    throw new ConfigError(
      'NORMALIZER_GROUP_ID',
      env['NORMALIZER_GROUP_ID'],
      'letters, digits, ".", "_" or "-" (at most 249)',
    );

  return Object.freeze({
    kafka: kafkaConfigFromEnv(env),
    sources,
    normalizedTopic,
    normalizedPartitions: envInteger(
      env,
      'NORMALIZED_PARTITIONS',
      NORMALIZER_DEFAULTS.normalizedPartitions,
      1,
      10_000,
    ),
    deadLetterTopic,
    groupId,
    partitionKeyFields: parsePartitionKeyFields(
      envValue(env, 'PARTITION_KEY_FIELDS') ?? NORMALIZER_DEFAULTS.partitionKeyFields,
    ),
    // Below 1 KiB nothing real fits; above 64 MiB one record would stall a partition's fetches.
    maxRecordBytes: envInteger(env, 'MAX_RECORD_BYTES', NORMALIZER_DEFAULTS.maxRecordBytes, 1024, 64 << 20),
    identity: entityIdentityFromEnv(env),
    schemaRegistry: schemaRegistryConfigFromEnv(env),
    poisonPolicy: envOneOf(env, 'POISON_POLICY', ['dead-letter', 'fail'], NORMALIZER_DEFAULTS.poisonPolicy),
    startFrom: envOneOf(env, 'NORMALIZER_START_FROM', ['earliest', 'latest'], NORMALIZER_DEFAULTS.startFrom),
    partitionsConcurrently: envInteger(
      env,
      'NORMALIZER_PARTITIONS_CONCURRENTLY',
      NORMALIZER_DEFAULTS.partitionsConcurrently,
      1,
      64,
    ),
    logLevel: logLevelFromEnv(env),
  });
}
