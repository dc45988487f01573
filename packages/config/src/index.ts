export * from './config.js';
export * from './deployment.js';
