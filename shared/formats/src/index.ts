export * from './types.js';
export { zeekFormats } from './zeek/index.js';
