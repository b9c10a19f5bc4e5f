export * from './address-range.js';
export * from './duration.js';
export * from './names.js';
export * from './schema.js';
export * from './status.js';
export * from './validate.js';
export * from './crd.js';
export * from './logger.js';
