/** `node packages/dashboard/dist/test-support/serve.js [customers] [port]`: a seeded ledger to look at by hand. */
import { startSeededLedger } from './seeded-ledger.js';

const customers = Number(process.argv[2] ?? '300');
const port = Number(process.argv[3] ?? '4180');
const ledger = await startSeededLedger({ customers, seed: 7, port });
process.stdout.write(
  `${ledger.appended} events; dashboard on ${ledger.url}/dashboard/\nread key: ${ledger.readKey}\n`,
);
process.on('SIGINT', () => void ledger.stop().then(() => process.exit(0)));
