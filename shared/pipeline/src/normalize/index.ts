export * from './processor.js';
export * from './partition-key.js';
export * from './encoder.js';
export * from './headers.js';
