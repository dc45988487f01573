import { ONBOARDING_MILESTONES, type RawEnvelope } from '@crm-ledger/events';
import { Rng, uuidFor } from './rng.js';
import * as V from './vocabulary.js';

export interface GenerateOptions {
  /** Same seed, same options: byte-identical output. */
  readonly seed: number;
  readonly customers: number;
  /** About how many events in total (within a few percent), default `customers * 100`. */
  readonly targetEvents?: number;
  /** First instant of the history (ISO-8601), default 2023-01-01T00:00:00Z. */
  readonly start?: string;
  /** Last instant of the history (ISO-8601), default 2025-12-31T23:59:59Z. */
  readonly end?: string;
}

export interface CustomerHistory {
  readonly customerId: string;
  /** The customer's events, sorted by `occurredAt`. */
  readonly events: RawEnvelope[];
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Customer ids look like `c-000123`. */
export function customerIdOf(index: number): string {
  return `c-${String(index).padStart(6, '0')}`;
}

/**
 * Generates `customers` customer histories, lazily: one customer at a time, in constant memory.
 * Each customer draws from its own PRNG stream (seed, index), so histories are independent and
 * `generateCustomer(options, i)` gives the same history as the i-th item of the iteration.
 */
export function* generateHistory(options: GenerateOptions): Generator<CustomerHistory, void, undefined> {
  const ctx = contextOf(options);
  for (let i = 1; i <= options.customers; i++) yield new CustomerBuilder(ctx, i).build();
}

/** The history of the customer with this index (1-based), as `generateHistory` would give it. */
export function generateCustomer(options: GenerateOptions, index: number): CustomerHistory {
  return new CustomerBuilder(contextOf(options), index).build();
}

interface Context {
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly average: number;
}

function contextOf(options: GenerateOptions): Context {
  const start = Date.parse(options.start ?? '2023-01-01T00:00:00Z');
  const end = Date.parse(options.end ?? '2025-12-31T23:59:59Z');
  if (!Number.isFinite(start) || !Number.isFinite(end) || end - start < 30 * DAY) {
    throw new RangeError('start and end must be ISO-8601 instants at least 30 days apart');
  }
  if (!Number.isInteger(options.customers) || options.customers < 0) {
    throw new RangeError('customers must be a non-negative integer');
  }
  const target = options.targetEvents ?? options.customers * 100;
  return {
    seed: options.seed | 0,
    start,
    end,
    average: options.customers === 0 ? 0 : target / options.customers,
  };
}

interface Draft {
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

/** Two decimals, and never -0 (JSON cannot tell -0 from 0, so a round trip would change it). */
const round2 = (x: number): number => Math.round(x * 100) / 100 + 0;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const isoDate = (t: number): string => new Date(t).toISOString().slice(0, 10);

function addMonths(t: number, months: number): number {
  const d = new Date(t);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}

class CustomerBuilder {
  private readonly rng: Rng;
  private readonly id: string;
  private readonly drafts: Draft[] = [];
  private counter = 0;
  private readonly b2b: boolean;
  /** Latent satisfaction in [-1, 1]: drives NPS, sentiment, churn. */
  private readonly happiness: number;
  private readonly budget: number;
  private readonly signup: number;
  /** After this instant the customer does nothing (silent, churned, or simply the end of the history). */
  private activeEnd: number;
  private readonly country: (typeof V.COUNTRIES)[number];
  private readonly name: { first: string; last: string };
  private tickets = 0;
  private orders: { orderId: string; t: number; amountMinor: number }[] = [];
  private readonly adopted = new Set<string>();

  constructor(
    private readonly ctx: Context,
    private readonly index: number,
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

  build(): CustomerHistory {
    const r = this.rng;
    this.register();
    if (this.b2b) this.b2bLife();
    else this.b2cLife();
    // Some customers go silent: they simply stop interacting well before the end.
    if (r.chance(0.06)) {
      const t = this.signup + (this.activeEnd - this.signup) * (0.3 + 0.5 * r.next());
      this.activeEnd = Math.min(this.activeEnd, t);
    }
    this.periodicSurveys();
    this.fill();
    const erasedAt = r.chance(0.005) ? this.erasure() : Infinity;
    const limit = Math.min(this.ctx.end, erasedAt);
    const kept = this.drafts.filter((d) => d.t <= limit && (d.t < erasedAt || d.type === 'CustomerErased'));
    kept.sort((a, b) => a.t - b.t || a.seq - b.seq);
    return { customerId: this.id, events: kept.map((d) => this.envelope(d)) };
  }

  private envelope(d: Draft): RawEnvelope {
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

  private add(
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

  private activeSpan(): number {
    return Math.max(HOUR, this.activeEnd - this.signup);
  }

  /** A random instant while the customer is active. */
  private someTime(): number {
    return this.signup + HOUR + this.rng.next() * Math.max(HOUR, this.activeEnd - this.signup - HOUR);
  }

  private money(usd: number): { amountMinor: number; currency: string } {
    const factor = V.PRICE_FACTOR[this.country.currency] ?? 100;
    return { amountMinor: Math.max(1, Math.round(usd * factor)), currency: this.country.currency };
  }

  private email(): string {
    const { first, last } = this.name;
    const domain = V.EMAIL_DOMAINS[this.index % V.EMAIL_DOMAINS.length]!;
    return `${first}.${last}.${this.index}@${domain}`.toLowerCase();
  }

  private phone(): string {
    return `${this.country.phone} ${String(this.rng.between(1000, 9999))}`;
  }

  // ---------------------------------------------------------------- relationship

  private register(): void {
    const r = this.rng;
    const channels = this.b2b
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
      segment: this.b2b ? 'B2B' : 'B2C',
      acquisitionChannel: r.pick(channels),
      name: `${this.name.first} ${this.name.last}`,
      email: this.email(),
      country: this.country.code,
    };
    if (r.chance(0.6)) data.phone = this.phone();
    if (this.b2b) {
      data.companyName = `${r.pick(V.COMPANY_WORDS)} ${r.pick(V.COMPANY_NOUNS)} ${r.pick(V.COMPANY_SUFFIXES)}`;
    }
    this.add(this.signup, 'CustomerRegistered', data, this.b2b ? 'salesforce' : 'shop');
  }

  private profileUpdate(t: number): void {
    const r = this.rng;
    const data: Record<string, unknown> = {};
    const what = r.int(4);
    if (what === 0)
      data.email =
        `${this.name.first}.${this.name.last}.${this.index}.${r.int(100)}@example.net`.toLowerCase();
    else if (what === 1) data.phone = this.phone();
    else if (what === 2 && this.b2b)
      data.companyName = `${r.pick(V.COMPANY_WORDS)} ${r.pick(V.COMPANY_NOUNS)} Group`;
    else {
      this.name.last = r.pick(V.LAST_NAMES);
      data.name = `${this.name.first} ${this.name.last}`;
    }
    this.add(t, 'CustomerProfileUpdated', data, this.b2b ? 'salesforce' : 'shop');
  }

  private erasure(): number {
    const r = this.rng;
    const from = Math.min(this.activeEnd, this.ctx.end - DAY);
    const t = from + r.next() * (this.ctx.end - from);
    const reason = r.weighted(['customer_request', 'retention_policy', 'legal_order'] as const, [80, 15, 5]);
    this.add(t, 'CustomerErased', { reason, requestedBy: 'privacy-team' }, 'privacy-portal');
    return Math.floor(t);
  }

  // ---------------------------------------------------------------- B2B

  private b2bLife(): void {
    const r = this.rng;
    const csm = `csm-${String(1 + (this.index % 40)).padStart(2, '0')}`;
    const subStart = this.signup + r.between(1, 14) * DAY + r.int(8 * HOUR);
    this.subscription(subStart, csm);
    this.onboarding(subStart, csm);
    this.criteria(subStart);
    const span = this.activeSpan();
    // Periodic outreach by the CSM: check-ins, business reviews, health checks, training offers.
    for (let t = subStart + r.between(30, 60) * DAY; t < this.activeEnd; t += r.between(35, 100) * DAY) {
      const kind = r.weighted(
        ['check_in', 'business_review', 'health_check', 'training_offer'] as const,
        [50, 20, 20, 10],
      );
      const data: Record<string, unknown> = {
        kind,
        by: csm,
        channel: r.weighted(['email', 'video', 'phone'] as const, [5, 3, 2]),
      };
      if (r.chance(0.3)) data.note = 'Discussed goals and open questions with the account team.';
      this.add(t, 'OutreachMade', data, 'salesforce');
    }
    // Feature adoption spreads over the first year or so.
    const features = Math.min(V.FEATURES.length, r.between(2, 6) + Math.floor(span / (120 * DAY)));
    for (let i = 0; i < features; i++) this.adopt(subStart + r.exp(90 * DAY));
    const trainings = r.int(3) + (r.chance(0.3) ? 1 : 0);
    for (let i = 0; i < trainings; i++) {
      this.add(
        subStart + r.exp(120 * DAY),
        'TrainingCompleted',
        { course: r.pick(V.COURSES), attendees: r.between(1, 40) },
        'lms',
      );
    }
    this.usage(subStart);
  }

  private subscription(start: number, csm: string): void {
    const r = this.rng;
    const subscriptionId = `sub-${this.id}-1`;
    let planIndex = r.weighted([0, 1, 2, 3], [40, 32, 20, 8]);
    let seatsFactor = 0.8 + 0.6 * r.next();
    const mrrOf = () => this.money(Math.round(V.B2B_PLANS[planIndex]!.mrrUsd * seatsFactor));
    const termMonths = r.weighted([1, 12, 24], [25, 60, 15]);
    let renewal = addMonths(start, termMonths);
    this.add(
      start,
      'SubscriptionStarted',
      {
        subscriptionId,
        plan: V.B2B_PLANS[planIndex]!.plan,
        mrr: mrrOf(),
        termMonths,
        renewalDate: isoDate(renewal),
      },
      'billing',
      { correlationId: subscriptionId },
    );
    const annualChurn = clamp(0.18 - 0.25 * this.happiness, 0.04, 0.5);
    let t = start;
    while (renewal <= this.ctx.end) {
      // Expansion and contraction between renewals, more likely for happy / unhappy accounts.
      const months = (renewal - t) / (30 * DAY);
      if (r.chance(clamp((0.03 + 0.05 * this.happiness) * months, 0, 0.8))) {
        planIndex = Math.min(3, planIndex + (r.chance(0.4) ? 1 : 0));
        seatsFactor *= 1.1 + 0.4 * r.next();
        const data: Record<string, unknown> = {
          subscriptionId,
          mrr: mrrOf(),
          reason: r.pick(V.EXPANSION_REASONS),
        };
        if (r.chance(0.3)) data.plan = V.B2B_PLANS[planIndex]!.plan;
        this.add(t + r.next() * (renewal - t), 'SubscriptionExpanded', data, 'billing', {
          correlationId: subscriptionId,
        });
      }
      if (r.chance(clamp((0.02 - 0.02 * this.happiness) * months, 0.01, 0.5))) {
        seatsFactor *= 0.6 + 0.3 * r.next();
        const data: Record<string, unknown> = {
          subscriptionId,
          mrr: mrrOf(),
          reason: r.pick(V.CONTRACTION_REASONS),
        };
        this.add(t + r.next() * (renewal - t), 'SubscriptionContracted', data, 'billing', {
          correlationId: subscriptionId,
        });
      }
      if (termMonths >= 12) {
        this.add(
          renewal - r.between(20, 45) * DAY,
          'OutreachMade',
          { kind: 'renewal_call', by: csm, channel: 'video' },
          'salesforce',
        );
      }
      const pChurn = 1 - Math.pow(1 - annualChurn, termMonths / 12);
      if (r.chance(pChurn)) {
        const reason = r.weighted(
          [
            'price',
            'missing_feature',
            'poor_support',
            'switched_competitor',
            'no_longer_needed',
            'business_closed',
            'payment_failed',
            'other',
          ] as const,
          [20, 15, this.happiness < 0 ? 25 : 6, 15, 12, 5, 5, 5],
        );
        this.add(
          renewal - r.between(3, 30) * DAY,
          'SubscriptionCancelled',
          { subscriptionId, reason, effectiveDate: isoDate(renewal) },
          'billing',
          {
            correlationId: subscriptionId,
          },
        );
        this.activeEnd = Math.min(this.activeEnd, renewal + r.between(0, 20) * DAY);
        return;
      }
      t = renewal;
      renewal = addMonths(renewal, termMonths);
      const data: Record<string, unknown> = { subscriptionId, termMonths, renewalDate: isoDate(renewal) };
      if (r.chance(0.5)) data.mrr = mrrOf();
      this.add(t, 'SubscriptionRenewed', data, 'billing', { correlationId: subscriptionId });
    }
  }

  private onboarding(start: number, csm: string): void {
    const r = this.rng;
    this.add(
      start + r.between(1, 5) * DAY,
      'OutreachMade',
      { kind: 'onboarding_call', by: csm, channel: 'video' },
      'salesforce',
    );
    // Most accounts get far, some stall midway (onboarding progress is a success metric).
    const reached = r.weighted([1, 2, 3, 4, 5, 6], [4, 5, 8, 10, 13, 60]);
    let t = start;
    for (let i = 0; i < reached; i++) {
      t += r.exp(8 * DAY) + HOUR;
      this.add(t, 'OnboardingMilestoneReached', { milestone: ONBOARDING_MILESTONES[i]! }, 'product');
    }
  }

  private criteria(start: number): void {
    const r = this.rng;
    const count = r.between(1, 4);
    const used = new Set<number>();
    for (let i = 0; i < count; i++) {
      let k = r.int(V.CRITERIA.length);
      while (used.has(k)) k = (k + 1) % V.CRITERIA.length;
      used.add(k);
      const criterionId = `sc-${this.id}-${i + 1}`;
      const defined = start + r.between(3, 60) * DAY;
      const target = defined + r.between(60, 240) * DAY;
      this.add(
        defined,
        'SuccessCriterionDefined',
        { criterionId, description: V.CRITERIA[k]!, targetDate: isoDate(target) },
        'salesforce',
        {
          correlationId: criterionId,
        },
      );
      // Achieved (on time or late) or never: the rest become overdue.
      if (r.chance(0.45 + 0.25 * this.happiness)) {
        const at = defined + (target - defined) * (0.3 + 0.9 * r.next());
        const data: Record<string, unknown> = { criterionId };
        if (r.chance(0.5)) data.evidence = 'Confirmed in the quarterly business review';
        this.add(at, 'OutcomeAchieved', data, 'salesforce', { correlationId: criterionId });
      }
    }
  }

  private adopt(t: number): void {
    const r = this.rng;
    let k = r.int(V.FEATURES.length);
    for (let n = 0; n < V.FEATURES.length && this.adopted.has(V.FEATURES[k]!); n++)
      k = (k + 1) % V.FEATURES.length;
    const feature = V.FEATURES[k]!;
    if (this.adopted.has(feature)) return;
    this.adopted.add(feature);
    this.add(t, 'FeatureAdopted', { feature }, 'product');
  }

  /** Usage records over consecutive periods: about a quarter of a B2B account's events. */
  private usage(start: number): void {
    const r = this.rng;
    const span = this.activeEnd - start;
    if (span < 7 * DAY) return;
    const count = Math.max(1, Math.min(Math.floor(span / DAY), Math.round(this.budget * 0.25)));
    const period = Math.floor(span / count);
    const seats = 5 + Math.floor(r.gamma(1.5) * 30);
    let trend = 0.3 + 0.2 * r.next();
    const features = [...this.adopted];
    for (let i = 0; i < count; i++) {
      const periodStart = start + i * period;
      const periodEnd = periodStart + period - 1000;
      trend = clamp(trend + 0.03 * r.normal() + 0.01 * this.happiness, 0.02, 1);
      const activeUsers = Math.round(seats * trend);
      const data: Record<string, unknown> = {
        periodStart: new Date(periodStart).toISOString(),
        periodEnd: new Date(periodEnd).toISOString(),
        activeUsers,
        sessions: Math.round(activeUsers * (period / DAY) * (0.5 + r.next())),
      };
      if (features.length > 0 && r.chance(0.3)) data.feature = r.pick(features);
      this.add(periodEnd + r.between(1, 120) * MIN, 'UsageRecorded', data, 'product');
    }
  }

  // ---------------------------------------------------------------- B2C

  private b2cLife(): void {
    const r = this.rng;
    // Pareto/NBD-like: an exponential lifetime (dropout) and Poisson purchases at a
    // customer-specific rate while alive; the rate's heterogeneity comes from the gamma budget.
    const lifetime = r.exp((r.gamma(2) / 2) * 700 * DAY);
    this.activeEnd = Math.min(this.activeEnd, this.signup + lifetime + DAY);
    const purchases = Math.max(1, this.budget * 0.3);
    const rate = purchases / this.activeSpan();
    let t = this.signup + (r.chance(0.7) ? r.between(1, 50) * MIN : r.exp(20 * DAY));
    while (t <= this.activeEnd) {
      this.purchase(t);
      t += r.exp(1 / rate);
    }
  }

  private purchase(t: number): void {
    const r = this.rng;
    const orderId = `o-${this.id}-${this.orders.length + 1}`;
    const amount = this.money(Math.round(Math.exp(3.4 + 0.8 * r.normal()) * 100) / 100);
    const data: Record<string, unknown> = { orderId, amount };
    if (r.chance(0.6)) data.quantity = r.weighted([1, 2, 3, 4, 6], [60, 20, 10, 6, 4]);
    if (r.chance(0.8))
      data.channel = r.weighted(['web', 'mobile_app', 'in_person', 'phone'] as const, [55, 30, 12, 3]);
    const purchaseId = this.add(t, 'PurchaseMade', data, 'shop', { correlationId: orderId });
    this.orders.push({ orderId, t, amountMinor: amount.amountMinor });
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
      this.add(t + r.between(1, 30) * DAY, 'RefundIssued', refund, 'shop', {
        correlationId: orderId,
        causationId: purchaseId,
      });
    }
  }

  // ---------------------------------------------------------------- service, experience, shared

  private periodicSurveys(): void {
    const r = this.rng;
    // NPS about quarterly, answered some of the time.
    for (let t = this.signup + r.between(30, 100) * DAY; t < this.activeEnd; t += r.between(75, 110) * DAY) {
      if (!r.chance(0.4)) continue;
      const score = Math.round(clamp(7 + 3.5 * this.happiness + 1.5 * r.normal(), 0, 10));
      const data: Record<string, unknown> = {
        kind: 'NPS',
        score,
        surveyId: `nps-${isoDate(t).slice(0, 7)}`,
        channel: r.weighted(['email', 'web', 'mobile_app'] as const, [6, 3, 1]),
      };
      if (r.chance(0.2))
        data.comment = score >= 9 ? r.pick(V.FEEDBACK_POSITIVE) : r.pick(V.FEEDBACK_NEGATIVE);
      this.add(t, 'SurveyAnswered', data, 'qualtrics');
    }
  }

  /** Fills the customer's remaining budget with tickets, touchpoints, feedback and the odd profile update. */
  private fill(): void {
    const r = this.rng;
    const ticketWeight = this.b2b ? 10 : 6;
    let guard = 0;
    while (this.drafts.length < this.budget && guard++ < 1_000_000) {
      const t = this.someTime();
      const what = r.weighted(['ticket', 'touchpoint', 'feedback', 'profile', 'adopt'] as const, [
        ticketWeight,
        62,
        3,
        0.4,
        this.b2b ? 1 : 0,
      ]);
      switch (what) {
        case 'ticket':
          this.ticket(t);
          break;
        case 'touchpoint':
          this.touchpoint(t);
          break;
        case 'feedback':
          this.feedback(t);
          break;
        case 'profile':
          this.profileUpdate(t);
          break;
        case 'adopt':
          if (this.adopted.size < V.FEATURES.length) this.adopt(t);
          else this.touchpoint(t);
          break;
      }
    }
  }

  private touchpoint(t: number): void {
    const r = this.rng;
    const tp = this.b2b
      ? r.weighted(V.B2B_TOUCHPOINTS, V.B2B_TOUCHPOINT_WEIGHTS)
      : r.weighted(V.B2C_TOUCHPOINTS, V.B2C_TOUCHPOINT_WEIGHTS);
    const data: Record<string, unknown> = { touchpoint: tp.touchpoint, channel: tp.channel };
    // Pain points: checkout and phone menus feel worse than the rest.
    const pain = tp.touchpoint.includes('checkout') || tp.touchpoint === 'ivr-menu' ? 0.35 : 0;
    const sentiment = clamp(0.25 * this.happiness + 0.35 * r.normal() - pain, -1, 1);
    if (r.chance(0.4)) data.sentiment = round2(sentiment);
    if (r.chance(0.25)) data.effort = Math.round(clamp(3 - 2 * sentiment + r.normal(), 1, 7));
    if (r.chance(0.7)) data.durationSeconds = Math.round(r.exp(tp.channel === 'in_person' ? 900 : 120));
    this.add(
      t,
      'TouchpointInteracted',
      data,
      tp.channel === 'mobile_app' ? 'mobile-analytics' : 'web-analytics',
    );
    if (r.chance(0.04)) {
      const score = Math.round(clamp(5 + 1.5 * sentiment + r.normal(), 1, 7));
      this.add(
        t + r.between(1, 30) * MIN,
        'SurveyAnswered',
        {
          kind: 'CES',
          score,
          surveyId: `ces-${tp.touchpoint}`,
          touchpoint: tp.touchpoint,
          channel: tp.channel,
        },
        'qualtrics',
      );
    }
  }

  private feedback(t: number): void {
    const r = this.rng;
    const sentiment = clamp(0.4 * this.happiness + 0.5 * r.normal(), -1, 1);
    const data: Record<string, unknown> = {
      channel: r.weighted(['email', 'social', 'web', 'mobile_app', 'community'] as const, [3, 3, 3, 2, 1]),
      topic: r.pick(V.FEEDBACK_TOPICS),
      sentiment: round2(sentiment),
    };
    if (r.chance(0.7)) data.text = sentiment >= 0 ? r.pick(V.FEEDBACK_POSITIVE) : r.pick(V.FEEDBACK_NEGATIVE);
    this.add(t, 'FeedbackGiven', data, r.pick(['trustpilot', 'app-store', 'web-form'] as const));
  }

  private ticket(opened: number): void {
    const r = this.rng;
    const ticketId = `t-${this.id}-${++this.tickets}`;
    const category = this.b2b
      ? r.weighted(V.B2B_CATEGORIES, V.B2B_CATEGORY_WEIGHTS)
      : r.weighted(V.B2C_CATEGORIES, V.B2C_CATEGORY_WEIGHTS);
    const channel = r.weighted(['email', 'chat', 'phone', 'web', 'social'] as const, [35, 30, 15, 15, 5]);
    const priority = r.weighted(['low', 'normal', 'high', 'urgent'] as const, [25, 45, 22, 8]);
    const sla = SLA[priority];
    const data: Record<string, unknown> = { ticketId, channel, category };
    if (r.chance(0.9)) data.slaPolicy = { name: `${this.b2b ? 'b2b' : 'b2c'}-${priority}`, ...sla };
    if (r.chance(0.6)) data.subject = r.pick(V.SUBJECTS[category] ?? ['Help needed']);
    // A few tickets come from an older integration that still sends version 1 (no priority).
    const v1 = r.chance(0.03);
    if (!v1) data.priority = priority;
    const meta = { correlationId: ticketId };
    this.add(opened, 'TicketOpened', data, 'zendesk', { ...meta, schemaVersion: v1 ? 1 : 2 });
    const agent = `agent-${String(1 + r.int(60)).padStart(2, '0')}`;
    // First reply: sooner for urgent tickets; sometimes late, which breaches the SLA.
    let t = opened + r.exp(sla.firstReplyMinutes * MIN * 0.6) + MIN;
    this.reply(t, ticketId, 'agent', agent, channel);
    const exchanges = r.weighted([0, 1, 2, 3, 4], [30, 30, 20, 12, 8]);
    for (let i = 0; i < exchanges; i++) {
      t += r.exp(6 * HOUR) + MIN;
      this.reply(t, ticketId, 'customer', undefined, channel);
      t += r.exp(sla.firstReplyMinutes * MIN) + MIN;
      this.reply(t, ticketId, 'agent', agent, channel);
    }
    if (r.chance(priority === 'urgent' ? 0.25 : priority === 'high' ? 0.12 : 0.04)) {
      t += r.exp(4 * HOUR) + MIN;
      this.add(
        t,
        'TicketEscalated',
        { ticketId, toTier: r.chance(0.8) ? 2 : 3, reason: r.pick(V.ESCALATION_REASONS) },
        'zendesk',
        meta,
      );
    }
    t += r.exp(sla.resolutionMinutes * MIN * 0.5) + MIN;
    const resolution = r.weighted(
      ['solved', 'workaround', 'duplicate', 'wont_fix', 'no_response'] as const,
      [70, 12, 5, 5, 8],
    );
    let resolvedId = this.add(t, 'TicketResolved', { ticketId, resolution, agentId: agent }, 'zendesk', meta);
    if (r.chance(0.06)) {
      t += r.exp(3 * DAY) + HOUR;
      this.add(t, 'TicketReopened', { ticketId, reason: r.pick(V.REOPEN_REASONS) }, 'zendesk', meta);
      t += r.exp(sla.firstReplyMinutes * MIN) + MIN;
      this.reply(t, ticketId, 'agent', agent, channel);
      t += r.exp(sla.resolutionMinutes * MIN * 0.5) + MIN;
      resolvedId = this.add(
        t,
        'TicketResolved',
        { ticketId, resolution: 'solved', agentId: agent },
        'zendesk',
        meta,
      );
    }
    if (r.chance(0.35)) {
      const slow = t - opened > sla.resolutionMinutes * MIN ? 1 : 0;
      const score = Math.round(clamp(4 + this.happiness - slow + 0.8 * r.normal(), 1, 5));
      const survey: Record<string, unknown> = {
        kind: 'CSAT',
        score,
        surveyId: 'csat-ticket',
        ticketId,
        channel: 'email',
      };
      if (r.chance(0.15))
        survey.comment = score >= 4 ? 'Quick and helpful answer.' : 'It took far too long to get this fixed.';
      this.add(t + r.between(10, 600) * MIN, 'SurveyAnswered', survey, 'qualtrics', {
        correlationId: ticketId,
        causationId: resolvedId,
      });
    }
  }

  private reply(
    t: number,
    ticketId: string,
    by: 'agent' | 'customer',
    agentId: string | undefined,
    channel: string,
  ): void {
    const r = this.rng;
    const data: Record<string, unknown> = { ticketId, by };
    if (agentId !== undefined) data.agentId = agentId;
    if (r.chance(0.5)) data.channel = channel;
    if (r.chance(0.3))
      data.body = by === 'agent' ? r.pick(V.REPLY_BODIES_AGENT) : r.pick(V.REPLY_BODIES_CUSTOMER);
    this.add(t, 'TicketReplied', data, 'zendesk', { correlationId: ticketId });
  }
}

/** Service-level targets per priority, in minutes. */
const SLA = {
  urgent: { firstReplyMinutes: 15, resolutionMinutes: 240 },
  high: { firstReplyMinutes: 60, resolutionMinutes: 1_440 },
  normal: { firstReplyMinutes: 240, resolutionMinutes: 4_320 },
  low: { firstReplyMinutes: 720, resolutionMinutes: 10_080 },
} as const;
