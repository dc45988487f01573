import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeEventStoreConformance } from '@crm-ledger/store-conformance';
import { openSqliteEventStore } from './index.js';

// The port's conformance suite against a real SQLite file; a second instance opens the same file.
// Both synchronous modes with the default writer thread, and the inline writer (the group commit in the
// caller's thread, which ':memory:' uses) once.
const variants = [
  { synchronous: 'full', writer: 'thread' },
  { synchronous: 'normal', writer: 'thread' },
  { synchronous: 'full', writer: 'inline' },
] as const;
for (const { synchronous, writer } of variants) {
  describeEventStoreConformance(`SQLite file (synchronous=${synchronous}, writer=${writer})`, ({ clock }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-conformance-'));
    const file = path.join(dir, 'ledger.sqlite');
    const store = openSqliteEventStore({ file, synchronous, clock, writer });
    return Promise.resolve({
      store,
      openSecond: () => Promise.resolve(openSqliteEventStore({ file, synchronous, clock, writer })),
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  });
}
