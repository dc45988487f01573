export * from './ingest.js';
export * from './schemas.js';
export * from './routes.js';
export * from './openapi.js';
export * from './metrics.js';
