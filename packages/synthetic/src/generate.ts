import { b2bLife } from './b2b.js';
import { b2cLife } from './b2c.js';
import { contextOf, type CustomerHistory, type GenerateOptions } from './context.js';
import { Customer } from './customer.js';
import { fill, periodicSurveys } from './interactions.js';
import { erasure, register } from './relationship.js';

export { customerIdOf, type CustomerHistory, type GenerateOptions } from './context.js';

/**
 * Generates `customers` customer histories, lazily: one customer at a time, in constant memory.
 * Each customer draws from its own PRNG stream (seed, index), so histories are independent and
 * `generateCustomer(options, i)` gives the same history as the i-th item of the iteration.
 */
export function* generateHistory(options: GenerateOptions): Generator<CustomerHistory, void, undefined> {
  const ctx = contextOf(options);
  for (let i = 1; i <= options.customers; i++) yield build(new Customer(ctx, i));
}

/** The history of the customer with this index (1-based), as `generateHistory` would give it. */
export function generateCustomer(options: GenerateOptions, index: number): CustomerHistory {
  return build(new Customer(contextOf(options), index));
}

/** A customer's whole story, then its events up to the end of the history (or its erasure), in time order. */
function build(c: Customer): CustomerHistory {
  const r = c.rng;
  register(c);
  if (c.b2b) b2bLife(c);
  else b2cLife(c);
  // Some customers go silent: they simply stop interacting well before the end.
  if (r.chance(0.06)) {
    const t = c.signup + (c.activeEnd - c.signup) * (0.3 + 0.5 * r.next());
    c.activeEnd = Math.min(c.activeEnd, t);
  }
  periodicSurveys(c);
  fill(c);
  const erasedAt = r.chance(0.005) ? erasure(c) : Infinity;
  const limit = Math.min(c.ctx.end, erasedAt);
  const kept = c.drafts.filter((d) => d.t <= limit && (d.t < erasedAt || d.type === 'CustomerErased'));
  kept.sort((a, b) => a.t - b.t || a.seq - b.seq);
  return { customerId: c.id, events: kept.map((d) => c.envelope(d)) };
}
