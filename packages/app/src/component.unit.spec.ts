import { describe, expect, it } from 'vitest';
import { startComponents, type LedgerComponent, type LedgerContext } from './component.js';

const log: string[] = [];
const logger = {
  error: (o: unknown) => log.push(`error ${JSON.stringify(o)}`),
} as unknown as LedgerContext['logger'];
const context = { logger } as LedgerContext;
const part = (name: string, fail = false): LedgerComponent => ({
  name,
  start: () => {
    if (fail) return Promise.reject(new Error(`${name} failed`));
    log.push(`start ${name}`);
    return Promise.resolve({
      description: `${name} running`,
      stop: () => {
        log.push(`stop ${name}`);
        return Promise.resolve();
      },
    });
  },
});

describe('startComponents', () => {
  it('starts in order, describes each part and stops in reverse', async () => {
    log.length = 0;
    const started = await startComponents([part('ingest'), part('projector'), part('query')], context);
    expect(started.descriptions).toEqual([
      'ingest: ingest running',
      'projector: projector running',
      'query: query running',
    ]);
    await started.stopAll();
    expect(log).toEqual([
      'start ingest',
      'start projector',
      'start query',
      'stop query',
      'stop projector',
      'stop ingest',
    ]);
  });

  it('stops what started when a later part fails to start', async () => {
    log.length = 0;
    await expect(
      startComponents([part('ingest'), part('broken', true), part('query')], context),
    ).rejects.toThrow('broken failed');
    expect(log).toEqual(['start ingest', 'stop ingest']);
  });
});
