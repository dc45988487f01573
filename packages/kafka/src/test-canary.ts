import {
  EVENT_TYPES,
  EXCHANGE_RATES_CUSTOMER_ID,
  catalogue,
  type EventDefinition,
  type RawEnvelope,
} from '@crm-ledger/events';
import { testUuid } from './test-fixtures.js';

/** The marker in every personal value of the canary events: none may appear on the broker. */
export const CANARY = 'zqcanary';

let n = 0;
/** A distinct personal value: a name, an e-mail address and a phone number, in free text. */
const p = () => {
  n += 1;
  return `Zoe ${CANARY}${n} Doe, ${CANARY}${n}@example.com, +49 151 2345 ${String(n).padStart(4, '0')}`;
};
const money = { amountMinor: 4200, currency: 'EUR' } as const;

/**
 * One event of every type (and of TicketOpened v1), with every optional field filled: each personal field holds a
 * distinct personal value, each other string field an opaque value. Each type has its own customer (rates: the
 * reserved `fx-rates`).
 */
export function canaryEvents(): RawEnvelope[] {
  n = 0;
  const data: Record<string, { version?: number; customerId?: string; data: Record<string, unknown> }[]> = {
    CustomerRegistered: [
      {
        data: {
          segment: 'B2B',
          acquisitionChannel: 'referral',
          name: p(),
          email: `${CANARY}-reg@example.com`,
          phone: '+49 151 9988 7766',
          companyName: p(),
          country: 'DE',
        },
      },
    ],
    CustomerProfileUpdated: [
      {
        data: {
          name: p(),
          email: `${CANARY}-upd@example.com`,
          phone: '+49 151 1122 3344',
          companyName: p(),
          country: 'FR',
          segment: 'B2C',
        },
      },
    ],
    CustomerErased: [{ data: { reason: 'customer_request', requestedBy: p() } }],
    PurchaseMade: [{ data: { orderId: 'o-1', amount: money, quantity: 2, channel: 'web' } }],
    RefundIssued: [{ data: { refundId: 'r-1', orderId: 'o-1', amount: money, reason: p() } }],
    SubscriptionStarted: [
      {
        data: { subscriptionId: 's-1', plan: 'Pro', mrr: money, termMonths: 12, renewalDate: '2025-01-01' },
      },
    ],
    SubscriptionRenewed: [
      { data: { subscriptionId: 's-1', termMonths: 12, renewalDate: '2026-01-01', mrr: money } },
    ],
    SubscriptionExpanded: [{ data: { subscriptionId: 's-1', mrr: money, plan: 'Pro Plus', reason: p() } }],
    SubscriptionContracted: [{ data: { subscriptionId: 's-1', mrr: money, plan: 'Basic', reason: p() } }],
    SubscriptionCancelled: [
      { data: { subscriptionId: 's-1', reason: 'price', effectiveDate: '2026-02-01' } },
    ],
    TicketOpened: [
      {
        data: {
          ticketId: 't-1',
          channel: 'email',
          category: 'billing',
          slaPolicy: { name: 'gold', firstReplyMinutes: 60, resolutionMinutes: 480 },
          subject: p(),
          priority: 'high',
        },
      },
      { version: 1, data: { ticketId: 't-0', channel: 'chat', category: 'login', subject: p() } },
    ],
    TicketReplied: [
      { data: { ticketId: 't-1', by: 'agent', agentId: 'agent-7', channel: 'email', body: p() } },
    ],
    TicketEscalated: [{ data: { ticketId: 't-1', toTier: 2, reason: p() } }],
    TicketResolved: [{ data: { ticketId: 't-1', resolution: 'solved', agentId: 'agent-7' } }],
    TicketReopened: [{ data: { ticketId: 't-1', reason: p() } }],
    SuccessCriterionDefined: [{ data: { criterionId: 'k-1', description: p(), targetDate: '2025-06-30' } }],
    OutcomeAchieved: [{ data: { criterionId: 'k-1', evidence: p() } }],
    OnboardingMilestoneReached: [{ data: { milestone: 'first_value' } }],
    FeatureAdopted: [{ data: { feature: 'export' } }],
    UsageRecorded: [
      {
        data: {
          periodStart: '2025-01-01T00:00:00Z',
          periodEnd: '2025-01-31T23:59:59Z',
          activeUsers: 3,
          sessions: 40,
          feature: 'export',
        },
      },
    ],
    TrainingCompleted: [{ data: { course: 'Admin 101', attendees: 4 } }],
    OutreachMade: [{ data: { kind: 'check_in', by: 'csm-3', channel: 'phone', note: p() } }],
    TouchpointInteracted: [
      {
        data: { touchpoint: 'checkout', channel: 'web', sentiment: 0.5, effort: 2, durationSeconds: 30 },
      },
    ],
    SurveyAnswered: [
      {
        data: {
          kind: 'NPS',
          score: 9,
          surveyId: 'sv-1',
          channel: 'email',
          ticketId: 't-1',
          touchpoint: 'support',
          comment: p(),
        },
      },
    ],
    FeedbackGiven: [{ data: { channel: 'web', topic: 'pricing', sentiment: -0.5, text: p() } }],
    // voids an event id the canary never recorded: the void is published like any event, whatever it voids
    EventVoided: [{ data: { eventId: testUuid(8999), reason: p(), importId: 'orders.csv-1a2b3c4d5e' } }],
    // rates live in the reserved stream of customer `fx-rates`, as the query API reads them
    ExchangeRateRecorded: [
      {
        customerId: EXCHANGE_RATES_CUSTOMER_ID,
        data: { base: 'EUR', quote: 'USD', date: '2025-01-01', rate: '1.0842' },
      },
    ],
    // signals (issue #16) carry no personal field: ids, numbers and enumerations only
    HealthBandChanged: [
      {
        data: {
          from: 'green',
          to: 'yellow',
          scoreBefore: 71,
          score: 62,
          components: [{ name: 'engagementRecency', from: 100, to: 60 }],
        },
      },
    ],
    CustomerWentSilent: [{ data: { silentDays: 60, lastInteractionAt: '2024-11-01T10:00:00Z' } }],
    RenewalApproaching: [
      {
        data: {
          subscriptionId: 'sub-9',
          renewalDate: '2025-02-01',
          daysBefore: 30,
          mrr: money,
          healthScore: 55,
          healthBand: 'yellow',
        },
      },
    ],
    TicketSlaBreached: [
      {
        data: {
          ticketId: 't-9',
          slaPolicy: 'gold',
          target: 'resolution',
          targetMinutes: 480,
          dueAt: '2025-01-01T18:00:00Z',
        },
      },
    ],
    DetractorAnswered: [
      {
        data: {
          surveyEventId: testUuid(8998),
          surveyId: 'sv-9',
          kind: 'NPS',
          score: 2,
          ticketId: 't-9',
          touchpoint: 'support',
        },
      },
    ],
    SuccessCriterionOverdue: [{ data: { criterionId: 'crit-9', targetDate: '2024-12-31' } }],
    ChurnRiskRose: [{ data: { from: 'low', to: 'high', reasons: [{ reason: 'health_red', points: 40 }] } }],
    ExpansionSuggested: [
      {
        data: {
          usageEventId: testUuid(8997),
          periodEnd: '2024-12-31T00:00:00Z',
          sessions: 900,
          previousSessions: 300,
          growthPct: 200,
        },
      },
    ],
    SignalAcknowledged: [
      {
        data: { signalId: testUuid(8996), signalType: 'ChurnRiskRose', by: 'csm-3', outcome: 'acted' },
      },
    ],
  };
  const events: RawEnvelope[] = [];
  EVENT_TYPES.forEach((type, t) => {
    const def = catalogue[type] as EventDefinition;
    for (const [k, item] of (data[type] ?? []).entries()) {
      events.push({
        eventId: testUuid(1000 + t * 10 + k),
        type,
        schemaVersion: item.version ?? def.latestVersion,
        customerId: item.customerId ?? `cust-${t}`,
        occurredAt: `2025-01-${String(1 + k).padStart(2, '0')}T10:00:00Z`,
        correlationId: `corr-${t}-${k}`,
        causationId: testUuid(9000 + t * 10 + k),
        source: `crm/imports/file%20${t}.csv`,
        importId: `file-${t}.csv-${k}`,
        data: item.data,
      });
    }
  });
  return events;
}

/** The value at a path of an object, and a copy with another value there. */
export function withValueAt(event: RawEnvelope, path: readonly string[], value: unknown): RawEnvelope {
  const copy = structuredClone(event) as unknown as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return copy as unknown as RawEnvelope;
}
