import { describe, expect, it } from 'vitest';
import { successProjection } from './success.js';
import { churnRiskOf, DEFAULT_HEALTH_WEIGHTS, healthOf } from './health.js';
import { ev, given } from './test-support.js';

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' as const });

const history = () =>
  given(
    ev('CustomerRegistered', '2024-01-01T00:00:00Z', { segment: 'B2B', acquisitionChannel: 'partner' }),
    ev('SubscriptionStarted', '2024-01-02T00:00:00Z', {
      subscriptionId: 's1',
      plan: 'pro',
      mrr: usd(50_000),
      termMonths: 12,
      renewalDate: '2025-01-02',
    }),
    ev('OnboardingMilestoneReached', '2024-01-03T00:00:00Z', { milestone: 'account_setup' }),
    ev('OnboardingMilestoneReached', '2024-01-04T00:00:00Z', { milestone: 'data_imported' }),
    ev('OnboardingMilestoneReached', '2024-01-05T00:00:00Z', { milestone: 'onboarding_complete' }),
    ev('FeatureAdopted', '2024-01-06T00:00:00Z', { feature: 'reports' }),
    ev('FeatureAdopted', '2024-01-07T00:00:00Z', { feature: 'api' }),
    ev('UsageRecorded', '2024-02-01T00:00:00Z', {
      periodStart: '2024-01-01T00:00:00Z',
      periodEnd: '2024-01-31T23:59:59Z',
      activeUsers: 10,
      sessions: 200,
    }),
    ev('UsageRecorded', '2024-03-01T00:00:00Z', {
      periodStart: '2024-02-01T00:00:00Z',
      periodEnd: '2024-02-29T23:59:59Z',
      activeUsers: 12,
      sessions: 250,
    }),
    ev('SuccessCriterionDefined', '2024-01-02T00:00:00Z', {
      criterionId: 'k1',
      description: 'cut churn',
      targetDate: '2024-06-30',
    }),
    ev('SuccessCriterionDefined', '2024-01-02T00:00:00Z', {
      criterionId: 'k2',
      description: 'faster close',
      targetDate: '2024-03-31',
    }),
    ev('OutcomeAchieved', '2024-03-10T00:00:00Z', { criterionId: 'k1' }),
    ev('TicketOpened', '2024-03-11T00:00:00Z', {
      ticketId: 't1',
      channel: 'email',
      category: 'bug',
      priority: 'high',
    }),
    ev('SurveyAnswered', '2024-03-12T00:00:00Z', { surveyId: 'v1', kind: 'NPS', score: 9 }),
    ev('TouchpointInteracted', '2024-03-13T00:00:00Z', { touchpoint: 'app', channel: 'web', sentiment: 0.5 }),
    ev('OutreachMade', '2024-04-01T00:00:00Z', { kind: 'check_in', by: 'csm1', channel: 'phone' }),
  ).then(successProjection);

describe('success projection', () => {
  it('given onboarding, adoption, usage and criteria, then progress, breadth, depth trend and outcomes', () => {
    const row = history().rows['success_accounts']![0]!;
    expect(row).toMatchObject({
      onboarding_milestones: 3,
      onboarding_progress_pct: 50,
      onboarding_completed_at: '2024-01-05T00:00:00.000Z',
      features_adopted: 2,
      usage_last_sessions: 250,
      usage_prev_sessions: 200,
      usage_trend_pct: 25,
      criteria_defined: 2,
      criteria_achieved: 1,
      next_criterion_due: '2024-03-31',
      subscription_status: 'active',
      mrr_minor: 50_000,
      next_renewal_date: '2025-01-02',
      open_tickets: 1,
      last_interaction_at: '2024-03-13T00:00:00.000Z',
      last_outreach_at: '2024-04-01T00:00:00.000Z',
      // 0.4*50 + 0.3*min(100, 2*20) + 0.3*min(100, 125) = 20 + 12 + 30
      adoption_score: 62,
      outcomes_score: 50,
      // mean of NPS 9 -> 90 and sentiment 0.5 -> 75
      sentiment_score: 83,
      friction_score: 80,
    });
  });

  it('then the health score explains itself: every component, weight and contribution, recency from asOf', () => {
    const row = history().rows['success_accounts']![0]!;
    const fresh = healthOf(row, '2024-03-15T00:00:00Z');
    expect(fresh.components).toEqual([
      { name: 'adoption', score: 62, weight: 25, contribution: 15.5 },
      { name: 'outcomes', score: 50, weight: 20, contribution: 10 },
      { name: 'sentiment', score: 83, weight: 20, contribution: 16.6 },
      { name: 'supportFriction', score: 80, weight: 15, contribution: 12 },
      { name: 'engagementRecency', score: 100, weight: 20, contribution: 20 },
    ]);
    expect(fresh).toMatchObject({ score: 74, band: 'green', daysSinceLastInteraction: 2 });
    const silent = healthOf(row, '2024-07-01T00:00:00Z');
    expect(silent).toMatchObject({ score: 54, band: 'yellow', daysSinceLastInteraction: 110 });
    expect(churnRiskOf(row, '2024-07-01T00:00:00Z', silent)).toEqual({
      risk: 'medium',
      reasons: [
        { reason: 'health is yellow', points: 15 },
        { reason: 'silent for more than 60 days', points: 20 },
      ],
    });
    const adoptionOnly = healthOf(row, '2024-03-15T00:00:00Z', {
      ...DEFAULT_HEALTH_WEIGHTS,
      outcomes: 0,
      sentiment: 0,
      supportFriction: 0,
      engagementRecency: 0,
    });
    expect(adoptionOnly.score).toBe(62);
  });

  it('given an outcome for an unknown criterion, then it is counted, not thrown', () => {
    const { rows, anomalies } = given(
      ev('OutcomeAchieved', '2024-03-10T00:00:00Z', { criterionId: 'nope' }),
    ).then(successProjection);
    expect(anomalies).toEqual([
      expect.objectContaining({ position: 1, reason: 'outcome for unknown criterion' }),
    ]);
    expect(rows['success_accounts']![0]).toMatchObject({ criteria_achieved: 0, anomalies: 1 });
  });
});
