import { CANCELLATION_REASONS, ONBOARDING_MILESTONES } from '@crm-ledger/events';
import * as V from './vocabulary.js';
import type { Customer } from './customer.js';
import { addMonths, clamp, DAY, HOUR, isoDate, MIN } from './context.js';

/** A B2B account's life: subscription and renewals, onboarding, success criteria, outreach, adoption, usage. */

export function b2bLife(c: Customer): void {
  const r = c.rng;
  const csm = `csm-${String(1 + (c.index % 40)).padStart(2, '0')}`;
  const subStart = c.signup + r.between(1, 14) * DAY + r.int(8 * HOUR);
  subscription(c, subStart, csm);
  onboarding(c, subStart, csm);
  criteria(c, subStart);
  const span = c.activeSpan();
  // Periodic outreach by the CSM: check-ins, business reviews, health checks, training offers.
  for (let t = subStart + r.between(30, 60) * DAY; t < c.activeEnd; t += r.between(35, 100) * DAY) {
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
    c.add(t, 'OutreachMade', data, 'salesforce');
  }
  // Feature adoption spreads over the first year or so.
  const features = Math.min(V.FEATURES.length, r.between(2, 6) + Math.floor(span / (120 * DAY)));
  for (let i = 0; i < features; i++) adopt(c, subStart + r.exp(90 * DAY));
  const trainings = r.int(3) + (r.chance(0.3) ? 1 : 0);
  for (let i = 0; i < trainings; i++) {
    c.add(
      subStart + r.exp(120 * DAY),
      'TrainingCompleted',
      { course: r.pick(V.COURSES), attendees: r.between(1, 40) },
      'lms',
    );
  }
  usage(c, subStart);
}

function subscription(c: Customer, start: number, csm: string): void {
  const r = c.rng;
  const subscriptionId = `sub-${c.id}-1`;
  let planIndex = r.weighted([0, 1, 2, 3], [40, 32, 20, 8]);
  let seatsFactor = 0.8 + 0.6 * r.next();
  const mrrOf = () => c.money(Math.round(V.B2B_PLANS[planIndex]!.mrrUsd * seatsFactor));
  const termMonths = r.weighted([1, 12, 24], [25, 60, 15]);
  let renewal = addMonths(start, termMonths);
  c.add(
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
  const annualChurn = clamp(0.18 - 0.25 * c.happiness, 0.04, 0.5);
  let t = start;
  while (renewal <= c.ctx.end) {
    // Expansion and contraction between renewals, more likely for happy / unhappy accounts.
    const months = (renewal - t) / (30 * DAY);
    if (r.chance(clamp((0.03 + 0.05 * c.happiness) * months, 0, 0.8))) {
      planIndex = Math.min(3, planIndex + (r.chance(0.4) ? 1 : 0));
      seatsFactor *= 1.1 + 0.4 * r.next();
      const data: Record<string, unknown> = {
        subscriptionId,
        mrr: mrrOf(),
        reason: r.pick(V.EXPANSION_REASONS),
      };
      if (r.chance(0.3)) data.plan = V.B2B_PLANS[planIndex]!.plan;
      c.add(t + r.next() * (renewal - t), 'SubscriptionExpanded', data, 'billing', {
        correlationId: subscriptionId,
      });
    }
    if (r.chance(clamp((0.02 - 0.02 * c.happiness) * months, 0.01, 0.5))) {
      seatsFactor *= 0.6 + 0.3 * r.next();
      const data: Record<string, unknown> = {
        subscriptionId,
        mrr: mrrOf(),
        reason: r.pick(V.CONTRACTION_REASONS),
      };
      c.add(t + r.next() * (renewal - t), 'SubscriptionContracted', data, 'billing', {
        correlationId: subscriptionId,
      });
    }
    if (termMonths >= 12) {
      c.add(
        renewal - r.between(20, 45) * DAY,
        'OutreachMade',
        { kind: 'renewal_call', by: csm, channel: 'video' },
        'salesforce',
      );
    }
    const pChurn = 1 - Math.pow(1 - annualChurn, termMonths / 12);
    if (r.chance(pChurn)) {
      // Weights in the catalogue's order: price, missing_feature, poor_support, switched_competitor,
      // no_longer_needed, business_closed, payment_failed, other.
      const reason = r.weighted(CANCELLATION_REASONS, [20, 15, c.happiness < 0 ? 25 : 6, 15, 12, 5, 5, 5]);
      c.add(
        renewal - r.between(3, 30) * DAY,
        'SubscriptionCancelled',
        { subscriptionId, reason, effectiveDate: isoDate(renewal) },
        'billing',
        {
          correlationId: subscriptionId,
        },
      );
      c.activeEnd = Math.min(c.activeEnd, renewal + r.between(0, 20) * DAY);
      return;
    }
    t = renewal;
    renewal = addMonths(renewal, termMonths);
    const data: Record<string, unknown> = { subscriptionId, termMonths, renewalDate: isoDate(renewal) };
    if (r.chance(0.5)) data.mrr = mrrOf();
    c.add(t, 'SubscriptionRenewed', data, 'billing', { correlationId: subscriptionId });
  }
}

function onboarding(c: Customer, start: number, csm: string): void {
  const r = c.rng;
  c.add(
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
    c.add(t, 'OnboardingMilestoneReached', { milestone: ONBOARDING_MILESTONES[i]! }, 'product');
  }
}

function criteria(c: Customer, start: number): void {
  const r = c.rng;
  const count = r.between(1, 4);
  const used = new Set<number>();
  for (let i = 0; i < count; i++) {
    let k = r.int(V.CRITERIA.length);
    while (used.has(k)) k = (k + 1) % V.CRITERIA.length;
    used.add(k);
    const criterionId = `sc-${c.id}-${i + 1}`;
    const defined = start + r.between(3, 60) * DAY;
    const target = defined + r.between(60, 240) * DAY;
    c.add(
      defined,
      'SuccessCriterionDefined',
      { criterionId, description: V.CRITERIA[k]!, targetDate: isoDate(target) },
      'salesforce',
      {
        correlationId: criterionId,
      },
    );
    // Achieved (on time or late) or never: the rest become overdue.
    if (r.chance(0.45 + 0.25 * c.happiness)) {
      const at = defined + (target - defined) * (0.3 + 0.9 * r.next());
      const data: Record<string, unknown> = { criterionId };
      if (r.chance(0.5)) data.evidence = 'Confirmed in the quarterly business review';
      c.add(at, 'OutcomeAchieved', data, 'salesforce', { correlationId: criterionId });
    }
  }
}

export function adopt(c: Customer, t: number): void {
  const r = c.rng;
  let k = r.int(V.FEATURES.length);
  for (let n = 0; n < V.FEATURES.length && c.adopted.has(V.FEATURES[k]!); n++)
    k = (k + 1) % V.FEATURES.length;
  const feature = V.FEATURES[k]!;
  if (c.adopted.has(feature)) return;
  c.adopted.add(feature);
  c.add(t, 'FeatureAdopted', { feature }, 'product');
}

/** Usage records over consecutive periods: about a quarter of a B2B account's events. */
function usage(c: Customer, start: number): void {
  const r = c.rng;
  const span = c.activeEnd - start;
  if (span < 7 * DAY) return;
  const count = Math.max(1, Math.min(Math.floor(span / DAY), Math.round(c.budget * 0.25)));
  const period = Math.floor(span / count);
  const seats = 5 + Math.floor(r.gamma(1.5) * 30);
  let trend = 0.3 + 0.2 * r.next();
  const features = [...c.adopted];
  for (let i = 0; i < count; i++) {
    const periodStart = start + i * period;
    const periodEnd = periodStart + period - 1000;
    trend = clamp(trend + 0.03 * r.normal() + 0.01 * c.happiness, 0.02, 1);
    const activeUsers = Math.round(seats * trend);
    const data: Record<string, unknown> = {
      periodStart: new Date(periodStart).toISOString(),
      periodEnd: new Date(periodEnd).toISOString(),
      activeUsers,
      sessions: Math.round(activeUsers * (period / DAY) * (0.5 + r.next())),
    };
    if (features.length > 0 && r.chance(0.3)) data.feature = r.pick(features);
    c.add(periodEnd + r.between(1, 120) * MIN, 'UsageRecorded', data, 'product');
  }
}
