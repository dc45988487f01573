export * from './plugin.js';
export * from './component.js';
