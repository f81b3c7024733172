export * from './errors.js';
export * from './fields.js';
