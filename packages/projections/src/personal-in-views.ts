/**
 * The personal fields (`x-personal`, see docs/kafka.md) whose value a view stores, by event type: today only
 * a success criterion's `description` (`success_criteria.description`), which holds what the log holds (the
 * ciphertext, in a deployment with crypto-shredding). The relay removes personal fields from Kafka messages,
 * so the Kafka mode of the projector takes these events from the event store instead of the message
 * (docs/deploy.md). `personal-in-views.unit.spec.ts` checks this list against what the projections store.
 */
export const PERSONAL_FIELDS_IN_VIEWS: Readonly<Partial<Record<string, readonly string[]>>> = {
  SuccessCriterionDefined: ['description'],
};
