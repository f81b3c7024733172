import { readFileSync } from 'node:fs';
import { ConfigError } from '@sequor/model';
import type { KafkaConfig as KafkaJsConfig, SASLOptions } from 'kafkajs';
import { Kafka } from 'kafkajs';
import type { KafkaConfig } from './config.js';
import type { Logger } from './logger.js';
import { createLogger, kafkaJsLogCreator, kafkaJsLogLevel } from './logger.js';

/**
 * The client handle every other function in this package takes. Only the three factories of the KafkaJS
 * API are used, so a KafkaJS-compatible client (e.g. `@confluentinc/kafka-javascript`'s `KafkaJS` export)
 * can be substituted here without touching callers.
 */
export type KafkaClient = Pick<Kafka, 'admin' | 'producer' | 'consumer'>;
export type KafkaAdmin = ReturnType<KafkaClient['admin']>;

export interface KafkaClientOptions {
  /** kafkajs logs go to `<logger>.kafkajs.<namespace>`; default `createLogger('kafka')`. */
  readonly logger?: Logger;
}

/** Builds the kafkajs options for a config, reading the TLS files it names. */
export function kafkaJsOptions(config: KafkaConfig, logger: Logger): KafkaJsConfig {
  return {
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    ssl:
      config.tls === undefined
        ? false
        : {
            rejectUnauthorized: config.tls.rejectUnauthorized,
            ...(config.tls.caFile === undefined
              ? {}
              : { ca: [readPem('KAFKA_SSL_CA_FILE', config.tls.caFile)] }),
            ...(config.tls.certFile === undefined
              ? {}
              : { cert: readPem('KAFKA_SSL_CERT_FILE', config.tls.certFile) }),
            ...(config.tls.keyFile === undefined
              ? {}
              : { key: readPem('KAFKA_SSL_KEY_FILE', config.tls.keyFile) }),
          },
    ...(config.sasl === undefined ? {} : { sasl: config.sasl as SASLOptions }),
    logLevel: kafkaJsLogLevel(logger.level),
    logCreator: kafkaJsLogCreator(logger),
  };
}

function readPem(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      variable,
      file,
      `a readable PEM file (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The one place a kafkajs `Kafka` is constructed. */
export function createKafkaClient(config: KafkaConfig, options: KafkaClientOptions = {}): KafkaClient {
  const logger = options.logger ?? createLogger('kafka');
  return new Kafka(kafkaJsOptions(config, logger));
}

/** Runs `work` with a connected admin client and always disconnects it. */
export async function withAdmin<T>(client: KafkaClient, work: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const admin = client.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}
