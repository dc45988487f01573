import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '@crm-ledger/events';
import { DEFAULT_HEALTH_WEIGHTS } from '../health.js';
import { fold } from '../projection.js';
import { successProjection } from '../success.js';
import { ev } from '../test-support.js';
import { foldWithoutVoided, refoldChanges, type Positioned } from '../void.js';
import { deriveSignals } from './engine.js';
import { resolveSignalRules } from './rules.js';
import { signalStatuses } from './status.js';

const positioned = (...events: LedgerEvent[]): Positioned[] =>
  events.map((event, i) => ({ event, position: i + 1 }));

function history() {
  const base = [
    ev('CustomerRegistered', '2024-01-01T00:00:00Z', { segment: 'B2B', acquisitionChannel: 'partner' }),
    ev('SurveyAnswered', '2024-01-10T00:00:00Z', { kind: 'NPS', score: 2, surveyId: 'sv1' }),
  ];
  const signals = deriveSignals('c1', positioned(...base), '2024-03-01T00:00:00Z', {
    rules: resolveSignalRules({}),
    silentDays: 30,
    healthWeights: DEFAULT_HEALTH_WEIGHTS,
  }).signals as unknown as LedgerEvent[];
  return { base, signals };
}

/** The success_signals rows of a folded history, as status rows (the columns signalStatuses answers). */
function tableOf(events: readonly Positioned[]) {
  const { state } = foldWithoutVoided(successProjection, 'c1', events);
  return (successProjection.rows(state)['success_signals'] ?? [])
    .map((r) => ({
      signalId: r['signal_id'],
      customerId: r['customer_id'],
      type: r['type'],
      raisedAt: r['occurred_at'],
      status: r['status'],
      closedAt: r['closed_at'],
      closedBy: r['closed_by'],
      closedByEventId: r['closed_by_event_id'],
      minutesToAction: r['minutes_to_action'],
    }))
    .sort((a, b) => String(a.signalId).localeCompare(String(b.signalId)));
}
const statusesOf = (events: readonly Positioned[]) =>
  signalStatuses(events).sort((a, b) => a.signalId.localeCompare(b.signalId));

describe('success_signals: one row per signal, where it stands by the rules of signalStatuses', () => {
  it('holds every signal with the status signalStatuses gives, acted by an outreach, dismissed by an acknowledgement', () => {
    const { base, signals } = history();
    expect(signals.length).toBeGreaterThanOrEqual(2);
    const [first, second] = signals;
    const outreach = {
      ...ev('OutreachMade', '2024-03-02T00:00:00Z', { kind: 'check_in', by: 'csm-1', channel: 'phone' }),
      causationId: first!.eventId,
    } as LedgerEvent;
    const earlierTicket = {
      ...ev('TicketOpened', '2024-03-01T12:00:00Z', {
        ticketId: 't1',
        channel: 'email',
        category: 'billing',
        priority: 'low',
      }),
      causationId: first!.eventId,
    } as LedgerEvent;
    const ack = ev('SignalAcknowledged', '2024-03-03T00:00:00Z', {
      signalId: second!.eventId,
      signalType: second!.type as 'CustomerWentSilent',
      by: 'csm-2',
      outcome: 'dismissed',
    });
    // the action recorded before its signal (the outreach came first, the engine later) still closes it
    const events = positioned(outreach, ...base, ...signals, earlierTicket, ack);
    const table = tableOf(events);
    expect(table).toEqual(statusesOf(events));
    const byId = new Map(table.map((r) => [r.signalId, r]));
    expect(byId.get(first!.eventId)).toMatchObject({ status: 'acted', closedBy: 'TicketOpened' });
    expect(byId.get(second!.eventId)).toMatchObject({ status: 'dismissed', closedBy: 'SignalAcknowledged' });
    expect(table.filter((r) => r.status === 'open')).toHaveLength(signals.length - 2);
  });

  it('reopens a signal when its outreach is voided (the customer is re-folded without it)', () => {
    const { base, signals } = history();
    const outreach = {
      ...ev('OutreachMade', '2024-03-02T00:00:00Z', { kind: 'check_in', by: 'csm-1', channel: 'phone' }),
      causationId: signals[0]!.eventId,
    } as LedgerEvent;
    const before = positioned(...base, ...signals, outreach);
    const acted = fold(successProjection, 'c1', before);
    successProjection.flush(acted);
    expect(tableOf(before).find((r) => r.signalId === signals[0]!.eventId)?.status).toBe('acted');
    const after = [
      ...before,
      {
        position: before.length + 1,
        event: ev('EventVoided', '2024-03-04T00:00:00Z', {
          eventId: outreach.eventId,
          reason: 'wrong customer',
        }),
      },
    ];
    const changes = refoldChanges(
      successProjection,
      'c1',
      acted,
      [],
      foldWithoutVoided(successProjection, 'c1', after),
    );
    const row = changes.find(
      (c) => c.op === 'upsert' && c.table === 'success_signals' && c.row['signal_id'] === signals[0]!.eventId,
    );
    expect(row).toMatchObject({ row: { status: 'open', closed_at: null, closed_by: null } });
    expect(tableOf(after)).toEqual(statusesOf(after));
  });

  it('stores the data the signal carries, and changes no summary row', () => {
    const { base, signals } = history();
    const onlyBase = fold(successProjection, 'c1', positioned(...base));
    const withSignals = fold(successProjection, 'c1', positioned(...base, ...signals));
    expect(successProjection.rows(withSignals)['success_accounts']).toEqual(
      successProjection.rows(onlyBase)['success_accounts'],
    );
    const silent = signals.find((s) => s.type === 'CustomerWentSilent')!;
    const signalRows = successProjection.rows(withSignals)['success_signals']!;
    const row = signalRows.find((r) => r['signal_id'] === silent.eventId)!;
    expect(JSON.parse(String(row['data']))).toEqual(silent.data);
  });
});
