import type { FastifyBaseLogger } from 'fastify';
import type { HeldCustomer } from '@crm-ledger/projector';

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
