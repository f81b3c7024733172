export * from './types.js';
export * from './compile/index.js';
