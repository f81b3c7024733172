export * from './config.js';
export * from './detector.js';
export * from './outputs.js';
export * from './partition-task.js';
export * from './readiness.js';
export * from './restore.js';
export * from './rules.js';
export * from './telemetry.js';
