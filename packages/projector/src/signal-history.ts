import { upcast, type RawEnvelope } from '@crm-ledger/events';
import {
  DEFAULT_HEALTH_WEIGHTS,
  DEFAULT_SIGNAL_RULES,
  DEFAULT_SILENT_DAYS,
  deriveSignals,
  signalId,
  type Positioned,
} from '@crm-ledger/projections';

/**
 * For specs and benches: a customer history with the signals the engine raises for it by `now` (default
 * rules) and the team's answers to some of them, so the signals view (`success_signals`) has rows of every
 * status to compare: every 3rd signal gets an outreach caused by it (2 hours later), every 7th (from the 2nd)
 * a ticket caused by it (a day later), every 5th (from the 1st) an acknowledgement `dismissed` (3 days later),
 * and every 4th outreach is voided (its signal open again). Deterministic: the same input gives the same events
 * with the same ids (UUID v5, as the engine's).
 */
export function withSignals(
  history: { readonly customerId: string; readonly events: readonly RawEnvelope[] },
  now: string,
): { customerId: string; events: RawEnvelope[] } {
  const { customerId } = history;
  const positioned: Positioned[] = [];
  history.events.forEach((raw, i) => {
    const event = upcast(raw);
    if (event !== undefined) positioned.push({ position: i + 1, event });
  });
  const { signals } = deriveSignals(customerId, positioned, now, {
    rules: DEFAULT_SIGNAL_RULES,
    silentDays: DEFAULT_SILENT_DAYS,
    healthWeights: DEFAULT_HEALTH_WEIGHTS,
  });
  const later = (at: string, minutes: number): string =>
    new Date(Date.parse(at) + minutes * 60_000).toISOString();
  const id = (what: string, signal: string): string => signalId(`test-${what}`, customerId, signal);
  const out: RawEnvelope[] = [...history.events];
  let outreaches = 0;
  signals.forEach((s, i) => {
    out.push(s);
    if (i % 3 === 0) {
      const outreach: RawEnvelope = {
        eventId: id('outreach', s.eventId),
        type: 'OutreachMade',
        schemaVersion: 1,
        customerId,
        occurredAt: later(s.occurredAt, 120),
        causationId: s.eventId,
        data: { kind: 'check_in', by: 'csm-1', channel: 'phone' },
      };
      out.push(outreach);
      if (outreaches++ % 4 === 3)
        out.push({
          eventId: id('void', s.eventId),
          type: 'EventVoided',
          schemaVersion: 1,
          customerId,
          occurredAt: later(s.occurredAt, 240),
          data: { eventId: outreach.eventId, reason: 'recorded on the wrong signal' },
        });
    }
    if (i % 7 === 2)
      out.push({
        eventId: id('ticket', s.eventId),
        type: 'TicketOpened',
        schemaVersion: 2,
        customerId,
        occurredAt: later(s.occurredAt, 1_440),
        causationId: s.eventId,
        data: { ticketId: `sig-${i}`, channel: 'email', category: 'proactive', priority: 'low' },
      });
    if (i % 5 === 1)
      out.push({
        eventId: id('ack', s.eventId),
        type: 'SignalAcknowledged',
        schemaVersion: 1,
        customerId,
        occurredAt: later(s.occurredAt, 4_320),
        data: { signalId: s.eventId, signalType: s.type, by: 'csm-2', outcome: 'dismissed' },
      });
  });
  return { customerId, events: out };
}
