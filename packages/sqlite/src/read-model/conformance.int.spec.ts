import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readModelConformance } from '@crm-ledger/readmodel-conformance';
import { openSqliteReadModel } from './sqlite-read-model.js';

// The read-model port's conformance suite on a real SQLite file (one fresh file per case).
readModelConformance('SQLite', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'readmodel-conformance-'));
  const file = path.join(dir, 'readmodel.sqlite');
  const store = openSqliteReadModel({ file });
  return Promise.resolve({
    store,
    reopen: () => Promise.resolve(openSqliteReadModel({ file })),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});
