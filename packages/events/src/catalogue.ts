import type { z } from 'zod';
import { CustomerErased, CustomerProfileUpdated, CustomerRegistered } from './areas/relationship.js';
import {
  PurchaseMade,
  RefundIssued,
  SubscriptionCancelled,
  SubscriptionContracted,
  SubscriptionExpanded,
  SubscriptionRenewed,
  SubscriptionStarted,
} from './areas/revenue.js';
import {
  TicketEscalated,
  TicketOpened,
  TicketReopened,
  TicketReplied,
  TicketResolved,
} from './areas/service.js';
import {
  FeatureAdopted,
  OnboardingMilestoneReached,
  OutcomeAchieved,
  OutreachMade,
  SuccessCriterionDefined,
  TrainingCompleted,
  UsageRecorded,
} from './areas/success.js';
import { FeedbackGiven, SurveyAnswered, TouchpointInteracted } from './areas/experience.js';
import { EventVoided, ExchangeRateRecorded } from './areas/corrections.js';
import {
  ChurnRiskRose,
  CustomerWentSilent,
  DetractorAnswered,
  ExpansionSuggested,
  HealthBandChanged,
  RenewalApproaching,
  SignalAcknowledged,
  SuccessCriterionOverdue,
  TicketSlaBreached,
} from './areas/signals.js';
import type { EventDefinition } from './define.js';

/** Every event type the ledger records, by name. The one source of truth for types, JSON Schema and OpenAPI. */
export const catalogue = {
  CustomerRegistered,
  CustomerProfileUpdated,
  CustomerErased,
  PurchaseMade,
  RefundIssued,
  SubscriptionStarted,
  SubscriptionRenewed,
  SubscriptionExpanded,
  SubscriptionContracted,
  SubscriptionCancelled,
  TicketOpened,
  TicketReplied,
  TicketEscalated,
  TicketResolved,
  TicketReopened,
  SuccessCriterionDefined,
  OutcomeAchieved,
  OnboardingMilestoneReached,
  FeatureAdopted,
  UsageRecorded,
  TrainingCompleted,
  OutreachMade,
  TouchpointInteracted,
  SurveyAnswered,
  FeedbackGiven,
  EventVoided,
  ExchangeRateRecorded,
  HealthBandChanged,
  CustomerWentSilent,
  RenewalApproaching,
  TicketSlaBreached,
  DetractorAnswered,
  SuccessCriterionOverdue,
  ChurnRiskRose,
  ExpansionSuggested,
  SignalAcknowledged,
} as const;

export type Catalogue = typeof catalogue;
export type EventType = keyof Catalogue;
export const EVENT_TYPES = Object.keys(catalogue) as EventType[];

/** The newest data shape of an event type. */
export type DataOf<T extends EventType> = z.infer<Catalogue[T]['latest']>;

export function definitionOf(type: string): EventDefinition | undefined {
  return Object.hasOwn(catalogue, type) ? catalogue[type as EventType] : undefined;
}

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalogue, type);
}
