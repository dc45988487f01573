import { z } from 'zod';
import type { Row } from '@crm-ledger/core';
import { daysBetween } from './time.js';

/** Weights of the health components; any non-negative numbers (they are normalised by their sum). */
export const HealthWeights = z.strictObject({
  adoption: z.number().min(0).max(100),
  outcomes: z.number().min(0).max(100),
  sentiment: z.number().min(0).max(100),
  supportFriction: z.number().min(0).max(100),
  engagementRecency: z.number().min(0).max(100),
});
export type HealthWeights = z.infer<typeof HealthWeights>;

export const DEFAULT_HEALTH_WEIGHTS: HealthWeights = {
  adoption: 25,
  outcomes: 20,
  sentiment: 20,
  supportFriction: 15,
  engagementRecency: 20,
};

export type HealthBand = 'green' | 'yellow' | 'red';
export type ChurnRisk = 'low' | 'medium' | 'high';

export interface HealthComponent {
  readonly name: keyof HealthWeights;
  /** 0..100. */
  readonly score: number;
  readonly weight: number;
  /** score x weight / sum of weights: what this component adds to the total. */
  readonly contribution: number;
}

/** The explainable health score: the total and every component with its weight and contribution. */
export interface Health {
  readonly score: number;
  readonly band: HealthBand;
  readonly components: readonly HealthComponent[];
  readonly daysSinceLastInteraction: number | null;
}

/** Recency component: 100 up to 7 days since the last interaction, falling linearly to 0 at 90 days. */
export function recencyScore(daysSilent: number | null): number {
  if (daysSilent === null) return 0;
  if (daysSilent <= 7) return 100;
  if (daysSilent >= 90) return 0;
  return Math.round(100 - ((daysSilent - 7) / 83) * 100);
}

export const bandOf = (score: number): HealthBand => (score >= 70 ? 'green' : score >= 40 ? 'yellow' : 'red');

const num = (v: Row[string] | undefined, fallback: number): number => (typeof v === 'number' ? v : fallback);
const str = (v: Row[string] | undefined): string | null => (typeof v === 'string' ? v : null);

/**
 * The health score of a `success_accounts` row as of `asOf` (ISO-8601), with the given weights. Pure: the
 * same row, asOf and weights always give the same score, so a score shown yesterday can be explained today.
 */
export function healthOf(
  account: Row,
  asOf: string,
  weights: HealthWeights = DEFAULT_HEALTH_WEIGHTS,
): Health {
  const last = str(account['last_interaction_at']);
  const days = last === null ? null : Math.max(0, Math.floor(daysBetween(last, asOf)));
  const scores: Record<keyof HealthWeights, number> = {
    adoption: num(account['adoption_score'], 0),
    outcomes: num(account['outcomes_score'], 50),
    sentiment: num(account['sentiment_score'], 50),
    supportFriction: num(account['friction_score'], 100),
    engagementRecency: recencyScore(days),
  };
  const names = Object.keys(scores) as (keyof HealthWeights)[];
  const total = names.reduce((s, n) => s + weights[n], 0);
  const components = names.map((name) => {
    const weight = weights[name];
    const contribution = total === 0 ? 0 : Math.round(((scores[name] * weight) / total) * 10) / 10;
    return { name, score: scores[name], weight, contribution };
  });
  const score = Math.round(components.reduce((s, c) => s + c.contribution, 0));
  return { score, band: bandOf(score), components, daysSinceLastInteraction: days };
}

export interface ChurnAssessment {
  readonly risk: ChurnRisk;
  /** Why: each reason adds points; >= 50 high, >= 25 medium. */
  readonly reasons: readonly { readonly reason: string; readonly points: number }[];
}

/** Days without interaction after which a customer is "silent", unless configured (`CRM_LEDGER_SILENT_DAYS`). */
export const DEFAULT_SILENT_DAYS = 60;

/**
 * Churn risk of an account as of `asOf`, from its health and its subscription signals, with the reasons.
 * `silentAfterDays`: a customer with no interaction for more than this many days gets the "silent" reason.
 */
export function churnRiskOf(
  account: Row,
  asOf: string,
  health: Health,
  silentAfterDays: number = DEFAULT_SILENT_DAYS,
): ChurnAssessment {
  const reasons: { reason: string; points: number }[] = [];
  const add = (reason: string, points: number): void => {
    reasons.push({ reason, points });
  };
  if (account['subscription_status'] === 'cancelled') add('all subscriptions cancelled', 100);
  if (health.band === 'red') add('health is red', 40);
  else if (health.band === 'yellow') add('health is yellow', 15);
  const renewal = str(account['next_renewal_date']);
  if (renewal !== null) {
    const daysToRenewal = daysBetween(asOf, `${renewal}T00:00:00.000Z`);
    if (daysToRenewal >= 0 && daysToRenewal <= 30 && health.score < 55)
      add('renewal within 30 days, health < 55', 25);
  }
  if (num(account['contractions'], 0) > 0) add('contracted', 10);
  if (health.daysSinceLastInteraction !== null && health.daysSinceLastInteraction > silentAfterDays)
    add(`silent for more than ${silentAfterDays} days`, 20);
  const points = reasons.reduce((s, r) => s + r.points, 0);
  return { risk: points >= 50 ? 'high' : points >= 25 ? 'medium' : 'low', reasons };
}
