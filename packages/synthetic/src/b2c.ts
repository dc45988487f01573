import * as V from './vocabulary.js';
import type { Customer } from './customer.js';
import { DAY, MIN } from './context.js';

/** A B2C customer's life: purchases (BG/NBD and Gamma-Gamma) and refunds. */

export function b2cLife(c: Customer): void {
  const r = c.rng;
  // BG/NBD (Fader, Hardie & Lee 2005), the process the CLV fit assumes: while alive, purchases at a
  // customer-specific Poisson rate (its heterogeneity comes from the gamma budget); after each purchase the
  // customer lapses for good with a customer-specific probability p ~ Beta(0.7, 0.42 n), n the purchases the
  // budget asks for. The Beta's shape below 1 mixes customers who lapse after a purchase or two with customers
  // who stay for years, so the fit sees both and identifies the dropout distribution; with a ceiling of 2n
  // purchases the expected count stays n (within a few per cent for any n), so event totals hold.
  const wanted = Math.max(1, c.budget * 0.3);
  const lapse = r.beta(0.7, Math.max(0.5, 0.42 * wanted));
  // Gamma-Gamma (Fader, Hardie & Lee 2005): each customer's typical order value is their own, Gamma-distributed
  // across customers (shape 4: most spend near the mean, some much more or less), so spend heterogeneity exists
  // for the spend model to find. Mean 1 keeps revenue totals where they were.
  c.spendScale = r.gamma(4) / 4;
  const rate = (2 * wanted) / c.activeSpan();
  let t = c.signup + (r.chance(0.7) ? r.between(1, 50) * MIN : r.exp(20 * DAY));
  while (t <= c.activeEnd) {
    purchase(c, t);
    if (r.chance(lapse)) {
      // lapsed: nothing after a short while (a refund or a survey about the last order may still come)
      c.activeEnd = Math.min(c.activeEnd, t + DAY);
      break;
    }
    t += r.exp(1 / rate);
  }
}

function purchase(c: Customer, t: number): void {
  const r = c.rng;
  const orderId = `o-${c.id}-${c.orders.length + 1}`;
  const amount = c.money(Math.round(c.spendScale * Math.exp(3.4 + 0.8 * r.normal()) * 100) / 100);
  const data: Record<string, unknown> = { orderId, amount };
  if (r.chance(0.6)) data.quantity = r.weighted([1, 2, 3, 4, 6], [60, 20, 10, 6, 4]);
  if (r.chance(0.8))
    data.channel = r.weighted(['web', 'mobile_app', 'in_person', 'phone'] as const, [55, 30, 12, 3]);
  const purchaseId = c.add(t, 'PurchaseMade', data, 'shop', { correlationId: orderId });
  c.orders.push({ orderId, t, amountMinor: amount.amountMinor });
  if (r.chance(0.05)) {
    const partial = r.chance(0.3);
    const refund = {
      refundId: `rf-${orderId.slice(2)}`,
      orderId,
      amount: {
        amountMinor: partial ? Math.max(1, Math.floor(amount.amountMinor * 0.5)) : amount.amountMinor,
        currency: amount.currency,
      },
      reason: r.pick(V.REFUND_REASONS),
    };
    c.add(t + r.between(1, 30) * DAY, 'RefundIssued', refund, 'shop', {
      correlationId: orderId,
      causationId: purchaseId,
    });
  }
}
