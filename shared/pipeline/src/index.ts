export * from './normalize/index.js';
export * from './detect/index.js';
export * from './memory/index.js';
