import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '@crm-ledger/events';
import { DEFAULT_HEALTH_WEIGHTS } from '../health.js';
import { ev } from '../test-support.js';
import type { Positioned } from '../void.js';
import { deriveSignals } from './engine.js';
import { resolveSignalRules } from './rules.js';
import { signalStatuses, signalSummary } from './status.js';

const positioned = (...events: LedgerEvent[]): Positioned[] =>
  events.map((event, i) => ({ event, position: i + 1 }));

/** Two customers' worth of signals in one stream: a silence and a detractor, raised by the engine itself. */
function history() {
  const base = [
    ev('CustomerRegistered', '2024-01-01T00:00:00Z', { segment: 'B2B', acquisitionChannel: 'partner' }),
    ev('SurveyAnswered', '2024-01-10T00:00:00Z', { kind: 'NPS', score: 2, surveyId: 'sv1' }),
  ];
  const signals = deriveSignals('c1', positioned(...base), '2024-03-01T00:00:00Z', {
    rules: resolveSignalRules({ healthBandChanged: { enabled: false }, churnRiskRose: { enabled: false } }),
    silentDays: 30,
    healthWeights: DEFAULT_HEALTH_WEIGHTS,
  }).signals as unknown as LedgerEvent[];
  const detractor = signals.find((s) => s.type === 'DetractorAnswered')!;
  const silent = signals.find((s) => s.type === 'CustomerWentSilent')!;
  return { base, signals, detractor, silent };
}

describe('signalStatuses: a signal is open until the team acts on it', () => {
  it('closes a signal with an outreach caused by it, and measures the time from signal to action', () => {
    const { base, signals, detractor, silent } = history();
    const outreach = {
      ...ev('OutreachMade', '2024-01-10T06:30:00Z', { kind: 'check_in', by: 'csm-1', channel: 'phone' }),
      causationId: detractor.eventId.toUpperCase(),
    } as LedgerEvent;
    const s = signalStatuses(positioned(...base, ...signals, outreach));
    expect(s.map((x) => [x.type, x.status, x.closedBy, x.minutesToAction])).toEqual([
      ['DetractorAnswered', 'acted', 'OutreachMade', 390],
      ['CustomerWentSilent', 'open', null, null],
    ]);
    expect(s[1]!.signalId).toBe(silent.eventId);
    expect(s[0]!.closedByEventId).toBe(outreach.eventId);
    expect(s[1]!.closedByEventId).toBeNull();
    expect(signalSummary(s)).toEqual({
      raised: 2,
      open: 1,
      acted: 1,
      dismissed: 0,
      actedSharePct: 50,
      medianMinutesToAction: 390,
    });
  });

  it('closes by acknowledgement (acted or dismissed), as of a time, and not by a voided action', () => {
    const { base, signals, detractor, silent } = history();
    const ack = ev('SignalAcknowledged', '2024-02-20T00:00:00Z', {
      signalId: silent.eventId,
      signalType: 'CustomerWentSilent',
      by: 'csm-2',
      outcome: 'dismissed',
    });
    const ticket = {
      ...ev('TicketOpened', '2024-01-11T00:00:00Z', {
        ticketId: 't1',
        channel: 'phone',
        category: 'follow-up',
        priority: 'normal',
      }),
      causationId: detractor.eventId,
    } as LedgerEvent;
    const voidTicket = ev('EventVoided', '2024-01-11T00:00:00Z', {
      eventId: ticket.eventId,
      reason: 'wrong',
    });
    const all = positioned(...base, ...signals, ack, ticket);
    expect(signalStatuses(all).map((x) => x.status)).toEqual(['acted', 'dismissed']);
    expect(signalStatuses(all, '2024-02-19T23:59:59Z').map((x) => x.status)).toEqual(['acted', 'open']);
    expect(signalStatuses(all, '2024-01-09T00:00:00Z')).toEqual([]);
    expect(
      signalStatuses(positioned(...base, ...signals, ack, ticket, voidTicket)).map((x) => x.status),
    ).toEqual(['open', 'dismissed']);
    expect(signalSummary([])).toMatchObject({ raised: 0, actedSharePct: null, medianMinutesToAction: null });
  });
});
