import { z } from 'zod';
import { defineEvent } from '../define.js';
import { Channel, Effort, PersonalText, Id, Sentiment, Slug } from '../primitives.js';

export const TouchpointInteracted = defineEvent({
  type: 'TouchpointInteracted',
  area: 'experience',
  description:
    'The customer interacted with a touchpoint (page, app screen, store, call menu...) on a channel',
  latest: z.strictObject({
    touchpoint: Slug,
    channel: Channel,
    sentiment: Sentiment.optional(),
    effort: Effort.optional().describe('Effort the interaction took: 1 very easy ... 7 very hard'),
    durationSeconds: z
      .int()
      .min(0)
      .max(86_400 * 30)
      .optional(),
  }),
});

const SurveyCommon = {
  surveyId: Id,
  channel: Channel.optional(),
  ticketId: Id.optional().describe('The ticket this answer is about, if any'),
  touchpoint: Slug.optional(),
  comment: PersonalText.optional(),
};

export const SurveyAnswered = defineEvent({
  type: 'SurveyAnswered',
  area: 'experience',
  description: 'A survey was answered: NPS (0-10), CSAT (1-5) or CES (1-7, 7 = very easy)',
  latest: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('NPS'), score: z.int().min(0).max(10), ...SurveyCommon }),
    z.strictObject({ kind: z.literal('CSAT'), score: z.int().min(1).max(5), ...SurveyCommon }),
    z.strictObject({ kind: z.literal('CES'), score: z.int().min(1).max(7), ...SurveyCommon }),
  ]),
  pii: ['comment'],
});

export const FeedbackGiven = defineEvent({
  type: 'FeedbackGiven',
  area: 'experience',
  description: 'Unsolicited feedback (a review, a comment, a complaint)',
  latest: z.strictObject({
    channel: Channel,
    topic: Slug.optional(),
    sentiment: Sentiment.optional(),
    text: PersonalText.optional(),
  }),
  pii: ['text'],
});
