import type { Row } from '@crm-ledger/core';
import {
  type CHURN_REASONS,
  emptyRecord,
  isSignalAreaType,
  type DataOf,
  type LedgerEvent,
  type SignalType,
} from '@crm-ledger/events';
import { churnRiskOf, healthOf, type ChurnRisk, type Health, type HealthWeights } from '../health.js';
import { successProjection, type SuccessState } from '../success.js';
import { applyTicketEvent, type Ticket } from '../tickets.js';
import { withoutVoided, type Positioned } from '../void.js';
import { signalId } from './ids.js';
import { rulesFor, type RuleName, type RuleSet, type SignalRules } from './rules.js';

/** A signal as the engine raises it: an event of the signals area, ready to append (schema version 1). */
export type SignalEvent = {
  [T in SignalType]: {
    readonly eventId: string;
    readonly type: T;
    readonly schemaVersion: 1;
    readonly customerId: string;
    readonly occurredAt: string;
    readonly causationId?: string;
    readonly data: DataOf<T>;
  };
}[SignalType];

export interface SignalOptions {
  readonly rules: SignalRules;
  /** `CRM_LEDGER_SILENT_DAYS`: silence threshold of "went silent" and of the churn reason. */
  readonly silentDays: number;
  readonly healthWeights: HealthWeights;
}

export interface DerivedSignals {
  /** Every signal the history raised up to `now`, in time order. */
  readonly signals: SignalEvent[];
  /**
   * The next instant after `now` at which a rule may fire without a new event (a silence, an SLA target, a
   * renewal window, a health re-evaluation as recency decays): the engine need not run for this customer before
   * then unless an event arrives. Null: nothing pending.
   */
  readonly nextCheckAt: string | null;
}

const DAY = 86_400_000;
const MINUTE = 60_000;
const RISK_RANK: Record<ChurnRisk, number> = { low: 0, medium: 1, high: 2 };
const iso = (ms: number): string => new Date(ms).toISOString();
const midnight = (date: string): number => Date.parse(`${date}T00:00:00.000Z`);

function reasonCode(reason: string): (typeof CHURN_REASONS)[number] {
  if (reason.startsWith('all subscriptions')) return 'all_subscriptions_cancelled';
  if (reason === 'health is red') return 'health_red';
  if (reason === 'health is yellow') return 'health_yellow';
  if (reason.startsWith('renewal')) return 'renewal_soon_low_health';
  if (reason === 'contracted') return 'contracted';
  return 'silent';
}

interface Trigger {
  readonly at: number;
  readonly fire: (at: number) => void;
}

/**
 * The signal engine (issue #16): every signal one customer's history raises up to the instant `now`. A pure
 * function of (history, now, options): no clock is read, so the same log up to the same time raises the same
 * signals with the same ids, and a replay, a retry or a second engine appends nothing new.
 *
 * How time is handled: the events that count (voided ones and signals left out, `occurredAt <= now`) are
 * applied in business-time order (`occurredAt`, then position). Between them, rules that fire because time
 * passes (silence, SLA targets, overdue criteria, renewal windows) fire at their own instant, and health and
 * churn risk are re-evaluated at every instant they can change (each event, and each whole day of silence from
 * 8 to 90 days, past `silentDays`, and at the edges of a renewal's 30-day window): the band is constant between
 * those instants, so nothing is missed and nothing depends on when the engine runs. Every signal at instant T
 * depends only on the events up to T, hence: `deriveSignals(h, t1)` is exactly the signals of
 * `deriveSignals(h, t2)` with `occurredAt <= t1`, for any t1 <= t2 (the property spec checks it).
 */
export function deriveSignals(
  customerId: string,
  history: readonly Positioned[],
  now: string,
  options: SignalOptions,
): DerivedSignals {
  const nowMs = Date.parse(now);
  const counted = withoutVoided(history)
    .filter((p) => p.event.type !== 'ExchangeRateRecorded' && !isSignalAreaType(p.event.type))
    .map((p) => ({ ...p, at: Date.parse(p.event.occurredAt) }));
  const events = counted.filter((p) => p.at <= nowMs).sort((a, b) => a.at - b.at || a.position - b.position);
  // an event dated after `now` counts once the clock reaches it: the engine must run again then
  const future = counted.filter((p) => p.at > nowMs).map((p) => p.at);

  const success: SuccessState = successProjection.init(customerId);
  const tickets = emptyRecord<Ticket>();
  const raised = new Set<string>();
  /** (subscription, renewal date) -> when the ledger's history first had it active. */
  const renewalsKnown = new Map<string, number>();
  const out: SignalEvent[] = [];
  let cur = Number.NEGATIVE_INFINITY;
  let lastEval = Number.NEGATIVE_INFINITY;
  let prevHealth: Health | undefined;
  let prevRisk: ChurnRisk | undefined;

  const rules = (): RuleSet => rulesFor(options.rules, success.data.profile.segment);
  const enabled = (rule: RuleName): boolean => rules()[rule].enabled;
  const raise = <T extends SignalType>(
    rule: RuleName,
    trigger: string,
    type: T,
    at: number,
    data: DataOf<T>,
    causationId?: string,
  ): void => {
    const key = `${rule}\u0000${trigger}`;
    if (raised.has(key)) return;
    raised.add(key);
    if (!rules()[rule].enabled) return;
    out.push({
      eventId: signalId(rule, customerId, trigger),
      type,
      schemaVersion: 1,
      customerId,
      occurredAt: iso(at),
      ...(causationId === undefined ? {} : { causationId }),
      data,
    } as SignalEvent);
  };
  const accountRow = (): Row => successProjection.rows(success)['success_accounts']![0]!;
  const healthAt = (at: number): Health => healthOf(accountRow(), iso(at), options.healthWeights);

  function evaluate(at: number): void {
    if (at <= lastEval) return;
    lastEval = at;
    const row = accountRow();
    const health = healthOf(row, iso(at), options.healthWeights);
    const churn = churnRiskOf(row, iso(at), health, options.silentDays);
    if (prevHealth !== undefined && prevHealth.band !== health.band && enabled('healthBandChanged')) {
      const before = prevHealth;
      raise(
        'healthBandChanged',
        `${iso(at)}\u0000${before.band}\u0000${health.band}`,
        'HealthBandChanged',
        at,
        {
          from: before.band,
          to: health.band,
          scoreBefore: before.score,
          score: health.score,
          components: health.components.flatMap((c) => {
            const was = before.components.find((b) => b.name === c.name)?.score ?? c.score;
            return was === c.score ? [] : [{ name: c.name, from: was, to: c.score }];
          }),
        },
      );
    }
    if (prevRisk !== undefined && RISK_RANK[churn.risk] > RISK_RANK[prevRisk] && enabled('churnRiskRose')) {
      raise('churnRiskRose', `${iso(at)}\u0000${prevRisk}\u0000${churn.risk}`, 'ChurnRiskRose', at, {
        from: prevRisk,
        to: churn.risk,
        reasons: churn.reasons.map((r) => ({ reason: reasonCode(r.reason), points: r.points })),
      });
    }
    prevHealth = health;
    prevRisk = churn.risk;
  }

  /** Every rule that may fire without an event, with its instant (never before `cur`: late knowledge fires now). */
  function triggers(): Trigger[] {
    const list: Trigger[] = [];
    const d = success.data;
    const last = d.lastInteractionAt;
    if (last !== null) {
      const lastMs = Date.parse(last);
      const key = `wentSilent\u0000${last}`;
      if (!raised.has(key))
        list.push({
          at: lastMs + options.silentDays * DAY,
          fire: (at) =>
            raise('wentSilent', last, 'CustomerWentSilent', at, {
              silentDays: options.silentDays,
              lastInteractionAt: last,
            }),
        });
      // health and churn change with each whole day of silence (recency 8..90 days, the silent reason)
      for (const k of [...Array.from({ length: 83 }, (_, i) => i + 8), options.silentDays + 1]) {
        const at = lastMs + k * DAY;
        if (at > lastEval) list.push({ at, fire: evaluate });
      }
    }
    for (const [subscriptionId, sub] of Object.entries(d.subs)) {
      if (sub.status !== 'active') continue;
      const renewal = midnight(sub.renewalDate);
      for (const edge of [renewal - 30 * DAY, renewal + 1])
        if (edge > lastEval) list.push({ at: edge, fire: evaluate });
      const known = renewalsKnown.get(`${subscriptionId}\u0000${sub.renewalDate}`) ?? cur;
      const daysBefore = rules().renewalApproaching.daysBefore;
      const at = Math.max(renewal - daysBefore * DAY, known);
      if (at < renewal && !raised.has(`renewalApproaching\u0000${subscriptionId}\u0000${sub.renewalDate}`))
        list.push({
          at,
          fire: (t) => {
            const health = healthAt(t);
            raise(
              'renewalApproaching',
              `${subscriptionId}\u0000${sub.renewalDate}`,
              'RenewalApproaching',
              t,
              {
                subscriptionId,
                renewalDate: sub.renewalDate,
                daysBefore,
                mrr: {
                  amountMinor: sub.mrr,
                  currency: sub.currency as DataOf<'RenewalApproaching'>['mrr']['currency'],
                },
                healthScore: health.score,
                healthBand: health.band,
              },
            );
          },
        });
    }
    for (const t of Object.values(tickets)) {
      const opened = Date.parse(t.openedAt);
      const policy = t.policy ?? 'sla';
      // The service view counts a target breached from the first whole minute past it (minutes > target).
      if (t.firstReplyTargetMin !== null) {
        const target = t.firstReplyTargetMin;
        const due = opened + (target + 1) * MINUTE;
        const met = t.firstReplyAt !== null && Date.parse(t.firstReplyAt) < due;
        if (!met && !raised.has(`slaBreached\u0000${t.id}\u0000first_reply`))
          list.push({ at: due, fire: (at) => breach(t, 'first_reply', target, policy, at) });
      }
      if (t.resolutionTargetMin !== null) {
        const target = t.resolutionTargetMin;
        const due = opened + (target + 1) * MINUTE;
        const met = t.status === 'resolved' && t.resolvedAt !== null && Date.parse(t.resolvedAt) < due;
        if (!met && !raised.has(`slaBreached\u0000${t.id}\u0000resolution`))
          list.push({ at: due, fire: (at) => breach(t, 'resolution', target, policy, at) });
      }
    }
    for (const [criterionId, c] of Object.entries(d.criteria)) {
      if (c.achievedAt !== null || raised.has(`criterionOverdue\u0000${criterionId}`)) continue;
      list.push({
        at: Math.max(midnight(c.targetDate) + DAY, Date.parse(c.definedAt)),
        fire: (at) =>
          raise('criterionOverdue', criterionId, 'SuccessCriterionOverdue', at, {
            criterionId,
            targetDate: c.targetDate,
          }),
      });
    }
    return list;
  }

  function breach(
    t: Ticket,
    target: 'first_reply' | 'resolution',
    targetMinutes: number,
    policy: string,
    at: number,
  ): void {
    raise('slaBreached', `${t.id}\u0000${target}`, 'TicketSlaBreached', at, {
      ticketId: t.id,
      slaPolicy: policy,
      target,
      targetMinutes,
      dueAt: iso(Date.parse(t.openedAt) + targetMinutes * MINUTE),
    });
  }

  /** Fires, in time order, every trigger up to `limit` (inclusive or not), re-planning after each instant. */
  function advance(limit: number, inclusive: boolean): void {
    for (;;) {
      const planned = triggers().map((t) => ({ ...t, at: Math.max(t.at, cur) }));
      const next = Math.min(...planned.map((t) => t.at));
      if (!Number.isFinite(next) || next > limit || (!inclusive && next === limit)) return;
      cur = next;
      const due = planned.filter((t) => t.at === next);
      // time-driven signals first (each at most once), then the health evaluation of that instant
      for (const t of due) if (t.fire !== evaluate) t.fire(next);
      evaluate(next);
    }
  }

  function apply(event: LedgerEvent, position: number, at: number): void {
    successProjection.evolve(success, event, position);
    switch (event.type) {
      case 'TicketOpened':
      case 'TicketReplied':
      case 'TicketEscalated':
      case 'TicketResolved':
      case 'TicketReopened':
        applyTicketEvent(tickets, event);
        return;
      case 'SurveyAnswered': {
        const r = rules().detractorAnswered;
        const limit =
          event.data.kind === 'NPS' ? r.npsAtMost : event.data.kind === 'CSAT' ? r.csatAtMost : r.cesAtMost;
        if (event.data.score > limit) return;
        raise(
          'detractorAnswered',
          event.eventId,
          'DetractorAnswered',
          at,
          {
            surveyEventId: event.eventId,
            surveyId: event.data.surveyId,
            kind: event.data.kind,
            score: event.data.score,
            ...(event.data.ticketId === undefined ? {} : { ticketId: event.data.ticketId }),
            ...(event.data.touchpoint === undefined ? {} : { touchpoint: event.data.touchpoint }),
          },
          event.eventId,
        );
        return;
      }
      case 'UsageRecorded': {
        const [latest, previous] = success.data.usage;
        const end = new Date(Date.parse(event.data.periodEnd)).toISOString();
        if (latest === undefined || previous === undefined || latest.end !== end) return;
        if (latest.sessions !== event.data.sessions || previous.sessions <= 0) return;
        const r = rules().expansionSuggested;
        const growthPct = Math.round(((latest.sessions - previous.sessions) / previous.sessions) * 1000) / 10;
        if (growthPct < r.growthPct || latest.sessions < r.minSessions) return;
        raise(
          'expansionSuggested',
          event.eventId,
          'ExpansionSuggested',
          at,
          {
            usageEventId: event.eventId,
            periodEnd: end,
            sessions: latest.sessions,
            previousSessions: previous.sessions,
            growthPct,
          },
          event.eventId,
        );
        return;
      }
      default:
        return;
    }
  }

  let i = 0;
  while (i < events.length) {
    const at = events[i]!.at;
    advance(at, false);
    cur = at;
    for (; i < events.length && events[i]!.at === at; i++) apply(events[i]!.event, events[i]!.position, at);
    for (const [subscriptionId, sub] of Object.entries(success.data.subs))
      if (sub.status === 'active') {
        const key = `${subscriptionId}\u0000${sub.renewalDate}`;
        if (!renewalsKnown.has(key)) renewalsKnown.set(key, at);
      }
    advance(at, true);
    evaluate(at);
  }
  advance(nowMs, true);
  const pending = [...triggers().map((t) => Math.max(t.at, cur)), ...future].filter((t) => t > nowMs);
  return { signals: out, nextCheckAt: pending.length === 0 ? null : iso(Math.min(...pending)) };
}
