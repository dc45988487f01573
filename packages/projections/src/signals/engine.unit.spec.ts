import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent, type LedgerEvent } from '@crm-ledger/events';
import { DEFAULT_HEALTH_WEIGHTS } from '../health.js';
import { ev } from '../test-support.js';
import type { Positioned } from '../void.js';
import { deriveSignals, type SignalEvent, type SignalOptions } from './engine.js';
import { uuidV5 } from './ids.js';
import { resolveSignalRules, type SignalRulesInput } from './rules.js';

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' as const });
const options = (rules: SignalRulesInput = {}, silentDays = 30): SignalOptions => ({
  rules: resolveSignalRules(rules),
  silentDays,
  healthWeights: DEFAULT_HEALTH_WEIGHTS,
});
const positioned = (...events: LedgerEvent[]): Positioned[] =>
  events.map((event, i) => ({ event, position: i + 1 }));
const derive = (events: Positioned[], now: string, o: SignalOptions = options()) =>
  deriveSignals('c1', events, now, o).signals;
const ofType = <T extends SignalEvent['type']>(signals: SignalEvent[], type: T) =>
  signals.filter((s): s is Extract<SignalEvent, { type: T }> => s.type === type);

describe('uuidV5: the deterministic ids, computed without node:crypto', () => {
  it('gives the RFC 9562 UUIDv5 (SHA-1 of namespace and name), as node:crypto computes it', () => {
    // the DNS namespace example (RFC 9562 appendix): www.example.com
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    for (const name of ['', 'a', 'é☃𝄞', 'x'.repeat(55), 'y'.repeat(64), 'z'.repeat(200)]) {
      const ns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
      const h = createHash('sha1')
        .update(Buffer.concat([Buffer.from(ns.replace(/-/g, ''), 'hex'), Buffer.from(name, 'utf8')]))
        .digest();
      h[6] = (h[6]! & 0x0f) | 0x50;
      h[8] = (h[8]! & 0x3f) | 0x80;
      const hex = h.subarray(0, 16).toString('hex');
      expect(uuidV5(name, ns)).toBe(
        `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      );
    }
  });
});

describe('deriveSignals: one rule at a time', () => {
  const registered = ev('CustomerRegistered', '2024-01-01T00:00:00Z', {
    segment: 'B2B',
    acquisitionChannel: 'partner',
  });
  const touch = (at: string) => ev('TouchpointInteracted', at, { touchpoint: 'app', channel: 'web' });

  it('raises one "went silent" when N days pass without interaction, at that instant, and none before', () => {
    const h = positioned(registered, touch('2024-01-10T12:00:00Z'));
    expect(ofType(derive(h, '2024-02-09T11:59:59Z'), 'CustomerWentSilent')).toEqual([]);
    const silent = ofType(derive(h, '2024-02-09T12:00:00Z'), 'CustomerWentSilent');
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatchObject({
      occurredAt: '2024-02-09T12:00:00.000Z',
      data: { silentDays: 30, lastInteractionAt: '2024-01-10T12:00:00.000Z' },
    });
    // later runs raise the same signal, same id, and no second one for the same silence
    const later = ofType(derive(h, '2024-12-31T00:00:00Z'), 'CustomerWentSilent');
    expect(later).toEqual(silent);
  });

  it('raises a new silence for each new period, none when an interaction came in time', () => {
    const h = positioned(registered, touch('2024-01-10T00:00:00Z'), touch('2024-02-05T00:00:00Z'));
    const silent = ofType(derive(h, '2024-06-01T00:00:00Z'), 'CustomerWentSilent');
    expect(silent.map((s) => s.data)).toEqual([
      { silentDays: 30, lastInteractionAt: '2024-02-05T00:00:00.000Z' },
    ]);
    const h2 = positioned(...h.map((p) => p.event), touch('2024-04-01T00:00:00Z'));
    const two = ofType(derive(h2, '2024-06-01T00:00:00Z'), 'CustomerWentSilent');
    expect(two).toHaveLength(2);
    expect(new Set(two.map((s) => s.eventId)).size).toBe(2);
    expect(two[0]!.eventId).toBe(silent[0]!.eventId);
  });

  it('raises "renewal approaching" N days before, with MRR and health; at once for a renewal already inside the window', () => {
    const start = ev('SubscriptionStarted', '2024-01-02T00:00:00Z', {
      subscriptionId: 's1',
      plan: 'pro',
      mrr: usd(50_000),
      termMonths: 12,
      renewalDate: '2024-03-01',
    });
    const h = positioned(registered, start);
    const r = ofType(derive(h, '2024-06-01T00:00:00Z', options({}, 365)), 'RenewalApproaching');
    expect(r).toHaveLength(1);
    expect(r[0]!.occurredAt).toBe('2024-01-31T00:00:00.000Z');
    expect(r[0]!.data).toMatchObject({
      subscriptionId: 's1',
      renewalDate: '2024-03-01',
      daysBefore: 30,
      mrr: usd(50_000),
    });
    const late = ofType(
      derive(h, '2024-06-01T00:00:00Z', options({ renewalApproaching: { daysBefore: 90 } }, 365)),
      'RenewalApproaching',
    );
    expect(late.map((s) => s.occurredAt)).toEqual(['2024-01-02T00:00:00.000Z']);
  });

  it('raises "SLA breached" for the target missed (first whole minute past it), not for the one met', () => {
    const opened = ev('TicketOpened', '2024-01-05T10:00:00Z', {
      ticketId: 't1',
      channel: 'email',
      category: 'billing',
      priority: 'high',
      slaPolicy: { name: 'gold', firstReplyMinutes: 60, resolutionMinutes: 240 },
    });
    const replied = ev('TicketReplied', '2024-01-05T10:30:00Z', { ticketId: 't1', by: 'agent' });
    const h = positioned(registered, opened, replied);
    expect(ofType(derive(h, '2024-01-05T14:00:59Z'), 'TicketSlaBreached')).toEqual([]);
    const b = ofType(derive(h, '2024-01-05T14:01:00Z'), 'TicketSlaBreached');
    expect(b.map((s) => s.data)).toEqual([
      {
        ticketId: 't1',
        slaPolicy: 'gold',
        target: 'resolution',
        targetMinutes: 240,
        dueAt: '2024-01-05T14:00:00.000Z',
      },
    ]);
    const resolved = ev('TicketResolved', '2024-01-05T13:00:00Z', { ticketId: 't1' });
    expect(
      ofType(
        derive(positioned(registered, opened, replied, resolved), '2024-02-01T00:00:00Z'),
        'TicketSlaBreached',
      ),
    ).toEqual([]);
  });

  it('raises "detractor answered" at or below the threshold only, referring to the survey', () => {
    const low = ev('SurveyAnswered', '2024-01-05T00:00:00Z', {
      kind: 'NPS',
      score: 6,
      surveyId: 'sv1',
      ticketId: 't9',
    });
    const high = ev('SurveyAnswered', '2024-01-06T00:00:00Z', { kind: 'NPS', score: 7, surveyId: 'sv2' });
    const d = ofType(derive(positioned(registered, low, high), '2024-01-07T00:00:00Z'), 'DetractorAnswered');
    expect(d.map((s) => s.data)).toEqual([
      { surveyEventId: low.eventId, surveyId: 'sv1', kind: 'NPS', score: 6, ticketId: 't9' },
    ]);
    expect(d[0]!.causationId).toBe(low.eventId);
  });

  it('raises "criterion overdue" the day after its target date unless achieved by then', () => {
    const def = (id: string) =>
      ev('SuccessCriterionDefined', '2024-01-02T00:00:00Z', {
        criterionId: id,
        description: 'x',
        targetDate: '2024-02-01',
      });
    const done = ev('OutcomeAchieved', '2024-02-01T23:00:00Z', { criterionId: 'k2' });
    const o = ofType(
      derive(positioned(registered, def('k1'), def('k2'), done), '2024-03-01T00:00:00Z'),
      'SuccessCriterionOverdue',
    );
    expect(o.map((s) => [s.occurredAt, s.data.criterionId])).toEqual([['2024-02-02T00:00:00.000Z', 'k1']]);
  });

  it('raises "expansion suggested" when sessions grow by the threshold, not below it', () => {
    const usage = (end: string, sessions: number) =>
      ev('UsageRecorded', end, {
        periodStart: '2024-01-01T00:00:00Z',
        periodEnd: end,
        activeUsers: 5,
        sessions,
      });
    const h = positioned(
      registered,
      usage('2024-01-31T00:00:00Z', 100),
      usage('2024-02-29T00:00:00Z', 149),
      usage('2024-03-31T00:00:00Z', 300),
    );
    const e = ofType(derive(h, '2024-04-01T00:00:00Z'), 'ExpansionSuggested');
    expect(e.map((s) => s.data.growthPct)).toEqual([101.3]);
  });

  it('raises "health band changed" and "churn risk rose" as silence decays health, with the components that moved', () => {
    const h = positioned(registered, touch('2024-01-10T00:00:00Z'));
    const s = derive(h, '2024-06-01T00:00:00Z');
    const bands = ofType(s, 'HealthBandChanged');
    expect(bands.length).toBeGreaterThan(0);
    for (const b of bands) {
      expect(b.data.from).not.toBe(b.data.to);
      expect(b.data.components.map((c) => c.name)).toContain('engagementRecency');
    }
    const risk = ofType(s, 'ChurnRiskRose');
    expect(risk.length).toBeGreaterThan(0);
    expect(risk.at(-1)!.data.reasons.map((r) => r.reason)).toContain('silent');
  });

  it('says when it must run again: an event dated after now, the next instant a rule may fire', () => {
    const h = positioned(registered, touch('2024-01-10T00:00:00Z'));
    expect(deriveSignals('c1', h, '2024-01-05T00:00:00Z', options()).nextCheckAt).toBe(
      '2024-01-10T00:00:00.000Z',
    );
    // health recency first changes 8 days after the last interaction
    expect(deriveSignals('c1', h, '2024-01-15T00:00:00Z', options()).nextCheckAt).toBe(
      '2024-01-18T00:00:00.000Z',
    );
  });

  it('raises nothing for a rule that is off, also per segment', () => {
    const h = positioned(registered, touch('2024-01-10T00:00:00Z'));
    expect(
      ofType(
        derive(h, '2024-06-01T00:00:00Z', options({ wentSilent: { enabled: false } })),
        'CustomerWentSilent',
      ),
    ).toEqual([]);
    expect(
      ofType(
        derive(h, '2024-06-01T00:00:00Z', options({ segments: { B2B: { wentSilent: { enabled: false } } } })),
        'CustomerWentSilent',
      ),
    ).toEqual([]);
    expect(
      ofType(
        derive(h, '2024-06-01T00:00:00Z', options({ segments: { B2C: { wentSilent: { enabled: false } } } })),
        'CustomerWentSilent',
      ),
    ).toHaveLength(1);
  });

  it('leaves voided events, signals and events after now out, and every signal is a valid event of the catalogue', () => {
    const t = touch('2024-01-10T00:00:00Z');
    const voided = touch('2024-03-01T00:00:00Z');
    const voiding = ev('EventVoided', '2024-03-01T00:00:00Z', { eventId: voided.eventId, reason: 'typo' });
    const h = positioned(registered, t, voided, voiding);
    const s = derive(h, '2024-06-01T00:00:00Z');
    expect(ofType(s, 'CustomerWentSilent').map((x) => x.data.lastInteractionAt)).toEqual([
      '2024-01-10T00:00:00.000Z',
    ]);
    const withSignals = positioned(...h.map((p) => p.event), ...(s as unknown as LedgerEvent[]));
    expect(derive(withSignals, '2024-06-01T00:00:00Z')).toEqual(s);
    for (const signal of s) expect(validateEvent(signal)._tag, JSON.stringify(signal)).toBe('Right');
  });
});

// ---- property: the clock advancing in one step or in many raises the same signals

const DAY = 86_400_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const at = (days: number): string => new Date(T0 + Math.round(days * DAY)).toISOString();

const anEvent = (ticketIds: string[]): fc.Arbitrary<(atIso: string) => LedgerEvent> =>
  fc.oneof(
    fc.constant((a: string) => ev('TouchpointInteracted', a, { touchpoint: 'app', channel: 'web' })),
    fc
      .integer({ min: 0, max: 10 })
      .map((score) => (a: string) => ev('SurveyAnswered', a, { kind: 'NPS', score, surveyId: 'sv' })),
    fc
      .integer({ min: 0, max: 400 })
      .map(
        (sessions) => (a: string) =>
          ev('UsageRecorded', a, { periodStart: at(0), periodEnd: a, activeUsers: 1, sessions }),
      ),
    fc.constantFrom(...ticketIds).map(
      (ticketId) => (a: string) =>
        ev('TicketOpened', a, {
          ticketId,
          channel: 'email',
          category: 'billing',
          priority: 'normal',
          slaPolicy: { name: 'std', firstReplyMinutes: 120, resolutionMinutes: 2880 },
        }),
    ),
    fc
      .constantFrom(...ticketIds)
      .map((ticketId) => (a: string) => ev('TicketReplied', a, { ticketId, by: 'agent' })),
    fc.constantFrom(...ticketIds).map((ticketId) => (a: string) => ev('TicketResolved', a, { ticketId })),
    fc.integer({ min: 1, max: 120 }).map(
      (d) => (a: string) =>
        ev('SubscriptionStarted', a, {
          subscriptionId: `s${d}`,
          plan: 'pro',
          mrr: usd(1000 * d),
          termMonths: 12,
          renewalDate: at(Date.parse(a) / DAY - T0 / DAY + d).slice(0, 10),
        }),
    ),
    fc.integer({ min: -20, max: 60 }).map(
      (d) => (a: string) =>
        ev('SuccessCriterionDefined', a, {
          criterionId: `k${d}`,
          description: 'x',
          targetDate: at(Date.parse(a) / DAY - T0 / DAY + d).slice(0, 10),
        }),
    ),
    fc
      .integer({ min: -20, max: 60 })
      .map((d) => (a: string) => ev('OutcomeAchieved', a, { criterionId: `k${d}` })),
  );

const aHistory = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 200 * 1440 }), anEvent(['t1', 't2', 't3'])), {
    minLength: 2,
    maxLength: 25,
  })
  .map((items) => {
    const reg = ev('CustomerRegistered', at(0), { segment: 'B2B', acquisitionChannel: 'partner' });
    // recorded in a random order (positions), happened at random times
    return positioned(reg, ...items.map(([minutes, make]) => make(at(minutes / 1440))));
  });

const sortedIds = (signals: SignalEvent[]) => signals.map((s) => s.eventId).sort();

describe('deriveSignals: time is an input (property)', () => {
  it('raises the same signals whether the clock advances in one step or in many', () => {
    fc.assert(
      fc.property(
        aHistory,
        fc.array(fc.integer({ min: 0, max: 320 * 1440 }), { minLength: 1, maxLength: 6 }),
        (history, steps) => {
          const clocks = [...steps].sort((a, b) => a - b).map((m) => at(m / 1440));
          const end = clocks.at(-1)!;
          const oneStep = derive(history, end);
          // many steps: what each run appends (ids dedupe: appends are idempotent by event id)
          const appended = new Map<string, SignalEvent>();
          for (const now of clocks)
            for (const s of derive(history, now)) if (!appended.has(s.eventId)) appended.set(s.eventId, s);
          expect([...appended.keys()].sort()).toEqual(sortedIds(oneStep));
          expect(new Set(oneStep.map((s) => s.eventId)).size).toBe(oneStep.length);
          // and each earlier run raised exactly the signals of the last run up to its clock, nothing else
          for (const now of clocks) {
            const earlier = derive(history, now);
            expect(earlier).toEqual(oneStep.filter((s) => s.occurredAt <= now));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
