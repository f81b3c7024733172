export * from './topic.js';
export * from './events.js';
