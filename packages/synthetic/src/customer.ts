import type { RawEnvelope } from '@crm-ledger/events';
import { Rng, uuidFor } from './rng.js';
import * as V from './vocabulary.js';
import { clamp, customerIdOf, DAY, HOUR, type Context } from './context.js';

export interface Draft {
  t: number;
  seq: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  eventId: string;
  correlationId?: string;
  causationId?: string;
  source: string;
}

/**
 * One customer being drafted: its traits (drawn from its own PRNG stream), the events drafted so far, and the
 * small helpers every part of its story uses. The story itself is told by relationship.ts, b2b.ts, b2c.ts and
 * interactions.ts; generate.ts puts it together. The order of the draws is the output: keep it.
 */
export class Customer {
  readonly rng: Rng;
  readonly id: string;
  readonly drafts: Draft[] = [];
  private counter = 0;
  readonly b2b: boolean;
  /** Latent satisfaction in [-1, 1]: drives NPS, sentiment, churn. */
  readonly happiness: number;
  readonly budget: number;
  readonly signup: number;
  /** After this instant the customer does nothing (silent, churned, or simply the end of the history). */
  activeEnd: number;
  readonly country: (typeof V.COUNTRIES)[number];
  readonly name: { first: string; last: string };
  tickets = 0;
  orders: { orderId: string; t: number; amountMinor: number }[] = [];
  readonly adopted = new Set<string>();
  /** The customer's typical order value relative to the population's (B2C purchases, set in b2cLife). */
  spendScale = 1;

  constructor(
    readonly ctx: Context,
    readonly index: number,
  ) {
    this.rng = new Rng(ctx.seed, index);
    this.id = customerIdOf(index);
    const r = this.rng;
    this.b2b = r.chance(0.3);
    this.happiness = clamp(0.35 + 0.45 * r.normal(), -1, 1);
    // Heterogeneous activity (gamma, shape 2): B2B accounts weigh ~1.8x a B2C customer, mean 1 overall.
    const weight = (this.b2b ? 1.8 : 0.657) * (r.gamma(2) / 2);
    this.budget = Math.max(3, Math.min(200_000, Math.round(ctx.average * weight)));
    const span = ctx.end - ctx.start;
    // More customers joined recently than at the start (growth), none in the last 30 days.
    this.signup = ctx.start + Math.floor(Math.pow(r.next(), 0.8) * (span - 30 * DAY));
    this.activeEnd = ctx.end;
    this.country = r.weighted(V.COUNTRIES, V.COUNTRY_WEIGHTS);
    this.name = { first: r.pick(V.FIRST_NAMES), last: r.pick(V.LAST_NAMES) };
  }

  envelope(d: Draft): RawEnvelope {
    const e: RawEnvelope = {
      eventId: d.eventId,
      type: d.type,
      schemaVersion: d.schemaVersion,
      customerId: this.id,
      occurredAt: new Date(d.t).toISOString(),
      data: d.data,
    };
    if (d.correlationId !== undefined) e.correlationId = d.correlationId;
    if (d.causationId !== undefined) e.causationId = d.causationId;
    e.source = d.source;
    return e;
  }

  add(
    t: number,
    type: string,
    data: unknown,
    source: string,
    extra: { correlationId?: string; causationId?: string; schemaVersion?: number } = {},
  ): string {
    const eventId = uuidFor(this.rng, this.index, this.counter);
    const draft: Draft = {
      t: Math.floor(t),
      seq: this.counter++,
      type,
      schemaVersion: extra.schemaVersion ?? 1,
      data,
      eventId,
      source,
    };
    if (extra.correlationId !== undefined) draft.correlationId = extra.correlationId;
    if (extra.causationId !== undefined) draft.causationId = extra.causationId;
    this.drafts.push(draft);
    return eventId;
  }

  activeSpan(): number {
    return Math.max(HOUR, this.activeEnd - this.signup);
  }

  /** A random instant while the customer is active. */
  someTime(): number {
    return this.signup + HOUR + this.rng.next() * Math.max(HOUR, this.activeEnd - this.signup - HOUR);
  }

  money(usd: number): { amountMinor: number; currency: string } {
    const factor = V.PRICE_FACTOR[this.country.currency] ?? 100;
    return { amountMinor: Math.max(1, Math.round(usd * factor)), currency: this.country.currency };
  }

  email(): string {
    const { first, last } = this.name;
    const domain = V.EMAIL_DOMAINS[this.index % V.EMAIL_DOMAINS.length]!;
    return `${first}.${last}.${this.index}@${domain}`.toLowerCase();
  }

  phone(): string {
    return `${this.country.phone} ${String(this.rng.between(1000, 9999))}`;
  }
}
