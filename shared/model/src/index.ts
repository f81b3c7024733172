export * from './errors.js';
export * from './fields.js';
export * from './event.generated.js';
export * from './identity.js';
export * from './event-id.js';
