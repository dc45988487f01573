import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/sqlite';

/** A real SQLite ledger and checkpoint store in a temporary directory, for specs. */
export function tempLedger(validation: 'catalogue' | 'envelope' = 'catalogue') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-ledger-kafka-spec-'));
  const file = path.join(dir, 'ledger.db');
  const store = openSqliteEventStore({ file, synchronous: 'normal', validation });
  const checkpoints = openSqliteCheckpointStore(path.join(dir, 'checkpoints.db'));
  return {
    dir,
    file,
    store,
    checkpoints,
    async close() {
      await store.close();
      await checkpoints.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Appends histories interleaved across customers (event k of every customer, then k + 1), so the global order mixes them. */
export async function appendInterleaved(
  store: ReturnType<typeof tempLedger>['store'],
  histories: readonly { customerId: string; events: readonly RawEnvelope[] }[],
): Promise<number> {
  let count = 0;
  const longest = Math.max(0, ...histories.map((h) => h.events.length));
  for (let k = 0; k < longest; k++) {
    for (const h of histories) {
      const event = h.events[k];
      if (event === undefined) continue;
      const result = await store.append(customerStream(h.customerId), [event]);
      if (result._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(result.left)}`);
      count++;
    }
  }
  return count;
}
