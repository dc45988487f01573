import { z } from 'zod';
import { defineEvent } from '../define.js';
import { CalendarDate, Id, Money, Slug, Timestamp } from '../primitives.js';

/**
 * Signals (issue #16): facts the ledger derives from a customer's history and an explicit clock, for someone to
 * act on. They are events of their own, in the customer's stream, appended by the signal engine
 * (`deriveSignals` of `@crm-ledger/projections`) under a deterministic event id (UUIDv5 of the rule, the customer
 * and the trigger), so a replay or a retry never raises one twice. Their `occurredAt` is the instant the rule
 * fired (a time in the history, never the wall clock of the run). They carry ids, numbers and enumerations only:
 * no personal data. A signal stays open until an `OutreachMade` or `TicketOpened` refers to it (its
 * `causationId` is the signal's event id) or a `SignalAcknowledged` closes it.
 */

export const HEALTH_BANDS = ['green', 'yellow', 'red'] as const;
export const HealthBandValue = z.enum(HEALTH_BANDS);
export const HEALTH_COMPONENTS = [
  'adoption',
  'outcomes',
  'sentiment',
  'supportFriction',
  'engagementRecency',
] as const;
export const CHURN_RISKS = ['low', 'medium', 'high'] as const;
export const ChurnRiskValue = z.enum(CHURN_RISKS);
/** Why churn risk is what it is: each reason adds points (>= 50 high, >= 25 medium). */
export const CHURN_REASONS = [
  'all_subscriptions_cancelled',
  'health_red',
  'health_yellow',
  'renewal_soon_low_health',
  'contracted',
  'silent',
] as const;

const Score = z.int().min(0).max(100);

/** The types of signal the engine raises (what `SignalAcknowledged.signalType` names). */
export const SIGNAL_TYPES = [
  'HealthBandChanged',
  'CustomerWentSilent',
  'RenewalApproaching',
  'TicketSlaBreached',
  'DetractorAnswered',
  'SuccessCriterionOverdue',
  'ChurnRiskRose',
  'ExpansionSuggested',
] as const;
export type SignalType = (typeof SIGNAL_TYPES)[number];
export const SignalTypeValue = z.enum(SIGNAL_TYPES);

export const HealthBandChanged = defineEvent({
  type: 'HealthBandChanged',
  area: 'signals',
  description:
    'Signal: the health band changed (from, to), with the score before and after and the components that moved',
  latest: z.strictObject({
    from: HealthBandValue,
    to: HealthBandValue,
    scoreBefore: Score,
    score: Score,
    components: z
      .array(z.strictObject({ name: z.enum(HEALTH_COMPONENTS), from: Score, to: Score }))
      .max(HEALTH_COMPONENTS.length)
      .describe('The health components whose score moved since the last evaluation, with both scores'),
  }),
});

export const CustomerWentSilent = defineEvent({
  type: 'CustomerWentSilent',
  area: 'signals',
  description:
    'Signal: no interaction with the customer for N days ("think of them even when they don\'t call")',
  latest: z.strictObject({
    silentDays: z.int().min(1).max(3650).describe('N: the configured silence threshold in days'),
    lastInteractionAt: Timestamp.describe(
      'The last interaction before the silence (its end starts a new period)',
    ),
  }),
});

export const RenewalApproaching = defineEvent({
  type: 'RenewalApproaching',
  area: 'signals',
  description: 'Signal: a subscription renews in N days: MRR at stake and the health at that moment',
  latest: z.strictObject({
    subscriptionId: Id,
    renewalDate: CalendarDate,
    daysBefore: z.int().min(1).max(3650).describe('N: the configured window in days'),
    mrr: Money.describe('MRR at stake'),
    healthScore: Score,
    healthBand: HealthBandValue,
  }),
});

export const TicketSlaBreached = defineEvent({
  type: 'TicketSlaBreached',
  area: 'signals',
  description:
    'Signal: a ticket missed its SLA target (first reply or resolution): raised when the target passed unmet',
  latest: z.strictObject({
    ticketId: Id,
    slaPolicy: Slug,
    target: z.enum(['first_reply', 'resolution']),
    targetMinutes: z.int().min(1).max(525_600),
    dueAt: Timestamp.describe(
      'When the target was due (the signal is raised then: later it is late by now - dueAt)',
    ),
  }),
});

export const DetractorAnswered = defineEvent({
  type: 'DetractorAnswered',
  area: 'signals',
  description: 'Signal: a detractor answered a survey (score at or below the configured threshold)',
  latest: z.strictObject({
    surveyEventId: z.uuid().describe('The SurveyAnswered event'),
    surveyId: Id,
    kind: z.enum(['NPS', 'CSAT', 'CES']),
    score: z.int().min(0).max(10),
    ticketId: Id.optional().describe('The ticket the answer refers to, if any'),
    touchpoint: Slug.optional().describe('The touchpoint the answer refers to, if any'),
  }),
});

export const SuccessCriterionOverdue = defineEvent({
  type: 'SuccessCriterionOverdue',
  area: 'signals',
  description: 'Signal: a success criterion passed its target date without being achieved',
  latest: z.strictObject({ criterionId: Id, targetDate: CalendarDate }),
});

export const ChurnRiskRose = defineEvent({
  type: 'ChurnRiskRose',
  area: 'signals',
  description: 'Signal: churn risk rose (low to medium, medium to high or low to high), with its reasons',
  latest: z.strictObject({
    from: ChurnRiskValue,
    to: ChurnRiskValue,
    reasons: z
      .array(z.strictObject({ reason: z.enum(CHURN_REASONS), points: z.int().min(0).max(1000) }))
      .max(CHURN_REASONS.length),
  }),
});

export const ExpansionSuggested = defineEvent({
  type: 'ExpansionSuggested',
  area: 'signals',
  description: 'Signal: usage grew enough, period over period, to suggest an expansion',
  latest: z.strictObject({
    usageEventId: z.uuid().describe('The UsageRecorded event of the latest period'),
    periodEnd: Timestamp,
    sessions: z.int().min(0).max(1_000_000_000),
    previousSessions: z.int().min(1).max(1_000_000_000),
    growthPct: z.number().min(0).max(1e11).describe('Sessions growth over the previous period, in percent'),
  }),
});

export const SignalAcknowledged = defineEvent({
  type: 'SignalAcknowledged',
  area: 'signals',
  description:
    'A signal was handled: acted on, or dismissed (closes it; an OutreachMade or TicketOpened whose causationId is the signal also does)',
  latest: z.strictObject({
    signalId: z.uuid().describe('The event id of the signal'),
    signalType: SignalTypeValue,
    by: Id.describe('Who handled it'),
    outcome: z.enum(['acted', 'dismissed']),
  }),
});

/** The event types of the signals area: the signals and their acknowledgement. */
export const SIGNAL_AREA_TYPES: ReadonlySet<string> = new Set<string>([
  ...SIGNAL_TYPES,
  'SignalAcknowledged',
]);

/** True for an event of the signals area (derived by the signal engine, or an acknowledgement). */
export const isSignalAreaType = (type: string): boolean => SIGNAL_AREA_TYPES.has(type);
