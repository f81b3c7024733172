import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sequor/model';
import { DETECTOR_DEFAULTS, detectorConfigFromEnv, transactionalIdFor } from '../src/config.js';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

describe('detectorConfigFromEnv', () => {
  it('fills the documented defaults', () => {
    const c = detectorConfigFromEnv(base);
    expect(c).toMatchObject({
      inputTopics: ['sequor.events'],
      alertsTopic: 'sequor.alerts',
      lateEventsTopic: 'sequor.late-events',
      deadLetterTopic: 'sequor.dead-letters',
      groupId: 'sequor-detector',
      rulesDir: undefined,
      strict: false,
      allowedLatenessMs: 5_000,
      idlePartitionMs: 500,
      stateMaxPartials: undefined,
      schemaRegistry: undefined,
      startFrom: 'earliest',
      partitionsConcurrently: DETECTOR_DEFAULTS.partitionsConcurrently,
      maxBatchRecords: DETECTOR_DEFAULTS.maxBatchRecords,
      logLevel: 'info',
    });
    expect(c.partitionKeyFields.header).toBe('host.id,host.name,user.id');
  });

  it('reads every variable', () => {
    const c = detectorConfigFromEnv({
      ...base,
      DETECTOR_INPUT_TOPICS: 'a.events, b.events',
      ALERTS_TOPIC: 'x.alerts',
      LATE_EVENTS_TOPIC: 'x.late',
      DEAD_LETTER_TOPIC: 'x.dead',
      DETECTOR_GROUP_ID: 'det-1',
      RULES_DIR: '/etc/sequor/rules',
      DETECTOR_STRICT: 'true',
      PARTITION_KEY_FIELDS: 'host.id',
      ALLOWED_LATENESS_MS: '60000',
      IDLE_PARTITION_MS: '0',
      STATE_MAX_PARTIALS: '5000',
      SCHEMA_REGISTRY_URL: 'http://registry:8081',
      DETECTOR_START_FROM: 'latest',
      DETECTOR_PARTITIONS_CONCURRENTLY: '4',
      DETECTOR_MAX_BATCH_RECORDS: '500',
      ALERTS_PARTITIONS: '12',
      DETECTOR_SESSION_TIMEOUT_MS: '10000',
      DETECTOR_TRANSACTION_TIMEOUT_MS: '30000',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      inputTopics: ['a.events', 'b.events'],
      alertsTopic: 'x.alerts',
      groupId: 'det-1',
      rulesDir: '/etc/sequor/rules',
      strict: true,
      allowedLatenessMs: 60_000,
      idlePartitionMs: 0,
      stateMaxPartials: 5_000,
      startFrom: 'latest',
      partitionsConcurrently: 4,
      maxBatchRecords: 500,
      alertsPartitions: 12,
      sessionTimeoutMs: 10_000,
      transactionTimeoutMs: 30_000,
      logLevel: 'debug',
    });
    expect(c.schemaRegistry?.url).toBe('http://registry:8081');
    expect(c.partitionKeyFields.names).toEqual(['host.id']);
  });

  it.each([
    [{ DETECTOR_INPUT_TOPICS: 'events,events' }, 'DETECTOR_INPUT_TOPICS'],
    [{ DETECTOR_INPUT_TOPICS: 'bad topic' }, 'DETECTOR_INPUT_TOPICS'],
    [{ ALERTS_TOPIC: 'sequor.events' }, 'ALERTS_TOPIC'],
    [{ DEAD_LETTER_TOPIC: 'sequor.events' }, 'DEAD_LETTER_TOPIC'],
    [{ ALERTS_TOPIC: 'same', LATE_EVENTS_TOPIC: 'same' }, 'ALERTS_TOPIC'],
    [{ DETECTOR_GROUP_ID: 'a:b' }, 'DETECTOR_GROUP_ID'],
    [{ DETECTOR_STRICT: 'maybe' }, 'DETECTOR_STRICT'],
    [{ PARTITION_KEY_FIELDS: 'host.nope' }, 'PARTITION_KEY_FIELDS'],
    [{ ALLOWED_LATENESS_MS: '-1' }, 'ALLOWED_LATENESS_MS'],
    [{ ALLOWED_LATENESS_MS: '5s' }, 'ALLOWED_LATENESS_MS'],
    [{ IDLE_PARTITION_MS: '-1' }, 'IDLE_PARTITION_MS'],
    [{ IDLE_PARTITION_MS: '1s' }, 'IDLE_PARTITION_MS'],
    [{ STATE_MAX_PARTIALS: '0' }, 'STATE_MAX_PARTIALS'],
    [{ MAX_FUTURE_SKEW_MS: '10' }, 'MAX_FUTURE_SKEW_MS'],
    [{ MAX_FUTURE_SKEW_MS: '1h' }, 'MAX_FUTURE_SKEW_MS'],
    [{ REORDER_MAX_BYTES: '1000' }, 'REORDER_MAX_BYTES'],
    [{ STATE_MAX_BYTES: '-1' }, 'STATE_MAX_BYTES'],
    [{ DETECTOR_START_FROM: 'middle' }, 'DETECTOR_START_FROM'],
    [{ DETECTOR_PARTITIONS_CONCURRENTLY: '0' }, 'DETECTOR_PARTITIONS_CONCURRENTLY'],
    [{ DETECTOR_SESSION_TIMEOUT_MS: '1000' }, 'DETECTOR_SESSION_TIMEOUT_MS'],
    [{ SCHEMA_REGISTRY_URL: 'ftp://x' }, 'SCHEMA_REGISTRY_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ KAFKA_BROKERS: '' }, 'KAFKA_BROKERS'],
    [{ RULES_TOPIC: 'bad topic' }, 'RULES_TOPIC'],
    [{ RULES_TOPIC: 'sequor.events' }, 'RULES_TOPIC'],
    [{ RULES_TOPIC: 'sequor.alerts' }, 'RULES_TOPIC'],
    [{ RULES_TOPIC_MAX_WINDOW_MS: '-1' }, 'RULES_TOPIC_MAX_WINDOW_MS'],
    [{ RULES_MIN_LEVEL: 'severe' }, 'RULES_MIN_LEVEL'],
    [{ RULES_STATUS: 'stable,beta' }, 'RULES_STATUS'],
    [{ RULES_TAGS: ' , ' }, 'RULES_TAGS'],
  ])('refuses %j naming %s', (env, variable) => {
    let error: unknown;
    try {
      detectorConfigFromEnv({ ...base, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
  });

  it('reads the engine bounds: skew = the allowed lateness (at least 1 s) and 128/64 MiB by default', () => {
    expect(
      detectorConfigFromEnv({ ...base, ALLOWED_LATENESS_MS: '30000' }).engineLimits.maxFutureSkewMs,
    ).toBe(30_000);
    expect(detectorConfigFromEnv({ ...base, ALLOWED_LATENESS_MS: '0' }).engineLimits.maxFutureSkewMs).toBe(
      1_000,
    );
    expect(detectorConfigFromEnv(base).engineLimits).toEqual({
      maxFutureSkewMs: 5_000,
      maxBufferedBytes: 128 * 2 ** 20,
      maxStateBytes: 64 * 2 ** 20,
    });
    const set = detectorConfigFromEnv({
      ...base,
      MAX_FUTURE_SKEW_MS: '60000',
      REORDER_MAX_BYTES: '16777216',
      STATE_MAX_BYTES: '8388608',
    });
    expect(set.engineLimits).toEqual({
      maxFutureSkewMs: 60_000,
      maxBufferedBytes: 16_777_216,
      maxStateBytes: 8_388_608,
    });
  });

  it('chooses the rules by level, status and tags (every rule by default)', () => {
    expect(detectorConfigFromEnv(base).ruleSelection).toEqual({});
    expect(
      detectorConfigFromEnv({
        ...base,
        RULES_MIN_LEVEL: 'High',
        RULES_STATUS: 'stable,test',
        RULES_TAGS: 'attack.t1059*, attack.execution',
      }).ruleSelection,
    ).toEqual({
      minLevel: 'high',
      statuses: ['stable', 'test'],
      tags: ['attack.t1059*', 'attack.execution'],
    });
  });

  it('takes a rules topic (off by default) and the longest window its rules may have', () => {
    expect(detectorConfigFromEnv(base)).toMatchObject({ rulesTopic: undefined, rulesTopicMaxWindowMs: 0 });
    expect(
      detectorConfigFromEnv({ ...base, RULES_TOPIC: 'sequor.rules', RULES_TOPIC_MAX_WINDOW_MS: '7200000' }),
    ).toMatchObject({ rulesTopic: 'sequor.rules', rulesTopicMaxWindowMs: 7_200_000 });
  });

  it('gives each input partition of a group its own transactional id', () => {
    expect(transactionalIdFor('sequor-detector', 'sequor.events', 3)).toBe('sequor-detector:sequor.events:3');
    // Dots are legal in both names; the separator is not, so these cannot collide.
    expect(transactionalIdFor('a.b', 'c', 1)).not.toBe(transactionalIdFor('a', 'b.c', 1));
  });
});
