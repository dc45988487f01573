import { sampleGamma, seededUniform, simulateBgNbd } from '@crm-ledger/clv';
import type { EventStore } from '@crm-ledger/core';
import { ACQUISITION_CHANNELS, customerStream, type RawEnvelope } from '@crm-ledger/events';

/**
 * Appends a purchase history drawn from the BG/NBD process (r 0.5, α 5 weeks, a 0.8, b 2.5) and Gamma-Gamma
 * spend, `customers` customers (each registered first, every third one B2B) of 26 to 39 weeks' age at `observationEnd`, in USD: a deterministic ledger that
 * a CLV fit can support, for demos and tests. Customer ids are `sim-<seed>-<i>`.
 */
export async function appendSimulatedPurchases(
  store: EventStore,
  options: { readonly customers: number; readonly observationEnd: string; readonly seed: number },
): Promise<{ purchases: number }> {
  // n counts every event appended (registrations and purchases) to keep event ids unique.
  const rows = simulateBgNbd(
    { r: 0.5, alpha: 5, a: 0.8, b: 2.5 },
    options.customers,
    (_, u) => 26 + 13 * u(),
    options.seed,
  );
  const u = seededUniform(options.seed + 1);
  const endMs = Date.parse(`${options.observationEnd}T12:00:00Z`);
  let n = 0;
  for (const [i, r] of rows.entries()) {
    const customerId = `sim-${options.seed}-${i}`;
    const firstMs = endMs - Math.round(r.T * 7) * 86_400_000;
    const at = (weeks: number) => new Date(firstMs + Math.round(weeks * 7) * 86_400_000).toISOString();
    const nu = sampleGamma(4, u) / 15;
    const events: RawEnvelope[] = [];
    const purchase = (occurredAt: string): RawEnvelope => {
      n++;
      return {
        eventId: `00000000-0000-4000-8000-${(options.seed * 1_000_000 + n).toString(16).padStart(12, '0')}`,
        type: 'PurchaseMade',
        schemaVersion: 1,
        customerId,
        occurredAt,
        data: {
          orderId: `o${n}`,
          amount: { amountMinor: Math.max(1, Math.round((100 * sampleGamma(6, u)) / nu)), currency: 'USD' },
        },
      };
    };
    n++;
    events.push({
      eventId: `00000000-0000-4000-8000-${(options.seed * 1_000_000 + n).toString(16).padStart(12, '0')}`,
      type: 'CustomerRegistered',
      schemaVersion: 1,
      customerId,
      occurredAt: at(0),
      data: { segment: i % 3 === 0 ? 'B2B' : 'B2C', acquisitionChannel: ACQUISITION_CHANNELS[0] },
    });
    events.push(purchase(at(0)));
    for (let k = 1; k <= r.frequency; k++) events.push(purchase(at((r.recency * k) / r.frequency)));
    const appended = await store.append(customerStream(customerId), events);
    if (appended._tag === 'Left') throw new Error(`append failed: ${appended.left.type}`);
  }
  return { purchases: n - rows.length };
}
