export * from './ingest.js';
export * from './schemas.js';
export * from './routes.js';
export * from './component.js';
export * from './openapi.js';
