import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '@crm-ledger/events';
import { projections } from './all.js';
import { PROJECTION_NAMES } from './projection.js';
import { ev, given } from './test-support.js';
import { serviceProjection } from './service.js';
import { valueProjection } from './value.js';
import { successProjection } from './success.js';
import { experienceProjection } from './experience.js';

/** Names every plain object answers to: as ids they once read as "already there" or crashed a view. */
const NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'prototype'];
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' as const });

function story(id: string, customerId: string): LedgerEvent[] {
  return [
    ev(
      'TicketOpened',
      '2024-05-01T08:00:00Z',
      { ticketId: id, channel: 'web', category: id.toLowerCase(), priority: 'high' },
      customerId,
    ),
    ev('TicketReplied', '2024-05-01T09:00:00Z', { ticketId: id, by: 'agent' }, customerId),
    ev('TicketEscalated', '2024-05-01T09:30:00Z', { ticketId: id, toTier: 2 }, customerId),
    ev('TicketResolved', '2024-05-01T10:00:00Z', { ticketId: id }, customerId),
    ev('TicketReopened', '2024-05-01T11:00:00Z', { ticketId: id }, customerId),
    ev(
      'SubscriptionStarted',
      '2024-05-01T00:00:00Z',
      { subscriptionId: id, plan: 'pro', mrr: usd(5000), termMonths: 12, renewalDate: '2025-05-01' },
      customerId,
    ),
    ev('SubscriptionExpanded', '2024-05-02T00:00:00Z', { subscriptionId: id, mrr: usd(7000) }, customerId),
    ev(
      'SuccessCriterionDefined',
      '2024-05-02T00:00:00Z',
      { criterionId: id, description: 'go live', targetDate: '2024-06-01' },
      customerId,
    ),
    ev('OutcomeAchieved', '2024-05-03T00:00:00Z', { criterionId: id }, customerId),
    ev('FeatureAdopted', '2024-05-03T00:00:00Z', { feature: id.toLowerCase() }, customerId),
    ev(
      'TouchpointInteracted',
      '2024-05-02T08:00:00Z',
      { touchpoint: id.toLowerCase(), channel: 'web', effort: 3 },
      customerId,
    ),
    ev(
      'SurveyAnswered',
      '2024-05-04T00:00:00Z',
      { kind: 'CSAT', score: 4, surveyId: id, ticketId: id, channel: 'web' },
      customerId,
    ),
    ev('PurchaseMade', '2024-05-04T00:00:00Z', { orderId: id, amount: usd(1200) }, customerId),
  ];
}

describe('ids named like Object.prototype members (issue #14)', () => {
  for (const id of NAMES) {
    it(`given a ticket, a subscription, a criterion, a touchpoint and a survey all called '${id}', then every view counts them and reports no anomaly`, () => {
      const events = story(id, id);
      const service = given(...events).then(serviceProjection);
      expect(service.anomalies).toEqual([]);
      expect(service.rows['service_tickets']).toHaveLength(1);
      expect(service.rows['service_tickets']![0]).toMatchObject({
        ticket_id: id,
        reopens: 1,
        escalations: 1,
      });

      const value = given(...events).then(valueProjection);
      expect(value.anomalies).toEqual([]);
      expect(value.rows['value_customers']![0]).toMatchObject({ mrr_minor: 7000, orders: 1 });

      const success = given(...events).then(successProjection);
      expect(success.anomalies).toEqual([]);

      const experience = given(...events).then(experienceProjection);
      expect(experience.anomalies).toEqual([]);
      expect(experience.rows['experience_touchpoints']).toHaveLength(1);
      expect(experience.rows['experience_ticket_feedback']).toHaveLength(1);
    });
  }

  it('given a state decoded from its JSON, when more events of those ids arrive, then it equals the state never written', () => {
    for (const name of PROJECTION_NAMES) {
      const p = projections[name];
      const events = NAMES.flatMap((id) => story(id, 'c1'));
      const half = Math.floor(events.length / 2);
      const whole = p.init('c1');
      events.forEach((e, i) => p.evolve(whole, e, i + 1));
      const first = p.init('c1');
      events.slice(0, half).forEach((e, i) => p.evolve(first, e, i + 1));
      const stateRow = p.flush(first).find((c) => c.op === 'upsert' && c.table === `${name}_state`);
      const text = stateRow?.op === 'upsert' ? String(stateRow.row['state']) : '';
      const resumed = p.decode('c1', text);
      events.slice(half).forEach((e, i) => p.evolve(resumed, e, half + i + 1));
      expect(p.rows(resumed)).toEqual(p.rows(whole));
    }
  });
});
