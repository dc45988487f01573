export * from './config.js';
export * from './deployment.js';
export * from './help.js';
export * from './logging.js';
export * from './settings.js';
export * from './values.js';
export * from './docs.js';
