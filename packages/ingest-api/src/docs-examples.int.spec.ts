import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, generateApiKey, memoryApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteEventStore, type SqliteEventStore } from '@crm-ledger/sqlite';
import { registerIngestRoutes } from './routes.js';

/** The curl examples of docs/ingest.md, run as written with `sh` against the ingest routes on a real port. */
const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/ingest.md'), 'utf8');
const examples = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

describe('docs/ingest.md examples', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ingest-docs-'));
  let store: SqliteEventStore;
  let app: HttpApp;
  let key: string;
  let port: number;

  beforeAll(async () => {
    store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
    const k = generateApiKey('writer', ['append'], '2024-01-01T00:00:00Z');
    key = k.key;
    // the example reads its key as a started ledger keeps it (`crm-ledger start` writes .data/admin.key)
    mkdirSync(path.join(dir, '.data'));
    writeFileSync(path.join(dir, '.data', 'admin.key'), `${key}\n`);
    app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '1' });
    registerIngestRoutes(app, { store, keys: memoryApiKeyStore([k.record]) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records an exchange rate as the docs show it: 201, in the stream customer-fx-rates', async () => {
    const example = examples.find((e) => e.includes('ExchangeRateRecorded'));
    expect(example).toBeDefined();
    const script = example!.replaceAll('http://127.0.0.1:4100', `http://127.0.0.1:${port}`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', script], { cwd: dir, env: { ...process.env, KEY: '' } }, (e, stdout) =>
        e === null ? resolve(stdout) : reject(new Error(e.message)),
      ),
    );
    const answer = JSON.parse(out) as { streamName: string; duplicate: boolean };
    expect(answer).toMatchObject({ streamName: 'customer-fx-rates', duplicate: false });
    const read = await store.readStream('customer-fx-rates');
    expect(read._tag === 'Right' && read.right.map((s) => s.event.type)).toEqual(['ExchangeRateRecorded']);
  });
});
