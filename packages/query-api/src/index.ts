export * from './queries.js';
export * from './routes.js';
export * from './settings.js';
export * from './clv-routes.js';
export * from './fx.js';
