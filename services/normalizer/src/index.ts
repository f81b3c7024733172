export * from './config.js';
export * from './normalizer.js';
export * from './dead-letters.js';
