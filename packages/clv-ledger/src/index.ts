export * from './purchase-days.js';
export * from './fit.js';
export * from './from-store.js';
export * from './score.js';
export * from './value-view.js';
export * from './distribution.js';
export * from './subscriptions.js';
export * from './read-model.js';
