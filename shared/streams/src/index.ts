// @sequor/streams: the stream-task runtime (Kafka Streams' processor internals). Talks to the broker only
// through @sequor/kafka.
export * from './errors.js';
export * from './committed-offsets.js';
export * from './restore-point.js';
export * from './readiness.js';
export * from './output.js';
export * from './schema-ids.js';
export * from './task-runner.js';
