export * from './queries.js';
export * from './routes.js';
