import * as V from './vocabulary.js';
import type { Customer } from './customer.js';
import { adopt } from './b2b.js';
import { clamp, DAY, HOUR, isoDate, MIN, round2 } from './context.js';
import { profileUpdate } from './relationship.js';

/** Service, experience and what every customer shares: surveys, tickets, touchpoints, feedback. */

export function periodicSurveys(c: Customer): void {
  const r = c.rng;
  // NPS about quarterly, answered some of the time.
  for (let t = c.signup + r.between(30, 100) * DAY; t < c.activeEnd; t += r.between(75, 110) * DAY) {
    if (!r.chance(0.4)) continue;
    const score = Math.round(clamp(7 + 3.5 * c.happiness + 1.5 * r.normal(), 0, 10));
    const data: Record<string, unknown> = {
      kind: 'NPS',
      score,
      surveyId: `nps-${isoDate(t).slice(0, 7)}`,
      channel: r.weighted(['email', 'web', 'mobile_app'] as const, [6, 3, 1]),
    };
    if (r.chance(0.2)) data.comment = score >= 9 ? r.pick(V.FEEDBACK_POSITIVE) : r.pick(V.FEEDBACK_NEGATIVE);
    c.add(t, 'SurveyAnswered', data, 'qualtrics');
  }
}

/** Fills the customer's remaining budget with tickets, touchpoints, feedback and the odd profile update. */
export function fill(c: Customer): void {
  const r = c.rng;
  const ticketWeight = c.b2b ? 10 : 6;
  let guard = 0;
  while (c.drafts.length < c.budget && guard++ < 1_000_000) {
    const t = c.someTime();
    const what = r.weighted(['ticket', 'touchpoint', 'feedback', 'profile', 'adopt'] as const, [
      ticketWeight,
      62,
      3,
      0.4,
      c.b2b ? 1 : 0,
    ]);
    switch (what) {
      case 'ticket':
        ticket(c, t);
        break;
      case 'touchpoint':
        touchpoint(c, t);
        break;
      case 'feedback':
        feedback(c, t);
        break;
      case 'profile':
        profileUpdate(c, t);
        break;
      case 'adopt':
        if (c.adopted.size < V.FEATURES.length) adopt(c, t);
        else touchpoint(c, t);
        break;
    }
  }
}

function touchpoint(c: Customer, t: number): void {
  const r = c.rng;
  const tp = c.b2b
    ? r.weighted(V.B2B_TOUCHPOINTS, V.B2B_TOUCHPOINT_WEIGHTS)
    : r.weighted(V.B2C_TOUCHPOINTS, V.B2C_TOUCHPOINT_WEIGHTS);
  const data: Record<string, unknown> = { touchpoint: tp.touchpoint, channel: tp.channel };
  // Pain points: checkout and phone menus feel worse than the rest.
  const pain = tp.touchpoint.includes('checkout') || tp.touchpoint === 'ivr-menu' ? 0.35 : 0;
  const sentiment = clamp(0.25 * c.happiness + 0.35 * r.normal() - pain, -1, 1);
  if (r.chance(0.4)) data.sentiment = round2(sentiment);
  if (r.chance(0.25)) data.effort = Math.round(clamp(3 - 2 * sentiment + r.normal(), 1, 7));
  if (r.chance(0.7)) data.durationSeconds = Math.round(r.exp(tp.channel === 'in_person' ? 900 : 120));
  c.add(t, 'TouchpointInteracted', data, tp.channel === 'mobile_app' ? 'mobile-analytics' : 'web-analytics');
  if (r.chance(0.04)) {
    const score = Math.round(clamp(5 + 1.5 * sentiment + r.normal(), 1, 7));
    c.add(
      t + r.between(1, 30) * MIN,
      'SurveyAnswered',
      {
        kind: 'CES',
        score,
        surveyId: `ces-${tp.touchpoint}`,
        touchpoint: tp.touchpoint,
        channel: tp.channel,
      },
      'qualtrics',
    );
  }
}

function feedback(c: Customer, t: number): void {
  const r = c.rng;
  const sentiment = clamp(0.4 * c.happiness + 0.5 * r.normal(), -1, 1);
  const data: Record<string, unknown> = {
    channel: r.weighted(['email', 'social', 'web', 'mobile_app', 'community'] as const, [3, 3, 3, 2, 1]),
    topic: r.pick(V.FEEDBACK_TOPICS),
    sentiment: round2(sentiment),
  };
  if (r.chance(0.7)) data.text = sentiment >= 0 ? r.pick(V.FEEDBACK_POSITIVE) : r.pick(V.FEEDBACK_NEGATIVE);
  c.add(t, 'FeedbackGiven', data, r.pick(['trustpilot', 'app-store', 'web-form'] as const));
}

function ticket(c: Customer, opened: number): void {
  const r = c.rng;
  const ticketId = `t-${c.id}-${++c.tickets}`;
  const category = c.b2b
    ? r.weighted(V.B2B_CATEGORIES, V.B2B_CATEGORY_WEIGHTS)
    : r.weighted(V.B2C_CATEGORIES, V.B2C_CATEGORY_WEIGHTS);
  const channel = r.weighted(['email', 'chat', 'phone', 'web', 'social'] as const, [35, 30, 15, 15, 5]);
  const priority = r.weighted(['low', 'normal', 'high', 'urgent'] as const, [25, 45, 22, 8]);
  const sla = SLA[priority];
  const data: Record<string, unknown> = { ticketId, channel, category };
  if (r.chance(0.9)) data.slaPolicy = { name: `${c.b2b ? 'b2b' : 'b2c'}-${priority}`, ...sla };
  if (r.chance(0.6)) data.subject = r.pick(V.SUBJECTS[category] ?? ['Help needed']);
  // A few tickets come from an older integration that still sends version 1 (no priority).
  const v1 = r.chance(0.03);
  if (!v1) data.priority = priority;
  const meta = { correlationId: ticketId };
  c.add(opened, 'TicketOpened', data, 'zendesk', { ...meta, schemaVersion: v1 ? 1 : 2 });
  const agent = `agent-${String(1 + r.int(60)).padStart(2, '0')}`;
  // First reply: sooner for urgent tickets; sometimes late, which breaches the SLA.
  let t = opened + r.exp(sla.firstReplyMinutes * MIN * 0.6) + MIN;
  reply(c, t, ticketId, 'agent', agent, channel);
  const exchanges = r.weighted([0, 1, 2, 3, 4], [30, 30, 20, 12, 8]);
  for (let i = 0; i < exchanges; i++) {
    t += r.exp(6 * HOUR) + MIN;
    reply(c, t, ticketId, 'customer', undefined, channel);
    t += r.exp(sla.firstReplyMinutes * MIN) + MIN;
    reply(c, t, ticketId, 'agent', agent, channel);
  }
  if (r.chance(priority === 'urgent' ? 0.25 : priority === 'high' ? 0.12 : 0.04)) {
    t += r.exp(4 * HOUR) + MIN;
    c.add(
      t,
      'TicketEscalated',
      { ticketId, toTier: r.chance(0.8) ? 2 : 3, reason: r.pick(V.ESCALATION_REASONS) },
      'zendesk',
      meta,
    );
  }
  t += r.exp(sla.resolutionMinutes * MIN * 0.5) + MIN;
  const resolution = r.weighted(
    ['solved', 'workaround', 'duplicate', 'wont_fix', 'no_response'] as const,
    [70, 12, 5, 5, 8],
  );
  let resolvedId = c.add(t, 'TicketResolved', { ticketId, resolution, agentId: agent }, 'zendesk', meta);
  if (r.chance(0.06)) {
    t += r.exp(3 * DAY) + HOUR;
    c.add(t, 'TicketReopened', { ticketId, reason: r.pick(V.REOPEN_REASONS) }, 'zendesk', meta);
    t += r.exp(sla.firstReplyMinutes * MIN) + MIN;
    reply(c, t, ticketId, 'agent', agent, channel);
    t += r.exp(sla.resolutionMinutes * MIN * 0.5) + MIN;
    resolvedId = c.add(
      t,
      'TicketResolved',
      { ticketId, resolution: 'solved', agentId: agent },
      'zendesk',
      meta,
    );
  }
  if (r.chance(0.35)) {
    const slow = t - opened > sla.resolutionMinutes * MIN ? 1 : 0;
    const score = Math.round(clamp(4 + c.happiness - slow + 0.8 * r.normal(), 1, 5));
    const survey: Record<string, unknown> = {
      kind: 'CSAT',
      score,
      surveyId: 'csat-ticket',
      ticketId,
      channel: 'email',
    };
    if (r.chance(0.15))
      survey.comment = score >= 4 ? 'Quick and helpful answer.' : 'It took far too long to get this fixed.';
    c.add(t + r.between(10, 600) * MIN, 'SurveyAnswered', survey, 'qualtrics', {
      correlationId: ticketId,
      causationId: resolvedId,
    });
  }
}

function reply(
  c: Customer,
  t: number,
  ticketId: string,
  by: 'agent' | 'customer',
  agentId: string | undefined,
  channel: string,
): void {
  const r = c.rng;
  const data: Record<string, unknown> = { ticketId, by };
  if (agentId !== undefined) data.agentId = agentId;
  if (r.chance(0.5)) data.channel = channel;
  if (r.chance(0.3))
    data.body = by === 'agent' ? r.pick(V.REPLY_BODIES_AGENT) : r.pick(V.REPLY_BODIES_CUSTOMER);
  c.add(t, 'TicketReplied', data, 'zendesk', { correlationId: ticketId });
}

/** Service-level targets per priority, in minutes. */
const SLA = {
  urgent: { firstReplyMinutes: 15, resolutionMinutes: 240 },
  high: { firstReplyMinutes: 60, resolutionMinutes: 1_440 },
  normal: { firstReplyMinutes: 240, resolutionMinutes: 4_320 },
  low: { firstReplyMinutes: 720, resolutionMinutes: 10_080 },
} as const;
