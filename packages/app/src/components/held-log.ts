import type { FastifyBaseLogger } from 'fastify';
import type { ReadModelStore } from '@crm-ledger/core';
import { PROJECTION_NAMES } from '@crm-ledger/projections';
import { heldCustomers, type HeldCustomer } from '@crm-ledger/projector';

/** The projector's `onHeld` in both modes (log and Kafka): one error line naming what is held and why. */
export function logHeld(log: FastifyBaseLogger): (held: HeldCustomer) => void {
  return (h) =>
    log.error(
      {
        projection: h.projection,
        position: h.position,
        eventId: h.eventId,
        eventType: h.eventType,
        error: h.error,
      },
      'applying an event threw: its customer is held in this view (crm-ledger held), the others keep flowing',
    );
}

/** The projector's `degraded` in both modes: the customers some view holds, or undefined when none. */
export async function heldDegraded(
  readModel: ReadModelStore,
): Promise<{ reason: string; count: number } | undefined> {
  const held = new Set((await heldCustomers(readModel, PROJECTION_NAMES)).map((h) => h.customerId));
  return held.size === 0
    ? undefined
    : {
        reason: `${held.size} customer(s) held by the views: their rows are stale (crm-ledger held)`,
        count: held.size,
      };
}
