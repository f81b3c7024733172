export * from './config.js';
export * from './detector.js';
export * from './outputs.js';
export * from './partition-task.js';
export * from './rules.js';
export * from './telemetry.js';
// Moved to @sequor/streams (the stream-task runtime); named here too, as the detector's API uses them.
export type { ReadinessState, RestorePoint } from '@sequor/streams';
export { PartitionFencedError, TaskTransactionError } from '@sequor/streams';
