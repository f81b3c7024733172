import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sequor/model';
import { normalizerConfigFromEnv } from '../src/index.js';

const base = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  NORMALIZER_SOURCES: 'zeek-dce-rpc:zeek.dce_rpc,winlogbeat:winlogbeat',
};

function configError(env: Record<string, string>, flags: string[] = []): ConfigError {
  try {
    normalizerConfigFromEnv(env, flags);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('normalizerConfigFromEnv', () => {
  it('applies the documented defaults', () => {
    const c = normalizerConfigFromEnv(base);
    expect(c.sources.map((s) => [s.format.name, s.topic])).toEqual([
      ['zeek-dce-rpc', 'zeek.dce_rpc'],
      ['winlogbeat', 'winlogbeat'],
    ]);
    expect(c.normalizedTopic).toBe('sequor.events');
    expect(c.normalizedPartitions).toBe(6);
    expect(c.deadLetterTopic).toBe('sequor.dead-letters');
    expect(c.groupId).toBe('sequor-normalizer');
    expect(c.partitionKeyFields.header).toBe('host.id,host.name,user.id');
    expect(c.maxRecordBytes).toBe(1048576);
    expect(c.identity).toEqual({ hostIdFrom: 'source', hostNameForm: 'short' });
    expect(c.schemaRegistry).toBeUndefined();
    expect(c.poisonPolicy).toBe('dead-letter');
    expect(c.startFrom).toBe('earliest');
    expect(c.partitionsConcurrently).toBe(2);
    expect(c.logLevel).toBe('info');
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
  });

  it('reads every variable', () => {
    const c = normalizerConfigFromEnv({
      ...base,
      NORMALIZED_TOPIC: 'events.v1',
      NORMALIZED_PARTITIONS: '12',
      DEAD_LETTER_TOPIC: 'dlq',
      NORMALIZER_GROUP_ID: 'norm-2',
      PARTITION_KEY_FIELDS: 'host.id,user.id',
      MAX_RECORD_BYTES: '2097152',
      SEQUOR_HOST_ID_FROM: 'name',
      SEQUOR_HOST_NAME_FORM: 'fqdn',
      SCHEMA_REGISTRY_URL: 'http://registry:8081/',
      SCHEMA_REGISTRY_USERNAME: 'key',
      SCHEMA_REGISTRY_PASSWORD: 'secret',
      POISON_POLICY: 'fail',
      NORMALIZER_START_FROM: 'latest',
      NORMALIZER_PARTITIONS_CONCURRENTLY: '4',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      normalizedTopic: 'events.v1',
      normalizedPartitions: 12,
      deadLetterTopic: 'dlq',
      groupId: 'norm-2',
      maxRecordBytes: 2097152,
      identity: { hostIdFrom: 'name', hostNameForm: 'fqdn' },
      schemaRegistry: {
        url: 'http://registry:8081/',
        username: 'key',
        password: 'secret',
        requestTimeoutMs: 10_000,
      },
      poisonPolicy: 'fail',
      startFrom: 'latest',
      partitionsConcurrently: 4,
      logLevel: 'debug',
    });
    expect(c.partitionKeyFields.names).toEqual(['host.id', 'user.id']);
  });

  it('--source flags replace NORMALIZER_SOURCES', () => {
    const c = normalizerConfigFromEnv(base, ['flat-windows:windows.raw', 'zeek-conn:zeek.conn']);
    expect(c.sources.map((s) => s.topic)).toEqual(['windows.raw', 'zeek.conn']);
    expect(configError(base, ['nope:t']).variable).toBe('--source');
  });

  it.each([
    [{ NORMALIZER_SOURCES: '' }, 'NORMALIZER_SOURCES', /format:topic/],
    [{ NORMALIZER_SOURCES: 'zeek-dce-rpc' }, 'NORMALIZER_SOURCES', /format:topic/],
    [{ NORMALIZER_SOURCES: 'syslog:raw' }, 'NORMALIZER_SOURCES', /known: winlogbeat/],
    [{ NORMALIZED_TOPIC: 'bad topic' }, 'NORMALIZED_TOPIC', /topic name/],
    [{ NORMALIZED_TOPIC: 'winlogbeat' }, 'NORMALIZED_TOPIC', /other than the raw topic/],
    [{ DEAD_LETTER_TOPIC: 'zeek.dce_rpc' }, 'DEAD_LETTER_TOPIC', /other than the raw topic/],
    [{ DEAD_LETTER_TOPIC: 'sequor.events' }, 'DEAD_LETTER_TOPIC', /other than NORMALIZED_TOPIC/],
    [{ NORMALIZED_PARTITIONS: '0' }, 'NORMALIZED_PARTITIONS', /1 to 10000/],
    [{ NORMALIZED_PARTITIONS: 'six' }, 'NORMALIZED_PARTITIONS', /whole number/],
    [{ MAX_RECORD_BYTES: '100' }, 'MAX_RECORD_BYTES', /1024 to 67108864/],
    [{ PARTITION_KEY_FIELDS: 'host.id,process.pid' }, 'PARTITION_KEY_FIELDS', /string fields/],
    [{ SCHEMA_REGISTRY_URL: 'registry:8081' }, 'SCHEMA_REGISTRY_URL', /http/],
    [{ SCHEMA_REGISTRY_URL: 'ftp://registry' }, 'SCHEMA_REGISTRY_URL', /http/],
    [{ POISON_POLICY: 'ignore' }, 'POISON_POLICY', /dead-letter, fail/],
    [{ NORMALIZER_START_FROM: 'now' }, 'NORMALIZER_START_FROM', /earliest, latest/],
    [{ NORMALIZER_GROUP_ID: 'a group' }, 'NORMALIZER_GROUP_ID', /letters/],
    [{ SEQUOR_HOST_ID_FROM: 'guid' }, 'SEQUOR_HOST_ID_FROM', /source/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /error, warn/],
    [{ KAFKA_BROKERS: '' }, 'KAFKA_BROKERS', /host:port/],
  ])('refuses %j naming %s', (override, variable, expected) => {
    const e = configError({ ...base, ...override });
    expect(e.variable).toBe(variable);
    expect(e.message).toMatch(expected);
  });

  it('refuses a missing NORMALIZER_SOURCES, pointing at --source too', () => {
    const e = configError({ KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(e.variable).toBe('NORMALIZER_SOURCES');
    expect(e.message).toContain('--source');
  });
});
