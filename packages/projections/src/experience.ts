import type { ProjectionSpec, Row } from '@crm-ledger/core';
import { emptyRecord } from '@crm-ledger/events';
import type { EventOf, LedgerEvent } from '@crm-ledger/events';
import { match } from 'ts-pattern';
import { col, ignore, ignoreSignals, noteAnomaly, type Handlers } from './projection.js';
import { erased, profileColumns, profileUpdated, registered } from './profile.js';
import { profileCols, viewFrame, viewSpec, type ViewData, type ViewState } from './frame.js';
import {
  applyTicketEvent,
  firstReplyBreached,
  resolutionBreached,
  slaMet,
  type Ticket,
  type TicketEvent,
} from './tickets.js';
import { monthOf, normalizeTs } from './time.js';

interface Channel {
  interactions: number;
  /** Satisfaction signals mapped to 0..100 (sentiment, NPS, CSAT, CES). */
  satN: number;
  satSum: number;
  effortN: number;
  effortSum: number;
}
interface Touchpoint {
  interactions: number;
  sentimentN: number;
  sentimentSum: number;
  effortN: number;
  effortSum: number;
}
interface SurveyCell {
  responses: number;
  scoreSum: number;
  promoters: number;
  detractors: number;
  satisfied: number;
}
interface MonthCell {
  interactions: number;
  sentimentN: number;
  sentimentSum: number;
}
interface TicketFeedback {
  kind: 'NPS' | 'CSAT' | 'CES';
  score: number;
  answeredAt: string;
}

/** Persistent state of the experience view for one customer. */
export interface ExperienceData extends ViewData {
  interactions: number;
  firstTouchAt: string | null;
  lastTouchAt: string | null;
  channels: Record<string, Channel>;
  touchpoints: Record<string, Touchpoint>;
  /** Key `month|channel|kind`. */
  surveys: Record<string, SurveyCell>;
  months: Record<string, MonthCell>;
  feedbacks: number;
  negativeFeedbacks: number;
  tickets: Record<string, Ticket>;
  /** The latest survey answer about each ticket. */
  ticketFeedback: Record<string, TicketFeedback>;
}
export type ExperienceState = ViewState<ExperienceData>;

// 2: the experience_held table (issue #14)
// 3: times as `timestamp` and flags as `boolean` column types (PostgreSQL: timestamptz, boolean; issue #19)
export const experienceSpec: ProjectionSpec = viewSpec('experience', 3, [
  {
    name: 'experience_customers',
    description: 'Per customer: interactions, NPS/CSAT/CES, sentiment, channel consistency, feedback.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      ...profileCols(),
      col(
        'interactions',
        'integer',
        'Interactions on any channel (touchpoints, tickets, replies, surveys, feedback, outreach, purchases with a channel)',
      ),
      col('channels_used', 'integer', 'Distinct channels with an interaction'),
      col('first_touch_at', 'timestamp', 'First interaction', true),
      col('last_touch_at', 'timestamp', 'Latest interaction', true),
      col('nps_responses', 'integer', 'NPS answers'),
      col('nps_promoters', 'integer', 'NPS answers 9-10'),
      col('nps_detractors', 'integer', 'NPS answers 0-6'),
      col('nps', 'real', '% promoters - % detractors (NULL without answers)', true),
      col('csat_responses', 'integer', 'CSAT answers'),
      col('csat_satisfied', 'integer', 'CSAT answers 4-5'),
      col('csat_pct', 'real', '% of CSAT answers that are 4-5', true),
      col('ces_responses', 'integer', 'CES answers'),
      col('ces_avg', 'real', 'Mean CES (1-7, 7 = very easy)', true),
      col('sentiment_signals', 'integer', 'Touchpoints and feedback with a sentiment'),
      col('sentiment_avg', 'real', 'Mean sentiment (-1..1)', true),
      col(
        'channel_spread',
        'real',
        'Channel consistency: max - min mean satisfaction (0-100) over channels with signals',
        true,
      ),
      col('feedbacks', 'integer', 'Unsolicited feedback given'),
      col('negative_feedbacks', 'integer', 'Feedback with sentiment < 0'),
      col('anomalies', 'integer', 'Events this view skipped (see experience_anomalies)'),
    ],
    primaryKey: ['customer_id'],
    indexes: [{ name: 'experience_customers_segment', columns: ['segment'] }],
  },
  {
    name: 'experience_channels',
    description: 'Per customer and channel: interactions, satisfaction and effort (channel consistency).',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('channel', 'text', 'The channel'),
      col('interactions', 'integer', 'Interactions on this channel'),
      col('satisfaction_n', 'integer', 'Satisfaction signals (sentiment, NPS, CSAT, CES) on this channel'),
      col('satisfaction_sum', 'real', 'Sum of the signals mapped to 0-100 (mean = sum / n)'),
      col('effort_n', 'integer', 'Touchpoints with an effort (1 very easy .. 7 very hard)'),
      col('effort_sum', 'integer', 'Sum of efforts'),
    ],
    primaryKey: ['customer_id', 'channel'],
    indexes: [{ name: 'experience_channels_channel', columns: ['channel'] }],
  },
  {
    name: 'experience_touchpoints',
    description: 'Per customer and touchpoint: interactions, sentiment and effort (pain points).',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('touchpoint', 'text', 'The touchpoint'),
      col('interactions', 'integer', 'Interactions'),
      col('sentiment_n', 'integer', 'Interactions with a sentiment'),
      col('sentiment_sum', 'real', 'Sum of sentiments (-1..1 each)'),
      col('effort_n', 'integer', 'Interactions with an effort'),
      col('effort_sum', 'integer', 'Sum of efforts (1 very easy .. 7 very hard)'),
    ],
    primaryKey: ['customer_id', 'touchpoint'],
    indexes: [{ name: 'experience_touchpoints_touchpoint', columns: ['touchpoint'] }],
  },
  {
    name: 'experience_surveys',
    description: 'Survey answers per customer, month (of occurredAt), channel ("unknown" if none) and kind.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('month', 'text', 'YYYY-MM'),
      col('channel', 'text', 'Channel of the survey, "unknown" when not given'),
      col('kind', 'text', 'NPS, CSAT or CES'),
      col('responses', 'integer', 'Answers'),
      col('score_sum', 'integer', 'Sum of scores'),
      col('promoters', 'integer', 'NPS 9-10'),
      col('detractors', 'integer', 'NPS 0-6'),
      col('satisfied', 'integer', 'CSAT 4-5'),
    ],
    primaryKey: ['customer_id', 'month', 'channel', 'kind'],
    indexes: [{ name: 'experience_surveys_month', columns: ['kind', 'month', 'channel'] }],
  },
  {
    name: 'experience_months',
    description: 'Per customer and month: interactions and sentiment (the sentiment trend).',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('month', 'text', 'YYYY-MM'),
      col('interactions', 'integer', 'Interactions in the month'),
      col('sentiment_n', 'integer', 'Signals with a sentiment'),
      col('sentiment_sum', 'real', 'Sum of sentiments (-1..1 each)'),
    ],
    primaryKey: ['customer_id', 'month'],
  },
  {
    name: 'experience_ticket_feedback',
    description:
      'Perception gap: for each ticket the customer scored, what the SLA says (internal) and what the customer said.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('ticket_id', 'text', 'The ticket'),
      col('channel', 'text', 'Channel of the ticket'),
      col('priority', 'text', 'Priority of the ticket'),
      col(
        'sla_met',
        'boolean',
        '1 all SLA targets met, 0 one breached, NULL unknown (no SLA or still pending)',
        true,
      ),
      col('first_reply_breached', 'boolean', '1/0/NULL as in service_tickets', true),
      col('resolution_breached', 'boolean', '1/0/NULL as in service_tickets', true),
      col('survey_kind', 'text', 'NPS, CSAT or CES'),
      col('score', 'integer', 'The latest score given about the ticket'),
      col('satisfied', 'boolean', '1 when the customer was satisfied: NPS >= 9, CSAT >= 4, CES >= 5'),
      col('answered_at', 'timestamp', 'When the survey was answered'),
    ],
    primaryKey: ['customer_id', 'ticket_id'],
  },
]);

/** A survey score mapped to 0..100 and whether it counts as satisfied. */
function surveyScale(kind: 'NPS' | 'CSAT' | 'CES', score: number): { value: number; satisfied: boolean } {
  return match(kind)
    .with('NPS', () => ({ value: score * 10, satisfied: score >= 9 }))
    .with('CSAT', () => ({ value: ((score - 1) / 4) * 100, satisfied: score >= 4 }))
    .with('CES', () => ({ value: ((score - 1) / 6) * 100, satisfied: score >= 5 }))
    .exhaustive();
}

function channel(s: ExperienceState, name: string): Channel {
  s.pending.dirty.add(`c:${name}`);
  return (s.data.channels[name] ??= { interactions: 0, satN: 0, satSum: 0, effortN: 0, effortSum: 0 });
}

function monthCell(s: ExperienceState, at: string): MonthCell {
  const key = monthOf(at);
  s.pending.dirty.add(`m:${key}`);
  return (s.data.months[key] ??= { interactions: 0, sentimentN: 0, sentimentSum: 0 });
}

/** Records an interaction on a channel, in time order of the journey. */
function touch(s: ExperienceState, e: LedgerEvent, channelName: string | undefined): string {
  const at = normalizeTs(e.occurredAt);
  const d = s.data;
  d.interactions++;
  if (d.firstTouchAt === null || at < d.firstTouchAt) d.firstTouchAt = at;
  if (d.lastTouchAt === null || at > d.lastTouchAt) d.lastTouchAt = at;
  if (channelName !== undefined) channel(s, channelName).interactions++;
  monthCell(s, at).interactions++;
  return at;
}

function sentiment(s: ExperienceState, at: string, channelName: string, value: number): void {
  const m = monthCell(s, at);
  m.sentimentN++;
  m.sentimentSum += value;
  const c = channel(s, channelName);
  c.satN++;
  c.satSum += (value + 1) * 50;
}

function onTicket(s: ExperienceState, e: TicketEvent, position: number): void {
  const r = applyTicketEvent(s.data.tickets, e);
  if (r.anomaly !== undefined) noteAnomaly(s.data, s.pending, e, position, r.anomaly);
  if (r.changed !== undefined && s.data.ticketFeedback[r.changed] !== undefined)
    s.pending.dirty.add(`k:${r.changed}`);
}

const handlers: Handlers<ExperienceState> = {
  CustomerRegistered: (s, e) => registered(s.data.profile, e),
  CustomerProfileUpdated: (s, e) => profileUpdated(s.data.profile, e),
  CustomerErased: (s, e) => erased(s.data.profile, e),
  PurchaseMade: (s, e) => {
    if (e.data.channel !== undefined) touch(s, e, e.data.channel);
  },
  RefundIssued: () => undefined,
  SubscriptionStarted: () => undefined,
  SubscriptionRenewed: () => undefined,
  SubscriptionExpanded: () => undefined,
  SubscriptionContracted: () => undefined,
  SubscriptionCancelled: () => undefined,
  TicketOpened(s, e, position) {
    touch(s, e, e.data.channel);
    onTicket(s, e, position);
  },
  TicketReplied(s, e, position) {
    if (e.data.by === 'customer') touch(s, e, e.data.channel);
    onTicket(s, e, position);
  },
  TicketEscalated: onTicket,
  TicketResolved: onTicket,
  TicketReopened: onTicket,
  SuccessCriterionDefined: () => undefined,
  OutcomeAchieved: () => undefined,
  OnboardingMilestoneReached: () => undefined,
  FeatureAdopted: () => undefined,
  UsageRecorded: () => undefined,
  TrainingCompleted: () => undefined,
  OutreachMade: (s, e) => {
    touch(s, e, e.data.channel);
  },
  TouchpointInteracted(s, e) {
    const at = touch(s, e, e.data.channel);
    const tp = (s.data.touchpoints[e.data.touchpoint] ??= {
      interactions: 0,
      sentimentN: 0,
      sentimentSum: 0,
      effortN: 0,
      effortSum: 0,
    });
    s.pending.dirty.add(`t:${e.data.touchpoint}`);
    tp.interactions++;
    if (e.data.sentiment !== undefined) {
      tp.sentimentN++;
      tp.sentimentSum += e.data.sentiment;
      sentiment(s, at, e.data.channel, e.data.sentiment);
    }
    if (e.data.effort !== undefined) {
      tp.effortN++;
      tp.effortSum += e.data.effort;
      const c = channel(s, e.data.channel);
      c.effortN++;
      c.effortSum += e.data.effort;
    }
  },
  SurveyAnswered(s, e, position) {
    onSurvey(s, e, position);
  },
  FeedbackGiven(s, e) {
    const at = touch(s, e, e.data.channel);
    s.data.feedbacks++;
    if (e.data.sentiment !== undefined) {
      if (e.data.sentiment < 0) s.data.negativeFeedbacks++;
      sentiment(s, at, e.data.channel, e.data.sentiment);
    }
  },
  // Corrections are applied by re-folding the customer's stream without the voided events (see void.ts).
  EventVoided: ignore,
  ExchangeRateRecorded: ignore,
  // the signals area (issue #16): only the success view folds it (success_signals)
  ...ignoreSignals,
};

function onSurvey(s: ExperienceState, e: EventOf<'SurveyAnswered'>, position: number): void {
  const { kind, score } = e.data;
  const at = touch(s, e, e.data.channel);
  const ch = e.data.channel ?? 'unknown';
  const scale = surveyScale(kind, score);
  const key = `${monthOf(at)}|${ch}|${kind}`;
  const cell = (s.data.surveys[key] ??= {
    responses: 0,
    scoreSum: 0,
    promoters: 0,
    detractors: 0,
    satisfied: 0,
  });
  s.pending.dirty.add(`s:${key}`);
  cell.responses++;
  cell.scoreSum += score;
  if (kind === 'NPS' && score >= 9) cell.promoters++;
  if (kind === 'NPS' && score <= 6) cell.detractors++;
  if (kind === 'CSAT' && score >= 4) cell.satisfied++;
  if (e.data.channel !== undefined) {
    const c = channel(s, e.data.channel);
    c.satN++;
    c.satSum += scale.value;
  }
  const ticketId = e.data.ticketId;
  if (ticketId === undefined) return;
  if (s.data.tickets[ticketId] === undefined) {
    noteAnomaly(s.data, s.pending, e, position, 'survey about an unknown ticket');
    return;
  }
  s.data.ticketFeedback[ticketId] = { kind, score, answeredAt: at };
  s.pending.dirty.add(`k:${ticketId}`);
}

const ratio = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 1000) / 10;

function customerRow(d: ExperienceData): Row {
  let npsN = 0;
  let promoters = 0;
  let detractors = 0;
  let csatN = 0;
  let csatOk = 0;
  let cesN = 0;
  let cesSum = 0;
  for (const [key, c] of Object.entries(d.surveys)) {
    const kind = key.slice(key.lastIndexOf('|') + 1);
    if (kind === 'NPS') {
      npsN += c.responses;
      promoters += c.promoters;
      detractors += c.detractors;
    } else if (kind === 'CSAT') {
      csatN += c.responses;
      csatOk += c.satisfied;
    } else {
      cesN += c.responses;
      cesSum += c.scoreSum;
    }
  }
  let sentN = 0;
  let sentSum = 0;
  for (const m of Object.values(d.months)) {
    sentN += m.sentimentN;
    sentSum += m.sentimentSum;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of Object.values(d.channels)) {
    if (c.satN === 0) continue;
    const mean = c.satSum / c.satN;
    lo = Math.min(lo, mean);
    hi = Math.max(hi, mean);
  }
  const nps = npsN === 0 ? null : Math.round(((promoters - detractors) / npsN) * 1000) / 10;
  return {
    customer_id: d.customerId,
    ...profileColumns(d.profile),
    interactions: d.interactions,
    channels_used: Object.values(d.channels).filter((c) => c.interactions > 0).length,
    first_touch_at: d.firstTouchAt,
    last_touch_at: d.lastTouchAt,
    nps_responses: npsN,
    nps_promoters: promoters,
    nps_detractors: detractors,
    nps,
    csat_responses: csatN,
    csat_satisfied: csatOk,
    csat_pct: ratio(csatOk, csatN),
    ces_responses: cesN,
    ces_avg: cesN === 0 ? null : Math.round((cesSum / cesN) * 100) / 100,
    sentiment_signals: sentN,
    sentiment_avg: sentN === 0 ? null : Math.round((sentSum / sentN) * 1000) / 1000,
    channel_spread: hi === -Infinity ? null : Math.round((hi - lo) * 10) / 10,
    feedbacks: d.feedbacks,
    negative_feedbacks: d.negativeFeedbacks,
    anomalies: d.anomalyCount,
  };
}

function detailRow(d: ExperienceData, key: string): { table: string; row: Row } | undefined {
  const id = d.customerId;
  const name = key.slice(2);
  return match(key.slice(0, 2))
    .with('c:', () => {
      const c = d.channels[name];
      return c === undefined
        ? undefined
        : {
            table: 'experience_channels',
            row: {
              customer_id: id,
              channel: name,
              interactions: c.interactions,
              satisfaction_n: c.satN,
              satisfaction_sum: c.satSum,
              effort_n: c.effortN,
              effort_sum: c.effortSum,
            },
          };
    })
    .with('t:', () => {
      const t = d.touchpoints[name];
      return t === undefined
        ? undefined
        : {
            table: 'experience_touchpoints',
            row: {
              customer_id: id,
              touchpoint: name,
              interactions: t.interactions,
              sentiment_n: t.sentimentN,
              sentiment_sum: t.sentimentSum,
              effort_n: t.effortN,
              effort_sum: t.effortSum,
            },
          };
    })
    .with('s:', () => {
      const c = d.surveys[name];
      const [month = '', channelName = '', kind = ''] = name.split('|');
      return c === undefined
        ? undefined
        : {
            table: 'experience_surveys',
            row: {
              customer_id: id,
              month,
              channel: channelName,
              kind,
              responses: c.responses,
              score_sum: c.scoreSum,
              promoters: c.promoters,
              detractors: c.detractors,
              satisfied: c.satisfied,
            },
          };
    })
    .with('m:', () => {
      const m = d.months[name];
      return m === undefined
        ? undefined
        : {
            table: 'experience_months',
            row: {
              customer_id: id,
              month: name,
              interactions: m.interactions,
              sentiment_n: m.sentimentN,
              sentiment_sum: m.sentimentSum,
            },
          };
    })
    .with('k:', () => {
      const f = d.ticketFeedback[name];
      const t = d.tickets[name];
      return f === undefined || t === undefined
        ? undefined
        : {
            table: 'experience_ticket_feedback',
            row: {
              customer_id: id,
              ticket_id: name,
              channel: t.channel,
              priority: t.priority,
              sla_met: slaMet(t),
              first_reply_breached: firstReplyBreached(t),
              resolution_breached: resolutionBreached(t),
              survey_kind: f.kind,
              score: f.score,
              satisfied: surveyScale(f.kind, f.score).satisfied ? 1 : 0,
              answered_at: f.answeredAt,
            },
          };
    })
    .otherwise(() => undefined);
}

const allKeys = (d: ExperienceData): string[] =>
  [
    ...Object.keys(d.channels).map((k) => `c:${k}`),
    ...Object.keys(d.touchpoints).map((k) => `t:${k}`),
    ...Object.keys(d.surveys).map((k) => `s:${k}`),
    ...Object.keys(d.months).map((k) => `m:${k}`),
    ...Object.keys(d.ticketFeedback).map((k) => `k:${k}`),
  ].sort();

/**
 * The experience view: every interaction across channels and how the customer felt. NPS, CSAT and CES,
 * sentiment by month (trend), satisfaction and effort per channel (consistency) and per touchpoint (pain
 * points), and for every ticket the customer scored, SLA met vs the score (the perception gap). The journey
 * itself (every touchpoint in time order) is the customer's stream, read at query time.
 */
export const experienceProjection = viewFrame<ExperienceData>({
  name: 'experience',
  spec: experienceSpec,
  fresh: () => ({
    interactions: 0,
    firstTouchAt: null,
    lastTouchAt: null,
    channels: emptyRecord(),
    touchpoints: emptyRecord(),
    surveys: emptyRecord(),
    months: emptyRecord(),
    feedbacks: 0,
    negativeFeedbacks: 0,
    tickets: emptyRecord(),
    ticketFeedback: emptyRecord(),
  }),
  handlers,
  summaryTable: 'experience_customers',
  summaryRow: customerRow,
  detailRow,
  detailKeys: allKeys,
});
