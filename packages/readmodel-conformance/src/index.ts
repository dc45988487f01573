export * from './suite.js';
export * from './fixtures.js';
export * from './documented-sql.js';
