export * from './config.js';
export * from './deployment.js';
export * from './logging.js';
