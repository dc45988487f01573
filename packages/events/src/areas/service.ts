import { z } from 'zod';
import { defineEvent, olderVersion } from '../define.js';
import { Channel, PersonalShortText, PersonalText, Id, Priority, Slug } from '../primitives.js';

/** The targets a ticket is measured against. */
export const SlaPolicy = z
  .strictObject({
    name: Slug,
    firstReplyMinutes: z.int().min(1).max(525_600),
    resolutionMinutes: z.int().min(1).max(525_600),
  })
  .describe('Service-level targets: first reply and full resolution, in minutes');
export type SlaPolicy = z.infer<typeof SlaPolicy>;

const TicketOpenedV1 = z.strictObject({
  ticketId: Id,
  channel: Channel,
  category: Slug.describe('The contact driver: why the customer got in touch'),
  slaPolicy: SlaPolicy.optional(),
  subject: PersonalText.optional(),
});

export const TicketOpened = defineEvent({
  type: 'TicketOpened',
  area: 'service',
  description: 'A support ticket was opened: channel, contact driver (category), priority and SLA policy',
  latest: TicketOpenedV1.extend({ priority: Priority }),
  // Version 1 had no priority: such tickets were all handled as normal priority.
  older: [olderVersion(TicketOpenedV1, [{ op: 'default', field: 'priority', value: 'normal' }])],
});

export const TicketReplied = defineEvent({
  type: 'TicketReplied',
  area: 'service',
  description: 'A reply was written on a ticket, by an agent or by the customer',
  latest: z.strictObject({
    ticketId: Id,
    by: z.enum(['agent', 'customer']),
    agentId: Id.optional(),
    channel: Channel.optional(),
    body: PersonalText.optional(),
  }),
});

export const TicketEscalated = defineEvent({
  type: 'TicketEscalated',
  area: 'service',
  description: 'A ticket was escalated to a higher support tier',
  latest: z.strictObject({
    ticketId: Id,
    toTier: z.int().min(2).max(5),
    reason: PersonalShortText.optional(),
  }),
});

export const TicketResolved = defineEvent({
  type: 'TicketResolved',
  area: 'service',
  description: 'A support ticket was resolved',
  latest: z.strictObject({
    ticketId: Id,
    resolution: z.enum(['solved', 'workaround', 'duplicate', 'wont_fix', 'no_response']).optional(),
    agentId: Id.optional(),
  }),
});

export const TicketReopened = defineEvent({
  type: 'TicketReopened',
  area: 'service',
  description: 'A resolved ticket was reopened: the problem was not solved',
  latest: z.strictObject({ ticketId: Id, reason: PersonalShortText.optional() }),
});
