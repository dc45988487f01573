import { emptyRecord } from '@crm-ledger/events';
import type { LedgerEvent } from '@crm-ledger/events';

/** Per customer: revenue (minor units) per UTC purchase day, `YYYY-MM-DD`. */
export type PurchaseDaysByCustomer = Map<string, Record<string, number>>;

/** What a fold kept and what it left out, so that a fit says what it saw. */
export interface PurchaseDaysTally {
  readonly byCustomer: PurchaseDaysByCustomer;
  /** PurchaseMade events counted. */
  purchases: number;
  /** PurchaseMade events after the window (they belong to the holdout period). */
  afterWindow: number;
  /** PurchaseMade events in another currency than the fit's (not summed; the spend model needs one currency). */
  otherCurrency: number;
}

export function newTally(): PurchaseDaysTally {
  return { byCustomer: new Map(), purchases: 0, afterWindow: 0, otherCurrency: 0 };
}

/**
 * Adds one event to the tally: a PurchaseMade on or before `observationEnd` (a `YYYY-MM-DD`, inclusive) in
 * `currency` adds its amount to the customer's purchase day; every other event type is not a purchase
 * occasion for BG/NBD and is ignored. Refunds are ignored too, as in the published CDNOW analyses (the model
 * counts purchase occasions; net revenue lives in the value view). Mutates and returns the tally.
 */
export function addToTally(
  tally: PurchaseDaysTally,
  event: LedgerEvent,
  observationEnd: string,
  currency: string,
): PurchaseDaysTally {
  if (event.type !== 'PurchaseMade') return tally;
  const day = event.occurredAt.slice(0, 10);
  if (day > observationEnd) {
    tally.afterWindow++;
    return tally;
  }
  if (event.data.amount.currency !== currency) {
    tally.otherCurrency++;
    return tally;
  }
  tally.purchases++;
  let days = tally.byCustomer.get(event.customerId);
  if (days === undefined) {
    days = emptyRecord<number>();
    tally.byCustomer.set(event.customerId, days);
  }
  days[day] = (days[day] ?? 0) + event.data.amount.amountMinor;
  return tally;
}
