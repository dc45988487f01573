import { randomBytes } from 'node:crypto';
import { describeEventStoreConformance } from '@crm-ledger/store-conformance';
import { describe, it } from 'vitest';
import { openEventStoreDbStore, type EventStoreDbOptions } from './eventstoredb-event-store.js';

// EventStoreDB cannot run on the CI machines: the suite runs only where a server is given, e.g.
//   docker compose -f infra/docker-compose.yml up -d eventstoredb
//   EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false' pnpm --filter @crm-ledger/eventstoredb test
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString === undefined || connectionString === '') {
  console.log('EventStoreDB conformance suite skipped: EVENTSTORE_CONNECTION_STRING is not set');
  describe.skip('EventStore conformance: EventStoreDB', () => {
    it('needs EVENTSTORE_CONNECTION_STRING', () => undefined);
  });
} else {
  describeEventStoreConformance('EventStoreDB', () => {
    // A server is shared by every test: each gets its own namespace, so it sees an empty ledger.
    const options: EventStoreDbOptions = {
      connectionString,
      namespace: `conformance${randomBytes(5).toString('hex')}.`,
      streamPrefixes: ['customer-', 'conformance-'],
      validation: 'catalogue',
    };
    const store = openEventStoreDbStore(options);
    return Promise.resolve({
      store,
      openSecond: () => Promise.resolve(openEventStoreDbStore(options)),
      cleanup: () => store.close(),
      // recordedAt is the server's commit time: the suite's pinned clock cannot reach it.
      honoursClock: false,
    });
  });
}
