import { describe, expect, it } from 'vitest';
import { serviceProjection } from './service.js';
import { ev, given } from './test-support.js';

const sla = { name: 'gold', firstReplyMinutes: 60, resolutionMinutes: 480 };
const open = (id: string, at: string, category = 'billing', priority = 'high' as const) =>
  ev('TicketOpened', at, { ticketId: id, channel: 'email', category, priority, slaPolicy: sla });

describe('service projection', () => {
  it('given a ticket answered in 30 min and resolved in 10 h, then first reply met, resolution breached, one touch', () => {
    const { rows } = given(
      ev('CustomerRegistered', '2024-01-01T00:00:00Z', { segment: 'B2B', acquisitionChannel: 'referral' }),
      open('t1', '2024-01-02T08:00:00Z'),
      ev('TicketReplied', '2024-01-02T08:30:00Z', { ticketId: 't1', by: 'agent' }),
      ev('TicketResolved', '2024-01-02T18:00:00Z', { ticketId: 't1' }),
    ).then(serviceProjection);
    expect(rows['service_tickets']).toEqual([
      expect.objectContaining({
        ticket_id: 't1',
        first_reply_minutes: 30,
        first_reply_breached: 0,
        first_reply_due_at: '2024-01-02T09:00:00.000Z',
        resolution_minutes: 600,
        resolution_breached: 1,
        status: 'resolved',
        one_touch: 1,
        opened_month: '2024-01',
      }),
    ]);
    expect(rows['service_customers']![0]).toMatchObject({
      segment: 'B2B',
      tickets: 1,
      open_tickets: 0,
      first_reply_breaches: 0,
      resolution_breaches: 1,
      one_touch_resolutions: 1,
      anomalies: 0,
    });
  });

  it('given a reopened and escalated ticket, then it is not one-touch and counts as backlog while open', () => {
    const { rows } = given(
      open('t1', '2024-01-02T08:00:00Z'),
      ev('TicketReplied', '2024-01-02T10:00:00Z', { ticketId: 't1', by: 'agent' }),
      ev('TicketResolved', '2024-01-02T11:00:00Z', { ticketId: 't1' }),
      ev('TicketReopened', '2024-01-03T09:00:00Z', { ticketId: 't1' }),
      ev('TicketEscalated', '2024-01-03T09:05:00Z', { ticketId: 't1', toTier: 3 }),
      open('t2', '2024-01-04T00:00:00Z', 'login'),
    ).then(serviceProjection);
    const t1 = rows['service_tickets']!.find((r) => r['ticket_id'] === 't1');
    expect(t1).toMatchObject({
      status: 'open',
      reopens: 1,
      escalations: 1,
      max_tier: 3,
      first_reply_minutes: 120,
      first_reply_breached: 1,
      resolution_minutes: null,
      one_touch: 0,
    });
    expect(rows['service_customers']![0]).toMatchObject({
      tickets: 2,
      open_tickets: 2,
      oldest_open_at: '2024-01-02T08:00:00.000Z',
      reopens: 1,
      reopened_tickets: 1,
      escalations: 1,
      first_reply_breaches: 1,
    });
  });

  it('given a reply to an unknown ticket and a double resolve, then both are counted with their positions, not thrown', () => {
    const { rows, anomalies } = given(
      ev('TicketReplied', '2024-01-02T10:00:00Z', { ticketId: 'nope', by: 'agent' }),
      open('t1', '2024-01-02T08:00:00Z'),
      ev('TicketResolved', '2024-01-02T11:00:00Z', { ticketId: 't1' }),
      ev('TicketResolved', '2024-01-02T12:00:00Z', { ticketId: 't1' }),
    ).then(serviceProjection);
    expect(anomalies.map((a) => [a['position'], a['reason']])).toEqual([
      [1, 'TicketReplied for unknown ticket'],
      [4, 'resolved a ticket already resolved'],
    ]);
    expect(rows['service_customers']![0]).toMatchObject({ anomalies: 2, tickets: 1 });
    expect(rows['service_tickets']![0]).toMatchObject({ resolution_minutes: 180 });
  });

  it('given version-1 style data without SLA, then breaches are unknown (NULL), not met', () => {
    const { rows } = given(
      ev('TicketOpened', '2024-01-02T08:00:00Z', {
        ticketId: 't1',
        channel: 'chat',
        category: 'bug',
        priority: 'normal',
      }),
      ev('TicketReplied', '2024-01-02T08:01:00Z', { ticketId: 't1', by: 'customer' }),
    ).then(serviceProjection);
    expect(rows['service_tickets']![0]).toMatchObject({
      first_reply_breached: null,
      first_reply_due_at: null,
      customer_replies: 1,
      agent_replies: 0,
      first_reply_at: null,
    });
  });
});
