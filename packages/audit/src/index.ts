export * from './notary.js';
export * from './verify.js';
export * from './exported-digest.js';
