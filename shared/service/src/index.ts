// @sequor/service: what every Sequor process needs around its work, the logger and the lifecycle.
export * from './logger.js';
export * from './lifecycle.js';
export * from './v8-flags.js';
