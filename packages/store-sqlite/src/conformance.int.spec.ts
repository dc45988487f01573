import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeEventStoreConformance } from '@crm-ledger/store-conformance';
import { openSqliteEventStore } from './index.js';

// The port's conformance suite against a real SQLite file; a second instance opens the same file.
for (const synchronous of ['full', 'normal'] as const) {
  describeEventStoreConformance(`SQLite file (synchronous=${synchronous})`, ({ clock }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-conformance-'));
    const file = path.join(dir, 'ledger.sqlite');
    const store = openSqliteEventStore({ file, synchronous, clock });
    return Promise.resolve({
      store,
      openSecond: () => Promise.resolve(openSqliteEventStore({ file, synchronous, clock })),
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  });
}
