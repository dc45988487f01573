import type { ProjectionSpec, Row } from '@crm-ledger/core';
import { emptyRecord } from '@crm-ledger/events';
import { col, ignore, ignoreSignals, noteAnomaly, type Handlers } from './projection.js';
import { erased, profileColumns, profileUpdated, registered } from './profile.js';
import { viewFrame, viewSpec, type ViewData, type ViewState } from './frame.js';
import {
  applyTicketEvent,
  firstReplyBreached,
  oneTouch,
  resolutionBreached,
  ticketRow,
  type Ticket,
  type TicketEvent,
} from './tickets.js';

/** Persistent state of the service view for one customer. */
export interface ServiceData extends ViewData {
  tickets: Record<string, Ticket>;
}
export type ServiceState = ViewState<ServiceData>;

const profileCols = [
  col('segment', 'text', 'B2B or B2C, from CustomerRegistered / CustomerProfileUpdated', true),
  col('acquisition_channel', 'text', 'How the customer was acquired', true),
  col('cohort_month', 'text', 'YYYY-MM of registration (or of the first event if never registered)', true),
];

// 2: the service_held table (issue #14)
// 3: times as `timestamp` and flags as `boolean` column types (PostgreSQL: timestamptz, boolean; issue #19)
export const serviceSpec: ProjectionSpec = viewSpec('service', 3, [
  {
    name: 'service_tickets',
    description: 'One row per support ticket: times, SLA outcome, reopens, escalations.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('ticket_id', 'text', 'The ticket id (unique per customer)'),
      col('channel', 'text', 'Channel the ticket was opened on'),
      col('category', 'text', 'The contact driver: why the customer got in touch'),
      col('priority', 'text', 'low, normal, high or urgent'),
      col('sla_policy', 'text', 'Name of the SLA policy, if any', true),
      col('opened_at', 'timestamp', 'When the ticket was opened'),
      col('opened_month', 'text', 'YYYY-MM of opened_at'),
      col('first_reply_at', 'timestamp', 'First agent reply', true),
      col('first_reply_minutes', 'integer', 'Minutes from opening to first agent reply', true),
      col('first_reply_due_at', 'timestamp', 'Opening + SLA first-reply target', true),
      col('first_reply_breached', 'boolean', '1 breached, 0 met, NULL no reply yet or no SLA', true),
      col('resolved_at', 'timestamp', 'Latest resolution while resolved (NULL while open)', true),
      col('resolution_minutes', 'integer', 'Minutes from opening to (latest) resolution', true),
      col('resolution_due_at', 'timestamp', 'Opening + SLA resolution target', true),
      col('resolution_breached', 'boolean', '1 breached, 0 met, NULL open or no SLA', true),
      col('status', 'text', 'open or resolved'),
      col('reopens', 'integer', 'Times reopened'),
      col('escalations', 'integer', 'Times escalated'),
      col('max_tier', 'integer', 'Highest support tier reached (1 = first line)'),
      col('agent_replies', 'integer', 'Replies by agents'),
      col('customer_replies', 'integer', 'Replies by the customer'),
      col('one_touch', 'boolean', '1 when resolved with at most one agent reply and never reopened'),
    ],
    primaryKey: ['customer_id', 'ticket_id'],
    indexes: [
      { name: 'service_tickets_opened', columns: ['opened_month', 'category'] },
      { name: 'service_tickets_status', columns: ['status', 'opened_at'] },
    ],
  },
  {
    name: 'service_customers',
    description: 'Per customer: ticket counts, backlog, SLA breaches, reopens, one-touch resolutions.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      ...profileCols,
      col('tickets', 'integer', 'Tickets opened'),
      col('open_tickets', 'integer', 'Tickets open now (the backlog)'),
      col(
        'oldest_open_at',
        'timestamp',
        'Opening time of the oldest open ticket (backlog age = asOf - this)',
        true,
      ),
      col('resolved_tickets', 'integer', 'Tickets currently resolved'),
      col('reopens', 'integer', 'Reopen events over all tickets'),
      col('reopened_tickets', 'integer', 'Tickets reopened at least once'),
      col('escalations', 'integer', 'Escalation events over all tickets'),
      col('one_touch_resolutions', 'integer', 'Resolved tickets with one agent reply, never reopened'),
      col('first_reply_breaches', 'integer', 'Tickets whose first reply missed the SLA'),
      col('resolution_breaches', 'integer', 'Tickets whose resolution missed the SLA'),
      col('last_ticket_at', 'timestamp', 'When the latest ticket was opened', true),
      col('anomalies', 'integer', 'Events this view skipped or clamped (see service_anomalies)'),
    ],
    primaryKey: ['customer_id'],
    indexes: [{ name: 'service_customers_segment', columns: ['segment'] }],
  },
]);

function onTicket(s: ServiceState, e: TicketEvent, position: number): void {
  const r = applyTicketEvent(s.data.tickets, e);
  if (r.anomaly !== undefined) noteAnomaly(s.data, s.pending, e, position, r.anomaly);
  if (r.changed !== undefined) s.pending.dirty.add(r.changed);
}

const handlers: Handlers<ServiceState> = {
  CustomerRegistered: (s, e) => registered(s.data.profile, e),
  CustomerProfileUpdated: (s, e) => profileUpdated(s.data.profile, e),
  CustomerErased: (s, e) => erased(s.data.profile, e),
  PurchaseMade: ignore,
  RefundIssued: ignore,
  SubscriptionStarted: ignore,
  SubscriptionRenewed: ignore,
  SubscriptionExpanded: ignore,
  SubscriptionContracted: ignore,
  SubscriptionCancelled: ignore,
  TicketOpened: onTicket,
  TicketReplied: onTicket,
  TicketEscalated: onTicket,
  TicketResolved: onTicket,
  TicketReopened: onTicket,
  SuccessCriterionDefined: ignore,
  OutcomeAchieved: ignore,
  OnboardingMilestoneReached: ignore,
  FeatureAdopted: ignore,
  UsageRecorded: ignore,
  TrainingCompleted: ignore,
  OutreachMade: ignore,
  TouchpointInteracted: ignore,
  SurveyAnswered: ignore,
  FeedbackGiven: ignore,
  // Corrections are applied by re-folding the customer's stream without the voided events (see void.ts).
  EventVoided: ignore,
  ExchangeRateRecorded: ignore,
  // the signals area (issue #16): only the success view folds it (success_signals)
  ...ignoreSignals,
};

function customerRow(d: ServiceData): Row {
  let open = 0;
  let resolved = 0;
  let oldestOpen: string | null = null;
  let reopens = 0;
  let reopened = 0;
  let escalations = 0;
  let oneTouches = 0;
  let frBreaches = 0;
  let resBreaches = 0;
  let last: string | null = null;
  const tickets = Object.values(d.tickets);
  for (const t of tickets) {
    if (t.status === 'open') {
      open++;
      if (oldestOpen === null || t.openedAt < oldestOpen) oldestOpen = t.openedAt;
    } else resolved++;
    reopens += t.reopens;
    if (t.reopens > 0) reopened++;
    escalations += t.escalations;
    if (oneTouch(t)) oneTouches++;
    if (firstReplyBreached(t) === 1) frBreaches++;
    if (resolutionBreached(t) === 1) resBreaches++;
    if (last === null || t.openedAt > last) last = t.openedAt;
  }
  return {
    customer_id: d.customerId,
    ...profileColumns(d.profile),
    tickets: tickets.length,
    open_tickets: open,
    oldest_open_at: oldestOpen,
    resolved_tickets: resolved,
    reopens,
    reopened_tickets: reopened,
    escalations,
    one_touch_resolutions: oneTouches,
    first_reply_breaches: frBreaches,
    resolution_breaches: resBreaches,
    last_ticket_at: last,
    anomalies: d.anomalyCount,
  };
}

/**
 * The service view: reactive support. Per ticket, first-reply and resolution times against the SLA policy,
 * reopens, escalations, one-touch resolution; per customer, the backlog and breach counts. Contact drivers,
 * percentiles and rates are aggregates over `service_tickets` (by category, priority, channel, month).
 */
export const serviceProjection = viewFrame<ServiceData>({
  name: 'service',
  spec: serviceSpec,
  fresh: () => ({ tickets: emptyRecord() }),
  handlers,
  summaryTable: 'service_customers',
  summaryRow: customerRow,
  detailRow(d, id) {
    const t = d.tickets[id];
    return t === undefined ? undefined : { table: 'service_tickets', row: ticketRow(d.customerId, t) };
  },
  detailKeys: (d) => Object.keys(d.tickets),
});
