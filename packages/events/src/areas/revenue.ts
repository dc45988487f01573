import { z } from 'zod';
import { defineEvent } from '../define.js';
import { CalendarDate, Channel, Id, Money, PersonalShortText, ProductName } from '../primitives.js';

export const PurchaseMade = defineEvent({
  type: 'PurchaseMade',
  area: 'revenue',
  description: 'A one-off purchase (an order) was paid',
  latest: z.strictObject({
    orderId: Id,
    amount: Money,
    quantity: z.int().min(1).max(1_000_000).optional(),
    channel: Channel.optional(),
  }),
});

export const RefundIssued = defineEvent({
  type: 'RefundIssued',
  area: 'revenue',
  description: 'Money was given back for an order (a correction is a new event, never an edit)',
  latest: z.strictObject({
    refundId: Id,
    orderId: Id,
    amount: Money,
    reason: PersonalShortText.optional(),
  }),
});

const Mrr = Money.describe('Monthly recurring revenue after this event');

export const SubscriptionStarted = defineEvent({
  type: 'SubscriptionStarted',
  area: 'revenue',
  description: 'A subscription began: plan, MRR, term and first renewal date',
  latest: z.strictObject({
    subscriptionId: Id,
    plan: ProductName,
    mrr: Mrr,
    termMonths: z.int().min(1).max(120),
    renewalDate: CalendarDate,
  }),
});

export const SubscriptionRenewed = defineEvent({
  type: 'SubscriptionRenewed',
  area: 'revenue',
  description: 'A subscription renewed for another term',
  latest: z.strictObject({
    subscriptionId: Id,
    termMonths: z.int().min(1).max(120),
    renewalDate: CalendarDate.describe('The next renewal date'),
    mrr: Mrr.optional(),
  }),
});

export const SubscriptionExpanded = defineEvent({
  type: 'SubscriptionExpanded',
  area: 'revenue',
  description: 'A subscription grew (seats, plan upgrade): the new MRR',
  latest: z.strictObject({
    subscriptionId: Id,
    mrr: Mrr,
    plan: ProductName.optional(),
    reason: PersonalShortText.optional(),
  }),
});

export const SubscriptionContracted = defineEvent({
  type: 'SubscriptionContracted',
  area: 'revenue',
  description: 'A subscription shrank (fewer seats, downgrade): the new MRR',
  latest: z.strictObject({
    subscriptionId: Id,
    mrr: Mrr,
    plan: ProductName.optional(),
    reason: PersonalShortText.optional(),
  }),
});

export const CANCELLATION_REASONS = [
  'price',
  'missing_feature',
  'poor_support',
  'switched_competitor',
  'no_longer_needed',
  'business_closed',
  'payment_failed',
  'other',
] as const;

export const SubscriptionCancelled = defineEvent({
  type: 'SubscriptionCancelled',
  area: 'revenue',
  description: 'A subscription was cancelled, with the reason',
  latest: z.strictObject({
    subscriptionId: Id,
    reason: z.enum(CANCELLATION_REASONS),
    effectiveDate: CalendarDate.optional(),
  }),
});
