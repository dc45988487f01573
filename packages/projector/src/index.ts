export * from './engine.js';
export * from './projector.js';
export * from './replay.js';
export * from './time-travel.js';
export * from './component.js';
export * from './locked-runner.js';
