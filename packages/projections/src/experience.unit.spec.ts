import { describe, expect, it } from 'vitest';
import { experienceProjection } from './experience.js';
import { ev, given } from './test-support.js';

const sla = { name: 'std', firstReplyMinutes: 60, resolutionMinutes: 600 };

describe('experience projection', () => {
  const history = () =>
    given(
      ev('CustomerRegistered', '2024-01-01T00:00:00Z', { segment: 'B2C', acquisitionChannel: 'social' }),
      ev('TouchpointInteracted', '2024-01-02T00:00:00Z', {
        touchpoint: 'checkout',
        channel: 'web',
        sentiment: -0.5,
        effort: 6,
      }),
      ev('TouchpointInteracted', '2024-01-03T00:00:00Z', {
        touchpoint: 'checkout',
        channel: 'mobile_app',
        sentiment: 0.5,
        effort: 2,
      }),
      ev('SurveyAnswered', '2024-01-10T00:00:00Z', {
        surveyId: 'n1',
        kind: 'NPS',
        score: 10,
        channel: 'email',
      }),
      ev('SurveyAnswered', '2024-02-10T00:00:00Z', {
        surveyId: 'n2',
        kind: 'NPS',
        score: 3,
        channel: 'email',
      }),
      ev('SurveyAnswered', '2024-02-11T00:00:00Z', { surveyId: 'n3', kind: 'NPS', score: 8 }),
      ev('TicketOpened', '2024-02-12T00:00:00Z', {
        ticketId: 't1',
        channel: 'chat',
        category: 'delivery',
        priority: 'normal',
        slaPolicy: sla,
      }),
      ev('TicketReplied', '2024-02-12T00:10:00Z', { ticketId: 't1', by: 'agent' }),
      ev('TicketResolved', '2024-02-12T02:00:00Z', { ticketId: 't1' }),
      ev('SurveyAnswered', '2024-02-13T00:00:00Z', {
        surveyId: 'c1',
        kind: 'CSAT',
        score: 2,
        ticketId: 't1',
      }),
      ev('FeedbackGiven', '2024-02-14T00:00:00Z', { channel: 'social', sentiment: -1 }),
    ).then(experienceProjection);

  it('given surveys on several channels, then NPS, CSAT and the survey cells by month and channel', () => {
    const { rows } = history();
    expect(rows['experience_customers']![0]).toMatchObject({
      nps_responses: 3,
      nps_promoters: 1,
      nps_detractors: 1,
      nps: 0,
      csat_responses: 1,
      csat_satisfied: 0,
      csat_pct: 0,
      interactions: 8,
      first_touch_at: '2024-01-02T00:00:00.000Z',
      last_touch_at: '2024-02-14T00:00:00.000Z',
      feedbacks: 1,
      negative_feedbacks: 1,
      sentiment_signals: 3,
      sentiment_avg: -0.333,
    });
    expect(
      rows['experience_surveys']!.map((r) => [r['month'], r['channel'], r['kind'], r['responses']]),
    ).toEqual([
      ['2024-01', 'email', 'NPS', 1],
      ['2024-02', 'email', 'NPS', 1],
      ['2024-02', 'unknown', 'CSAT', 1],
      ['2024-02', 'unknown', 'NPS', 1],
    ]);
  });

  it('then pain points, channel consistency and the sentiment trend', () => {
    const { rows } = history();
    expect(rows['experience_touchpoints']).toEqual([
      {
        customer_id: 'c1',
        touchpoint: 'checkout',
        interactions: 2,
        sentiment_n: 2,
        sentiment_sum: 0,
        effort_n: 2,
        effort_sum: 8,
      },
    ]);
    // channel means (0..100): web 25, mobile_app 75, email (100 + 30) / 2 = 65, social 0 -> spread 75
    expect(rows['experience_customers']![0]).toMatchObject({ channel_spread: 75, channels_used: 5 });
    expect(rows['experience_months']!.map((m) => [m['month'], m['sentiment_n'], m['sentiment_sum']])).toEqual(
      [
        ['2024-01', 2, 0],
        ['2024-02', 1, -1],
      ],
    );
  });

  it('then the perception gap: the SLA was met but the customer was not satisfied', () => {
    const { rows } = history();
    expect(rows['experience_ticket_feedback']).toEqual([
      expect.objectContaining({
        ticket_id: 't1',
        sla_met: 1,
        first_reply_breached: 0,
        resolution_breached: 0,
        survey_kind: 'CSAT',
        score: 2,
        satisfied: 0,
      }),
    ]);
  });

  it('given a survey about an unknown ticket, then the answer counts but the link is an anomaly', () => {
    const { rows, anomalies } = given(
      ev('SurveyAnswered', '2024-02-13T00:00:00Z', { surveyId: 'c1', kind: 'CSAT', score: 5, ticketId: 'x' }),
    ).then(experienceProjection);
    expect(rows['experience_customers']![0]).toMatchObject({
      csat_responses: 1,
      csat_pct: 100,
      anomalies: 1,
    });
    expect(anomalies).toEqual([
      expect.objectContaining({ position: 1, reason: 'survey about an unknown ticket' }),
    ]);
    expect(rows['experience_ticket_feedback']).toEqual([]);
  });
});
