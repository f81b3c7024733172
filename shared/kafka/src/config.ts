import type { Env } from '@sequor/model';
import { ConfigError, envBoolean, envInteger, envValue } from '@sequor/model';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaTlsConfig {
  /** PEM file with the CA certificates to trust; unset means the Node.js default trust store. */
  readonly caFile: string | undefined;
  /** PEM client certificate for mutual TLS (set together with `keyFile`). */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly rejectUnauthorized: boolean;
}

export interface KafkaSaslConfig {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** How to reach the cluster. Built from the environment by `kafkaConfigFromEnv`; see README.md. */
export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** `undefined` means plaintext. */
  readonly tls: KafkaTlsConfig | undefined;
  readonly sasl: KafkaSaslConfig | undefined;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export type { Env } from '@sequor/model';

export const KAFKA_CONFIG_DEFAULTS = {
  clientId: 'sequor',
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
} as const;

const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
// host:port, host:port. Hosts are names, IPv4, or bracketed IPv6 ([::1]:9092).
const BROKER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const CLIENT_ID = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Reads Kafka connection settings from an environment object. Pure: it names files but does not read
 * them (`createKafkaClient` does), so it is testable with a literal object. Throws `ConfigError` naming
 * the first variable that cannot be used.
 */
export function kafkaConfigFromEnv(env: Env): KafkaConfig {
  return {
    brokers: parseBrokers(env),
    clientId: parseClientId(env),
    tls: parseTls(env),
    sasl: parseSasl(env),
    connectionTimeoutMs: parseMillis(
      env,
      'KAFKA_CONNECTION_TIMEOUT_MS',
      KAFKA_CONFIG_DEFAULTS.connectionTimeoutMs,
    ),
    requestTimeoutMs: parseMillis(env, 'KAFKA_REQUEST_TIMEOUT_MS', KAFKA_CONFIG_DEFAULTS.requestTimeoutMs),
  };
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** A Kafka topic name ([A-Za-z0-9._-], at most 249 characters), or ConfigError naming `variable`. */
export function checkTopicName(variable: string, raw: string | undefined, topic: string): string {
  if (!TOPIC.test(topic))
    throw new ConfigError(variable, raw, 'a Kafka topic name ([A-Za-z0-9._-], at most 249 characters)');
  return topic;
}

/** The topic named by `name`, `fallback` when unset. */
export function topicFromEnv(env: Env, name: string, fallback: string): string {
  return checkTopicName(name, env[name], envValue(env, name) ?? fallback);
}

/** `kafkaConfigFromEnv(process.env)`. */
export function loadKafkaConfig(): KafkaConfig {
  return kafkaConfigFromEnv(process.env);
}

function parseBrokers(env: Env): string[] {
  const raw = env.KAFKA_BROKERS;
  const value = envValue(env, 'KAFKA_BROKERS');
  if (value === undefined) {
    throw new ConfigError('KAFKA_BROKERS', raw, 'a comma-separated list of host:port (e.g. 127.0.0.1:9092)');
  }
  const brokers = value.split(',').map((entry) => entry.trim());
  for (const broker of brokers) {
    const match = BROKER.exec(broker);
    const port = match === null ? NaN : Number(match[1]);
    if (!(port >= 1 && port <= 65535)) {
      throw new ConfigError(
        'KAFKA_BROKERS',
        raw,
        `a comma-separated list of host:port with ports 1-65535; "${broker}" is not one`,
      );
    }
  }
  return brokers;
}

function parseClientId(env: Env): string {
  const value = envValue(env, 'KAFKA_CLIENT_ID');
  if (value === undefined) return KAFKA_CONFIG_DEFAULTS.clientId;
  if (!CLIENT_ID.test(value)) {
    throw new ConfigError(
      'KAFKA_CLIENT_ID',
      env.KAFKA_CLIENT_ID,
      'letters, digits, ".", "_" or "-" (at most 249)',
    );
  }
  return value;
}

function parseMillis(env: Env, name: string, fallback: number): number {
  return envInteger(
    env,
    name,
    fallback,
    1,
    3_600_000,
    'a whole number of milliseconds between 1 and 3600000',
  );
}

function parseTls(env: Env): KafkaTlsConfig | undefined {
  const enabled = envBoolean(env, 'KAFKA_SSL', false);
  const caFile = envValue(env, 'KAFKA_SSL_CA_FILE');
  const certFile = envValue(env, 'KAFKA_SSL_CERT_FILE');
  const keyFile = envValue(env, 'KAFKA_SSL_KEY_FILE');
  const rejectUnauthorized = envBoolean(env, 'KAFKA_SSL_REJECT_UNAUTHORIZED', true);
  if (!enabled) {
    // A TLS file without KAFKA_SSL=true is a half-done setup; connecting in plaintext would hide it.
    for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const) {
      if (envValue(env, name) !== undefined) {
        throw new ConfigError('KAFKA_SSL', env.KAFKA_SSL, `true when ${name} is set`);
      }
    }
    return undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE';
    throw new ConfigError(
      missing,
      env[missing],
      'a PEM file path: client certificate and key are set together',
    );
  }
  return { caFile, certFile, keyFile, rejectUnauthorized };
}

function parseSasl(env: Env): KafkaSaslConfig | undefined {
  const raw = envValue(env, 'KAFKA_SASL_MECHANISM');
  const username = env.KAFKA_SASL_USERNAME;
  const password = env.KAFKA_SASL_PASSWORD;
  if (raw === undefined) {
    if (
      envValue(env, 'KAFKA_SASL_USERNAME') !== undefined ||
      envValue(env, 'KAFKA_SASL_PASSWORD') !== undefined
    ) {
      throw new ConfigError(
        'KAFKA_SASL_MECHANISM',
        env.KAFKA_SASL_MECHANISM,
        `one of ${SASL_MECHANISMS.join(', ')} when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set`,
      );
    }
    return undefined;
  }
  const mechanism = SASL_MECHANISMS.find((m) => m === raw.toLowerCase());
  if (mechanism === undefined) {
    throw new ConfigError(
      'KAFKA_SASL_MECHANISM',
      env.KAFKA_SASL_MECHANISM,
      `one of ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  if (username === undefined || username === '') {
    throw new ConfigError('KAFKA_SASL_USERNAME', username, `a user name (KAFKA_SASL_MECHANISM=${mechanism})`);
  }
  if (password === undefined || password === '') {
    // Never echo a password: the only failure reported for it is absence.
    throw new ConfigError('KAFKA_SASL_PASSWORD', undefined, `a password (KAFKA_SASL_MECHANISM=${mechanism})`);
  }
  return { mechanism, username, password };
}
