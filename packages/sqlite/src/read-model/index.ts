export * from './sqlite-read-model.js';

/** Name of the read-model database in the data directory (next to the event store's file). */
export const READ_MODEL_FILE = 'readmodel.sqlite';
