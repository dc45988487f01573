import { z } from 'zod';
import { defineEvent } from '../define.js';
import {
  CalendarDate,
  Channel,
  PersonalShortText,
  PersonalText,
  Id,
  ProductName,
  Slug,
  Timestamp,
} from '../primitives.js';

export const SuccessCriterionDefined = defineEvent({
  type: 'SuccessCriterionDefined',
  area: 'success',
  description: 'An outcome the customer wants to reach with the product, with a target date',
  latest: z.strictObject({ criterionId: Id, description: PersonalShortText, targetDate: CalendarDate }),
});

export const OutcomeAchieved = defineEvent({
  type: 'OutcomeAchieved',
  area: 'success',
  description: 'The customer reached one of their success criteria',
  latest: z.strictObject({ criterionId: Id, evidence: PersonalShortText.optional() }),
});

export const ONBOARDING_MILESTONES = [
  'account_setup',
  'data_imported',
  'integration_connected',
  'team_invited',
  'first_value',
  'onboarding_complete',
] as const;

export const OnboardingMilestoneReached = defineEvent({
  type: 'OnboardingMilestoneReached',
  area: 'success',
  description: 'An onboarding milestone was reached',
  latest: z.strictObject({ milestone: z.enum(ONBOARDING_MILESTONES) }),
});

export const FeatureAdopted = defineEvent({
  type: 'FeatureAdopted',
  area: 'success',
  description: 'The customer started using a feature (adoption breadth)',
  latest: z.strictObject({ feature: Slug }),
});

export const UsageRecorded = defineEvent({
  type: 'UsageRecorded',
  area: 'success',
  description: 'Product usage over a period (adoption depth)',
  latest: z
    .strictObject({
      periodStart: Timestamp,
      periodEnd: Timestamp,
      activeUsers: z.int().min(0).max(10_000_000),
      sessions: z.int().min(0).max(1_000_000_000),
      feature: Slug.optional(),
    })
    .refine((d) => d.periodStart <= d.periodEnd, {
      message: 'periodStart must not be after periodEnd',
      path: ['periodEnd'],
    }),
});

export const TrainingCompleted = defineEvent({
  type: 'TrainingCompleted',
  area: 'success',
  description: 'The customer completed a training course',
  latest: z.strictObject({ course: ProductName, attendees: z.int().min(1).max(100_000).optional() }),
});

export const OUTREACH_KINDS = [
  'check_in',
  'business_review',
  'onboarding_call',
  'renewal_call',
  'health_check',
  'training_offer',
] as const;

export const OutreachMade = defineEvent({
  type: 'OutreachMade',
  area: 'success',
  description: 'The company reached out proactively (check-in, business review...), and who did it',
  latest: z.strictObject({
    kind: z.enum(OUTREACH_KINDS),
    by: Id.describe('The customer success manager or team member'),
    channel: Channel,
    note: PersonalText.optional(),
  }),
});
