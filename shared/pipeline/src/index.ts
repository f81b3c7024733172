export * from './normalize/index.js';
