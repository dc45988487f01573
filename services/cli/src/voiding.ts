import type { EventStore } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { deterministicEventId } from '@crm-ledger/importers';

/** What voiding an import would do, per customer: the events to void (stream order). */
export interface VoidPlan {
  readonly importId: string;
  /** Per customer, the events of the import not voided yet. */
  readonly byCustomer: Map<string, RawEnvelope[]>;
  /** Events of the import that an earlier void already voided (a re-run skips them). */
  readonly alreadyVoided: number;
  /** Events of the import per type (not voided yet). */
  readonly byType: Map<string, number>;
}

/**
 * Finds every event the import `importId` wrote (the `importId` of their envelope), by reading the whole
 * log once, and the ones an `EventVoided` already voids.
 */
export async function planVoid(store: EventStore, importId: string): Promise<VoidPlan> {
  const byCustomer = new Map<string, RawEnvelope[]>();
  const voided = new Set<string>();
  for await (const page of store.readAll({ batchSize: 5_000 })) {
    for (const { event } of page) {
      if (event.type === 'EventVoided') {
        const target = (event.data as { eventId?: unknown } | null)?.eventId;
        if (typeof target === 'string') voided.add(target);
        continue;
      }
      if (event.importId !== importId) continue;
      let list = byCustomer.get(event.customerId);
      if (list === undefined) byCustomer.set(event.customerId, (list = []));
      list.push(event);
    }
  }
  let alreadyVoided = 0;
  const byType = new Map<string, number>();
  for (const [customerId, events] of byCustomer) {
    const open = events.filter((e) => !voided.has(e.eventId));
    alreadyVoided += events.length - open.length;
    if (open.length === 0) byCustomer.delete(customerId);
    else byCustomer.set(customerId, open);
    for (const e of open) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  }
  return { importId, byCustomer, alreadyVoided, byType };
}

/**
 * The compensating event of one voided event: same customer, the voided event's `occurredAt` (a business-time
 * cut keeps both or neither), an id derived from the voided event's (voiding twice writes once).
 */
export function voidEventOf(target: RawEnvelope, reason: string, importId?: string): RawEnvelope {
  return {
    eventId: deterministicEventId('crm-ledger void', target.eventId),
    type: 'EventVoided',
    schemaVersion: 1,
    customerId: target.customerId,
    occurredAt: target.occurredAt,
    source: 'crm-ledger/void', // a URI-reference (the ce_source header on Kafka): no spaces
    data: { eventId: target.eventId, reason, ...(importId === undefined ? {} : { importId }) },
  };
}
