// Child process for the crash-resume spec: replays into the read model, slowly (a pause per page), and prints
// each committed position, so the parent can SIGKILL it mid-replay. Uses the built packages (pnpm build first).
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { replay } from '../dist/index.js';

const [eventsFile, readModelFile, pauseMs] = process.argv.slice(2);
const store = openSqliteEventStore({ file: eventsFile });
const slow = {
  ...store,
  headPosition: () => store.headPosition(),
  async *readAll(options) {
    for await (const page of store.readAll(options)) {
      await new Promise((r) => setTimeout(r, Number(pauseMs)));
      yield page;
    }
  },
};
const readModel = openSqliteReadModel({ file: readModelFile });
await replay({
  store: slow,
  readModel,
  batchSize: 250,
  onProgress: (p) => process.stdout.write(`${p.position}\n`),
});
process.stdout.write('done\n');
