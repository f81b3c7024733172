export * from './types.js';
export { zeekFormats } from './zeek/index.js';
export * from './windows/index.js';
export * from './registry.js';
