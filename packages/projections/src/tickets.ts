import type { Row } from '@crm-ledger/core';
import type { LedgerEvent } from '@crm-ledger/events';
import { addMinutes, minutesBetween, normalizeTs } from './time.js';

/** A support ticket as the service (and experience) views track it. */
export interface Ticket {
  readonly id: string;
  channel: string;
  category: string;
  priority: string;
  policy: string | null;
  firstReplyTargetMin: number | null;
  resolutionTargetMin: number | null;
  openedAt: string;
  firstReplyAt: string | null;
  /** Time of the latest resolution (full resolution, after any reopen). */
  resolvedAt: string | null;
  status: 'open' | 'resolved';
  reopens: number;
  escalations: number;
  maxTier: number;
  agentReplies: number;
  customerReplies: number;
}

export type TicketEvent = Extract<
  LedgerEvent,
  { type: 'TicketOpened' | 'TicketReplied' | 'TicketEscalated' | 'TicketResolved' | 'TicketReopened' }
>;

/**
 * What a ticket event did: the id of the ticket it changed (its row must be written), and/or why it was odd.
 * Both can be set: an agent reply dated before its ticket was opened is counted (a recorded fact) but not
 * taken as the first reply. Callers mark `changed` whatever `anomaly` says, so a ticket row never depends on
 * whether a later event of the same batch happened to touch the ticket.
 */
export interface TicketOutcome {
  readonly changed?: string;
  readonly anomaly?: string;
}

/**
 * Applies a ticket event to a customer's tickets. Returns the id of the changed ticket, and an anomaly reason
 * when the event cannot (fully) apply (unknown ticket, opened twice, resolved while resolved...). Never throws.
 */
export function applyTicketEvent(tickets: Record<string, Ticket>, event: TicketEvent): TicketOutcome {
  const at = normalizeTs(event.occurredAt);
  const id = event.data.ticketId;
  const t = tickets[id];
  if (event.type === 'TicketOpened') {
    if (t !== undefined) return { anomaly: 'ticket opened twice' };
    const d = event.data;
    tickets[id] = {
      id,
      channel: d.channel,
      category: d.category,
      priority: d.priority,
      policy: d.slaPolicy?.name ?? null,
      firstReplyTargetMin: d.slaPolicy?.firstReplyMinutes ?? null,
      resolutionTargetMin: d.slaPolicy?.resolutionMinutes ?? null,
      openedAt: at,
      firstReplyAt: null,
      resolvedAt: null,
      status: 'open',
      reopens: 0,
      escalations: 0,
      maxTier: 1,
      agentReplies: 0,
      customerReplies: 0,
    };
    return { changed: id };
  }
  if (t === undefined) return { anomaly: `${event.type} for unknown ticket` };
  switch (event.type) {
    case 'TicketReplied':
      if (event.data.by === 'customer') {
        t.customerReplies++;
        return { changed: id };
      }
      t.agentReplies++;
      if (t.firstReplyAt === null || at < t.firstReplyAt) {
        if (at < t.openedAt) return { changed: id, anomaly: 'agent reply before the ticket was opened' };
        t.firstReplyAt = at;
      }
      return { changed: id };
    case 'TicketEscalated':
      t.escalations++;
      t.maxTier = Math.max(t.maxTier, event.data.toTier);
      return { changed: id };
    case 'TicketResolved':
      if (t.status === 'resolved') return { anomaly: 'resolved a ticket already resolved' };
      if (at < t.openedAt) return { anomaly: 'resolved before the ticket was opened' };
      t.status = 'resolved';
      t.resolvedAt = at;
      return { changed: id };
    case 'TicketReopened':
      if (t.status === 'open') return { anomaly: 'reopened a ticket that is open' };
      t.status = 'open';
      t.reopens++;
      return { changed: id };
  }
}

export const firstReplyMinutes = (t: Ticket): number | null =>
  t.firstReplyAt === null ? null : minutesBetween(t.openedAt, t.firstReplyAt);

export const resolutionMinutes = (t: Ticket): number | null =>
  t.status === 'resolved' && t.resolvedAt !== null ? minutesBetween(t.openedAt, t.resolvedAt) : null;

/** 1 breached, 0 met, null not known yet (no reply / not resolved) or no target. */
export function breached(minutes: number | null, target: number | null): number | null {
  if (target === null || minutes === null) return null;
  return minutes > target ? 1 : 0;
}

export const firstReplyBreached = (t: Ticket): number | null =>
  breached(firstReplyMinutes(t), t.firstReplyTargetMin);
export const resolutionBreached = (t: Ticket): number | null =>
  breached(resolutionMinutes(t), t.resolutionTargetMin);

/** Resolved with at most one agent reply and never reopened. */
export const oneTouch = (t: Ticket): boolean =>
  t.status === 'resolved' && t.agentReplies <= 1 && t.reopens === 0;

/** SLA met for the ticket: 1 when every known target was met, 0 when one was breached, null if unknown. */
export function slaMet(t: Ticket): number | null {
  const fr = firstReplyBreached(t);
  const res = resolutionBreached(t);
  if (fr === 1 || res === 1) return 0;
  if (fr === null && res === null) return null;
  return 1;
}

export function ticketRow(customerId: string, t: Ticket): Row {
  return {
    customer_id: customerId,
    ticket_id: t.id,
    channel: t.channel,
    category: t.category,
    priority: t.priority,
    sla_policy: t.policy,
    opened_at: t.openedAt,
    opened_month: t.openedAt.slice(0, 7),
    first_reply_at: t.firstReplyAt,
    first_reply_minutes: firstReplyMinutes(t),
    first_reply_due_at: t.firstReplyTargetMin === null ? null : addMinutes(t.openedAt, t.firstReplyTargetMin),
    first_reply_breached: firstReplyBreached(t),
    resolved_at: t.status === 'resolved' ? t.resolvedAt : null,
    resolution_minutes: resolutionMinutes(t),
    resolution_due_at: t.resolutionTargetMin === null ? null : addMinutes(t.openedAt, t.resolutionTargetMin),
    resolution_breached: resolutionBreached(t),
    status: t.status,
    reopens: t.reopens,
    escalations: t.escalations,
    max_tier: t.maxTier,
    agent_replies: t.agentReplies,
    customer_replies: t.customerReplies,
    one_touch: oneTouch(t) ? 1 : 0,
  };
}
