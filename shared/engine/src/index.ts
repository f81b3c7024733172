export * from './types.js';
export * from './compile/index.js';
// Runtime: event time, operators, state, driver (src/time, src/operators, src/state).
export * from './stats.js';
export * from './alert-id.js';
export * from './driver.js';
export * from './time/timed.js';
export * from './time/reorder-by-event-time.js';
export * from './time/stamp-event-time.js';
export * from './state/partial-store.js';
export { CorrelationSpecError } from './operators/errors.js';
export * from './operators/options.js';
export * from './operators/runtime.js';
export * from './operators/filter.js';
export * from './operators/sequence.js';
export * from './operators/join.js';
export * from './operators/span-aggregate.js';
export * from './operators/correlate.js';
export * from './operators/suppress.js';
