import { emptyRecord } from '@crm-ledger/events';
import type { RawEnvelope } from '@crm-ledger/events';
import { toEventData } from '../codec.js';
import { registered } from '../test-events.js';
import type { FaultServer } from './fault-server.js';

/** Writes ledger events straight into the fault server's log, encoded as the adapter encodes them. */
export function seed(server: FaultServer, n: number, customer = 'c1', first = 1): void {
  for (let i = 0; i < n; i++) writeEnvelope(server, `customer-${customer}`, registered(customer, first + i));
}

export function writeEnvelope(
  server: FaultServer,
  stream: string,
  envelope: RawEnvelope,
  link = '',
  extraMetadata: Record<string, unknown> = emptyRecord(),
): void {
  const d = toEventData(envelope, link);
  server.write(stream, {
    id: d.id,
    type: d.type,
    data: d.data,
    metadata: { ...(d.metadata as Record<string, unknown>), ...extraMetadata },
  });
}
