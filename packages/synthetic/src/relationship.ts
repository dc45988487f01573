import { emptyRecord } from '@crm-ledger/events';
import * as V from './vocabulary.js';
import type { Customer } from './customer.js';
import { DAY } from './context.js';

/** The relationship itself: registration, profile updates, erasure. */

export function register(c: Customer): void {
  const r = c.rng;
  const channels = c.b2b
    ? (['outbound_sales', 'partner', 'event', 'referral', 'organic_search', 'paid_search'] as const)
    : ([
        'organic_search',
        'paid_search',
        'social',
        'direct',
        'email_campaign',
        'referral',
        'marketplace',
      ] as const);
  const data: Record<string, unknown> = {
    segment: c.b2b ? 'B2B' : 'B2C',
    acquisitionChannel: r.pick(channels),
    name: `${c.name.first} ${c.name.last}`,
    email: c.email(),
    country: c.country.code,
  };
  if (r.chance(0.6)) data.phone = c.phone();
  if (c.b2b) {
    data.companyName = `${r.pick(V.COMPANY_WORDS)} ${r.pick(V.COMPANY_NOUNS)} ${r.pick(V.COMPANY_SUFFIXES)}`;
  }
  c.add(c.signup, 'CustomerRegistered', data, c.b2b ? 'salesforce' : 'shop');
}

export function profileUpdate(c: Customer, t: number): void {
  const r = c.rng;
  const data = emptyRecord<unknown>();
  const what = r.int(4);
  if (what === 0)
    data.email = `${c.name.first}.${c.name.last}.${c.index}.${r.int(100)}@example.net`.toLowerCase();
  else if (what === 1) data.phone = c.phone();
  else if (what === 2 && c.b2b)
    data.companyName = `${r.pick(V.COMPANY_WORDS)} ${r.pick(V.COMPANY_NOUNS)} Group`;
  else {
    c.name.last = r.pick(V.LAST_NAMES);
    data.name = `${c.name.first} ${c.name.last}`;
  }
  c.add(t, 'CustomerProfileUpdated', data, c.b2b ? 'salesforce' : 'shop');
}

export function erasure(c: Customer): number {
  const r = c.rng;
  const from = Math.min(c.activeEnd, c.ctx.end - DAY);
  const t = from + r.next() * (c.ctx.end - from);
  const reason = r.weighted(['customer_request', 'retention_policy', 'legal_order'] as const, [80, 15, 5]);
  c.add(t, 'CustomerErased', { reason, requestedBy: 'privacy-team' }, 'privacy-portal');
  return Math.floor(t);
}
