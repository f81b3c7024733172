/**
 * The detector's configuration, read from the environment once at start and validated as a whole:
 * every problem is a ConfigError naming the variable, its value and what was expected. Pure: takes the
 * environment as an argument. Defaults and meanings: README.md.
 */
import { ConfigError, envBoolean, envInteger, envValue } from '@sequor/model';
import type { Env, KafkaConfig, LogLevel, SchemaRegistryConfig } from '@sequor/kafka';
import {
  checkTopicName,
  kafkaConfigFromEnv,
  logLevelFromEnv,
  schemaRegistryConfigFromEnv,
  topicFromEnv,
} from '@sequor/kafka';
import type { PartitionKeyFields } from '@sequor/pipeline';
import type { RuleSelection } from '@sequor/rules';
import { parseMinLevel, parseStatuses, parseTags, RuleSelectionError } from '@sequor/rules';
import {
  DEFAULT_PARTITION_KEY_FIELDS,
  defaultMaxFutureSkewMs,
  parsePartitionKeyFields,
} from '@sequor/pipeline';

/**
 * `RULES_MIN_LEVEL` (a level: informational, low, medium, high, critical; a Sequor rule's level is its
 * severity), `RULES_STATUS` (Sigma statuses, comma-separated), `RULES_TAGS` (tags, comma-separated, `*` a
 * prefix): each unset by default, i.e. every rule runs.
 */
function ruleSelectionFromEnv(env: Env): RuleSelection {
  const minLevel = envValue(env, 'RULES_MIN_LEVEL');
  const status = envValue(env, 'RULES_STATUS');
  const tags = envValue(env, 'RULES_TAGS');
  try {
    return Object.freeze({
      ...(minLevel === undefined ? {} : { minLevel: parseMinLevel(minLevel, 'RULES_MIN_LEVEL') }),
      ...(status === undefined ? {} : { statuses: parseStatuses(status, 'RULES_STATUS') }),
      ...(tags === undefined ? {} : { tags: parseTags(tags, 'RULES_TAGS') }),
    });
  } catch (error) {
    if (!(error instanceof RuleSelectionError)) throw error;
    throw new ConfigError(error.setting, error.value, error.expected);
  }
}

/** Where a group without committed offsets starts on the input topics. */
export type StartPosition = 'earliest' | 'latest';

export interface DetectorConfig {
  readonly kafka: KafkaConfig;
  /** Normalized event topics (Avro `sequor.Event`, keyed by host). */
  readonly inputTopics: readonly string[];
  readonly alertsTopic: string;
  /** Suppression update records (`schemas/alert-update.avsc`), keyed like the alerts they update. */
  readonly alertUpdatesTopic: string;
  readonly lateEventsTopic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  /** User rules added to the built-ins; undefined: built-ins only. */
  readonly rulesDir: string | undefined;
  /** `RULES_BUILTINS` (default true): run the four built-in rules beside `rulesDir` and the rules topic. */
  readonly builtinRules: boolean;
  /** Value lists (`<name>.keyword|ip|cidr|wildcard`) that rules' `in_list` exceptions name; undefined: none. */
  readonly valueListsDir: string | undefined;
  /** A rule that fails to load or is refused stops the start (default: reported and skipped). */
  readonly strict: boolean;
  /** Which loaded rules run: `RULES_MIN_LEVEL`, `RULES_STATUS`, `RULES_TAGS` (unset: every rule). */
  readonly ruleSelection: RuleSelection;
  /**
   * Rule hot reload: a compacted topic of rule files and value lists (`sequor rules publish`), read whole
   * by every instance and followed; undefined: off (rules come from the built-ins and RULES_DIR only).
   */
  readonly rulesTopic: string | undefined;
  /**
   * The longest window (with its suppression window) a rule from the rules topic may have, ms; 0: as
   * long as the built-in and RULES_DIR rules' own, so the restore horizon does not grow.
   */
  readonly rulesTopicMaxWindowMs: number;
  readonly partitionKeyFields: PartitionKeyFields;
  /** Grace behind stream time, per partition. */
  readonly allowedLatenessMs: number;
  /**
   * The idle-partition rule: a live partition without records for this long (wall clock) has its stream
   * time advanced by the wall-clock time since its last record, when that releases buffered events.
   * 0: off (an alert then waits for the partition's next record).
   */
  readonly idlePartitionMs: number;
  /** Open partials per rule and partition; undefined: the engine's default. */
  readonly stateMaxPartials: number | undefined;
  /** The engine's bounds, passed to every partition task as they are. */
  readonly engineLimits: EngineLimits;
  /** Confluent Schema Registry; undefined means Avro single-object encoding. */
  readonly schemaRegistry: SchemaRegistryConfig | undefined;
  readonly startFrom: StartPosition;
  /** Input partitions processed at the same time (each always in offset order, with its own transaction). */
  readonly partitionsConcurrently: number;
  /** Most records one transaction covers (a fetched batch is cut into calls of at most this many). */
  readonly maxBatchRecords: number;
  /** Partitions the alerts topic is created with when missing. */
  readonly alertsPartitions: number;
  readonly sessionTimeoutMs: number;
  readonly transactionTimeoutMs: number;
  readonly logLevel: LogLevel;
}

/** What bounds one partition's engine: skew (time) and memory (bytes). README: "Hostile input", "Memory". */
export interface EngineLimits {
  /** An event more than this ahead of its record's Kafka timestamp is dead-lettered as `future-timestamp`. */
  readonly maxFutureSkewMs: number;
  /** Estimated bytes the partition's reorder buffer may hold before releasing its oldest events early. */
  readonly maxBufferedBytes: number;
  /** Estimated bytes of partial state per rule and partition before the oldest partials are evicted. */
  readonly maxStateBytes: number;
}

const MIB = 2 ** 20;

export const DETECTOR_DEFAULTS = {
  /** Per partition: ~65k events at the ~1.9 kB estimated for a typical decoded event (545 B of Avro). */
  reorderMaxBytes: 128 * MIB,
  /** Per rule and partition: ~30k open sequences holding one typical event. */
  stateMaxBytes: 64 * MIB,
  inputTopics: 'sequor.events',
  alertsTopic: 'sequor.alerts',
  alertUpdatesTopic: 'sequor.alert-updates',
  lateEventsTopic: 'sequor.late-events',
  deadLetterTopic: 'sequor.dead-letters',
  groupId: 'sequor-detector',
  partitionKeyFields: DEFAULT_PARTITION_KEY_FIELDS.join(','),
  allowedLatenessMs: 5_000,
  /** Short against the default lateness: a quiet partition's alert is out ~lateness + 0.1 s after its last event. */
  idlePartitionMs: 500,
  startFrom: 'earliest' as StartPosition,
  partitionsConcurrently: 2,
  maxBatchRecords: 2_000,
  alertsPartitions: 6,
  sessionTimeoutMs: 30_000,
  transactionTimeoutMs: 60_000,
} as const;

/** The group name keeps to the topic alphabet, so `:` in transactional ids (below) is unambiguous. */
const GROUP = /^[A-Za-z0-9._-]{1,200}$/;

/** Builds the config from `env` (`process.env` in main.ts). */
export function detectorConfigFromEnv(env: Env): DetectorConfig {
  const inputSpec = envValue(env, 'DETECTOR_INPUT_TOPICS') ?? DETECTOR_DEFAULTS.inputTopics;
  const inputTopics = inputSpec
    .split(',')
    .map((t) => checkTopicName('DETECTOR_INPUT_TOPICS', env['DETECTOR_INPUT_TOPICS'], t.trim()));
  if (new Set(inputTopics).size !== inputTopics.length) {
    throw new ConfigError('DETECTOR_INPUT_TOPICS', env['DETECTOR_INPUT_TOPICS'], 'each topic once');
  }
  const alertsTopic = topicFromEnv(env, 'ALERTS_TOPIC', DETECTOR_DEFAULTS.alertsTopic);
  const alertUpdatesTopic = topicFromEnv(env, 'ALERT_UPDATES_TOPIC', DETECTOR_DEFAULTS.alertUpdatesTopic);
  const lateEventsTopic = topicFromEnv(env, 'LATE_EVENTS_TOPIC', DETECTOR_DEFAULTS.lateEventsTopic);
  const deadLetterTopic = topicFromEnv(env, 'DEAD_LETTER_TOPIC', DETECTOR_DEFAULTS.deadLetterTopic);
  // An output that is also an input would feed the detector its own records.
  const outputs: readonly [string, string][] = [
    ['ALERTS_TOPIC', alertsTopic],
    ['ALERT_UPDATES_TOPIC', alertUpdatesTopic],
    ['LATE_EVENTS_TOPIC', lateEventsTopic],
    ['DEAD_LETTER_TOPIC', deadLetterTopic],
  ];
  for (const [name, t] of outputs) {
    if (inputTopics.includes(t))
      throw new ConfigError(name, t, 'a topic other than the input topics (DETECTOR_INPUT_TOPICS)');
  }
  const rulesTopicSpec = envValue(env, 'RULES_TOPIC');
  const rulesTopic =
    rulesTopicSpec === undefined
      ? undefined
      : checkTopicName('RULES_TOPIC', env['RULES_TOPIC'], rulesTopicSpec);
  if (rulesTopic !== undefined && [...inputTopics, ...outputs.map(([, t]) => t)].includes(rulesTopic))
    throw new ConfigError('RULES_TOPIC', rulesTopic, 'a topic of its own (not an input or output topic)');
  if (alertsTopic === lateEventsTopic || alertsTopic === deadLetterTopic) {
    throw new ConfigError(
      'ALERTS_TOPIC',
      alertsTopic,
      'a topic of its own (not the late-events or dead-letter topic)',
    );
  }
  if ([alertsTopic, lateEventsTopic, deadLetterTopic].includes(alertUpdatesTopic)) {
    throw new ConfigError(
      'ALERT_UPDATES_TOPIC',
      alertUpdatesTopic,
      'a topic of its own (not the alerts, late-events or dead-letter topic)',
    );
  }
  const groupId = envValue(env, 'DETECTOR_GROUP_ID') ?? DETECTOR_DEFAULTS.groupId;
  if (!GROUP.test(groupId))
    throw new ConfigError(
      'DETECTOR_GROUP_ID',
      env['DETECTOR_GROUP_ID'],
      'letters, digits, ".", "_" or "-" (at most 200)',
    );
  const startFrom = envValue(env, 'DETECTOR_START_FROM')?.toLowerCase() ?? DETECTOR_DEFAULTS.startFrom;
  if (startFrom !== 'earliest' && startFrom !== 'latest')
    throw new ConfigError('DETECTOR_START_FROM', env['DETECTOR_START_FROM'], 'earliest or latest');
  const sessionTimeoutMs = envInteger(
    env,
    'DETECTOR_SESSION_TIMEOUT_MS',
    DETECTOR_DEFAULTS.sessionTimeoutMs,
    6_000,
    300_000,
  );
  const stateMax = envValue(env, 'STATE_MAX_PARTIALS');
  // More than a day of grace would hold a day of events per partition in memory.
  const allowedLatenessMs = envInteger(
    env,
    'ALLOWED_LATENESS_MS',
    DETECTOR_DEFAULTS.allowedLatenessMs,
    0,
    86_400_000,
  );

  return Object.freeze({
    kafka: kafkaConfigFromEnv(env),
    inputTopics: Object.freeze(inputTopics),
    alertsTopic,
    alertUpdatesTopic,
    lateEventsTopic,
    deadLetterTopic,
    groupId,
    rulesDir: envValue(env, 'RULES_DIR'),
    builtinRules: envBoolean(env, 'RULES_BUILTINS', true),
    valueListsDir: envValue(env, 'VALUE_LISTS_DIR'),
    strict: envBoolean(env, 'DETECTOR_STRICT', false),
    ruleSelection: ruleSelectionFromEnv(env),
    rulesTopic,
    // At most a week: every window adds to the replay a partition's new owner does.
    rulesTopicMaxWindowMs: envInteger(env, 'RULES_TOPIC_MAX_WINDOW_MS', 0, 0, 7 * 86_400_000),
    partitionKeyFields: parsePartitionKeyFields(
      envValue(env, 'PARTITION_KEY_FIELDS') ?? DETECTOR_DEFAULTS.partitionKeyFields,
    ),
    allowedLatenessMs,
    // 0 is off; at most a day (beyond, a partition that quiet has no alert waiting worth the rule).
    idlePartitionMs: envInteger(env, 'IDLE_PARTITION_MS', DETECTOR_DEFAULTS.idlePartitionMs, 0, 86_400_000),
    stateMaxPartials:
      stateMax === undefined ? undefined : envInteger(env, 'STATE_MAX_PARTIALS', 0, 1, 100_000_000),
    engineLimits: Object.freeze({
      // Default: the allowed lateness (see defaultMaxFutureSkewMs). A second at least (clock drift); a
      // year at most (anything beyond is not a guard).
      maxFutureSkewMs: envInteger(
        env,
        'MAX_FUTURE_SKEW_MS',
        defaultMaxFutureSkewMs(allowedLatenessMs),
        1_000,
        31_536_000_000,
      ),
      maxBufferedBytes: envInteger(env, 'REORDER_MAX_BYTES', DETECTOR_DEFAULTS.reorderMaxBytes, MIB, 2 ** 40),
      maxStateBytes: envInteger(env, 'STATE_MAX_BYTES', DETECTOR_DEFAULTS.stateMaxBytes, MIB, 2 ** 40),
    }),
    schemaRegistry: schemaRegistryConfigFromEnv(env),
    startFrom,
    partitionsConcurrently: envInteger(
      env,
      'DETECTOR_PARTITIONS_CONCURRENTLY',
      DETECTOR_DEFAULTS.partitionsConcurrently,
      1,
      256,
    ),
    maxBatchRecords: envInteger(
      env,
      'DETECTOR_MAX_BATCH_RECORDS',
      DETECTOR_DEFAULTS.maxBatchRecords,
      1,
      100_000,
    ),
    alertsPartitions: envInteger(env, 'ALERTS_PARTITIONS', DETECTOR_DEFAULTS.alertsPartitions, 1, 10_000),
    sessionTimeoutMs,
    // The broker aborts a transaction left open longer; it must outlast one batch's work.
    transactionTimeoutMs: envInteger(
      env,
      'DETECTOR_TRANSACTION_TIMEOUT_MS',
      DETECTOR_DEFAULTS.transactionTimeoutMs,
      1_000,
      900_000,
    ),
    logLevel: logLevelFromEnv(env),
  });
}

/**
 * The transactional id of the producer that owns `topic[partition]` for `groupId` (README: fencing).
 * `:` appears in neither a group nor a topic name, so two partitions never share an id.
 */
export function transactionalIdFor(groupId: string, topic: string, partition: number): string {
  return `${groupId}:${topic}:${partition}`;
}
