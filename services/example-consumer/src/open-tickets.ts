import type { EventHandlers } from '@crm-ledger/kafka';

/** The example's view: which tickets are open, per customer. */
export interface OpenTicketsView {
  readonly open: Map<string, Set<string>>;
  /** Customers erased: their tickets are forgotten and any of their ticket events read later is ignored. */
  readonly erased: Set<string>;
}

export function emptyView(): OpenTicketsView {
  return { open: new Map(), erased: new Set() };
}

/**
 * The handlers that keep the view: a ticket is open from `TicketOpened` (or `TicketReopened`) until `TicketResolved`.
 * Erasure forgets the customer. Events arrive per customer in ledger order within a topic, already validated, upcast
 * and deduplicated by the consumer toolkit. In the per-area layout `CustomerErased` (relationship topic) has no order
 * with the ticket events (service topic): it may be read before the customer's earlier tickets, so the view keeps the
 * erased ids and ignores their ticket events (the ledger takes no new event about an erased customer).
 */
export function openTicketsHandlers(view: OpenTicketsView): EventHandlers {
  const open = (customerId: string, ticketId: string) => {
    if (view.erased.has(customerId)) return;
    let tickets = view.open.get(customerId);
    if (tickets === undefined) view.open.set(customerId, (tickets = new Set()));
    tickets.add(ticketId);
  };
  return {
    TicketOpened: (e) => open(e.customerId, e.data.ticketId),
    TicketReopened: (e) => open(e.customerId, e.data.ticketId),
    TicketResolved: (e) => {
      const tickets = view.open.get(e.customerId);
      tickets?.delete(e.data.ticketId);
      if (tickets?.size === 0) view.open.delete(e.customerId);
    },
    CustomerErased: (e) => {
      view.erased.add(e.customerId);
      view.open.delete(e.customerId);
    },
  };
}

/** The view as JSON: customers with open tickets, sorted, with their ticket ids sorted. */
export function snapshot(view: OpenTicketsView): {
  customers: number;
  tickets: number;
  open: Record<string, string[]>;
} {
  const open = Object.create(null) as Record<string, string[]>;
  let tickets = 0;
  for (const customerId of [...view.open.keys()].sort()) {
    const ids = [...view.open.get(customerId)!].sort();
    open[customerId] = ids;
    tickets += ids.length;
  }
  return { customers: Object.keys(open).length, tickets, open };
}
