export * from './queries.js';
export * from './routes.js';
export * from './component.js';
