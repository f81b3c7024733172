// @sequor/kafka: the only package that imports kafkajs. Services see these types and functions only.
export * from './errors.js';
export * from './config.js';
export * from './logger.js';
// Lifecycle lives in @sequor/service; the consumer runner is one of its Stoppables, so kafka's users may name it here.
export type { Stoppable } from '@sequor/service';
export * from './partitioner.js';
export { createKafkaClient, kafkaJsOptions, withAdmin } from './client.js';
export type { KafkaAdmin, KafkaClient, KafkaClientOptions } from './client.js';
export * from './admin.js';
export * from './producer.js';
export * from './topic-limits.js';
export * from './consumer.js';
export * from './dead-letter.js';
export * from './schema-registry.js';
export * from './compacted-topic.js';
