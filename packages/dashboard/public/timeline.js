// The customer 360 timeline in words: one sentence per event type, built from the event's data as the API
// sends it (personal fields are never shown: free texts such as comments, reasons and names are left out).
// A sentence is a list of parts: strings, and links `{ text, href }`. No DOM here (unit-tested in Node).
import { fmt } from './api.js';

const str = (v) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** `switched_competitor` -> `switched competitor` */
const words = (v) => str(v)?.replaceAll('_', ' ');
const money = (m) =>
  m !== null && typeof m === 'object' && num(m.amountMinor) !== undefined && str(m.currency) !== undefined
    ? fmt.money(m.amountMinor, m.currency)
    : undefined;

/** A link to the customer's 360 (live, whatever "as of" the page shows). */
export const customerHref = (id) => `customer.html?id=${encodeURIComponent(id)}`;
/** A link to a ticket's row in the Service table of the same page. */
export const ticketHref = (id) => `#ticket-${encodeURIComponent(id)}`;

const ticket = (d) =>
  str(d.ticketId) === undefined ? undefined : { text: d.ticketId, href: ticketHref(d.ticketId) };
const on = (channel) => (str(channel) === undefined ? '' : ` on ${channel}`);
const opt = (value, f) => (value === undefined ? '' : f(value));

/**
 * Per event type: the sentence's parts, or undefined when the data lacks what the sentence needs (then the
 * type name is shown).
 */
const SENTENCES = new Map([
  [
    'CustomerRegistered',
    (d, e) =>
      str(d.segment) && [
        'Customer ',
        { text: e.customerId, href: customerHref(e.customerId) },
        ` registered (${d.segment}${opt(words(d.acquisitionChannel), (c) => `, acquired via ${c}`)}${opt(str(d.country), (c) => `, ${c}`)})`,
      ],
  ],
  [
    'CustomerProfileUpdated',
    (d) => {
      const fields = Object.keys(d).filter((k) => k !== 'segment' && k !== 'country');
      const changes = [
        ...(str(d.segment) ? [`segment now ${d.segment}`] : []),
        ...(str(d.country) ? [`country now ${d.country}`] : []),
        ...(fields.length === 0 ? [] : [`${fields.join(', ')} changed`]),
      ];
      return [`Profile updated${changes.length === 0 ? '' : `: ${changes.join('; ')}`}`];
    },
  ],
  ['CustomerErased', (d) => [`Personal data erased${opt(words(d.reason), (r) => ` (${r})`)}`]],
  ['EventVoided', () => ['An earlier event was voided: the views ignore it']],
  [
    'TouchpointInteracted',
    (d) => {
      if (!str(d.touchpoint)) return undefined;
      const how = [
        ...(num(d.sentiment) === undefined ? [] : [`sentiment ${fmt.fixed(d.sentiment, 2)}`]),
        ...(num(d.effort) === undefined ? [] : [`effort ${d.effort} of 7`]),
      ];
      return [`Used ${words(d.touchpoint)}${on(d.channel)}${how.length === 0 ? '' : ` (${how.join(', ')})`}`];
    },
  ],
  [
    'SurveyAnswered',
    (d) => {
      const max = { NPS: 10, CSAT: 5, CES: 7 }[d.kind];
      if (max === undefined || num(d.score) === undefined) return undefined;
      const t = ticket(d);
      return [
        `Answered ${d.kind === 'NPS' ? 'an' : 'a'} ${d.kind} survey${on(d.channel)}: ${d.score} of ${max}`,
        ...(t === undefined ? [] : [' about ticket ', t]),
      ];
    },
  ],
  [
    'FeedbackGiven',
    (d) => [
      `Gave feedback${on(d.channel)}${opt(words(d.topic), (t) => ` about ${t}`)}${opt(num(d.sentiment), (s) => ` (sentiment ${fmt.fixed(s, 2)})`)}`,
    ],
  ],
  [
    'PurchaseMade',
    (d) =>
      money(d.amount) && [
        `Order ${d.orderId ?? ''} paid: ${money(d.amount)}${opt(num(d.quantity), (q) => ` for ${fmt.int(q)} items`)}${on(d.channel)}`,
      ],
  ],
  ['RefundIssued', (d) => money(d.amount) && [`Refunded ${money(d.amount)} of order ${d.orderId ?? '?'}`]],
  [
    'SubscriptionStarted',
    (d) =>
      money(d.mrr) && [
        `Subscription ${d.subscriptionId ?? ''} started: ${d.plan ?? 'plan'}, MRR ${money(d.mrr)}${opt(num(d.termMonths), (t) => `, ${t}-month term`)}${opt(str(d.renewalDate), (r) => `, renews ${r}`)}`,
      ],
  ],
  [
    'SubscriptionRenewed',
    (d) => [
      `Subscription ${d.subscriptionId ?? ''} renewed${opt(num(d.termMonths), (t) => ` for ${t} months`)}${opt(str(d.renewalDate), (r) => `, next renewal ${r}`)}${opt(money(d.mrr), (m) => `, MRR ${m}`)}`,
    ],
  ],
  [
    'SubscriptionExpanded',
    (d) =>
      money(d.mrr) && [
        `Subscription ${d.subscriptionId ?? ''} expanded to MRR ${money(d.mrr)}${opt(str(d.plan), (p) => ` (${p})`)}`,
      ],
  ],
  [
    'SubscriptionContracted',
    (d) =>
      money(d.mrr) && [
        `Subscription ${d.subscriptionId ?? ''} contracted to MRR ${money(d.mrr)}${opt(str(d.plan), (p) => ` (${p})`)}`,
      ],
  ],
  [
    'SubscriptionCancelled',
    (d) => [
      `Subscription ${d.subscriptionId ?? ''} cancelled${opt(words(d.reason), (r) => ` (${r})`)}${opt(str(d.effectiveDate), (e) => `, effective ${e}`)}`,
    ],
  ],
  [
    'TicketOpened',
    (d) =>
      ticket(d) && [
        'Ticket ',
        ticket(d),
        ` opened${on(d.channel)}${opt(words(d.category), (c) => ` about ${c}`)}${opt(str(d.priority), (p) => ` (priority ${p})`)}`,
      ],
  ],
  [
    'TicketReplied',
    (d) =>
      ticket(d) && [
        `${d.by === 'customer' ? 'Customer' : 'Agent'} replied on ticket `,
        ticket(d),
        on(d.channel),
      ],
  ],
  [
    'TicketEscalated',
    (d) => ticket(d) && ['Ticket ', ticket(d), ` escalated${opt(num(d.toTier), (t) => ` to tier ${t}`)}`],
  ],
  [
    'TicketResolved',
    (d) => ticket(d) && ['Ticket ', ticket(d), ` resolved${opt(words(d.resolution), (r) => ` (${r})`)}`],
  ],
  ['TicketReopened', (d) => ticket(d) && ['Ticket ', ticket(d), ' reopened']],
  [
    'SuccessCriterionDefined',
    (d) =>
      str(d.criterionId) && [
        `Success criterion ${d.criterionId} set${opt(str(d.targetDate), (t) => `, target ${t}`)}`,
      ],
  ],
  ['OutcomeAchieved', (d) => str(d.criterionId) && [`Success criterion ${d.criterionId} achieved`]],
  [
    'OnboardingMilestoneReached',
    (d) => str(d.milestone) && [`Onboarding milestone reached: ${words(d.milestone)}`],
  ],
  ['FeatureAdopted', (d) => str(d.feature) && [`Started using ${words(d.feature)}`]],
  [
    'UsageRecorded',
    (d) =>
      num(d.activeUsers) !== undefined && [
        `Usage ${fmt.day(d.periodStart)} to ${fmt.day(d.periodEnd)}: ${fmt.int(d.activeUsers)} active users, ${fmt.int(d.sessions)} sessions${opt(words(d.feature), (f) => ` of ${f}`)}`,
      ],
  ],
  [
    'TrainingCompleted',
    (d) =>
      str(d.course) && [
        `Completed the training ${d.course}${opt(num(d.attendees), (a) => ` (${fmt.int(a)} attendees)`)}`,
      ],
  ],
  [
    'OutreachMade',
    (d) => {
      const kind = words(d.kind);
      if (kind === undefined) return undefined;
      return [`${kind[0].toUpperCase()}${kind.slice(1)}${opt(str(d.by), (b) => ` by ${b}`)}${on(d.channel)}`];
    },
  ],
  [
    'ExchangeRateRecorded',
    (d) => str(d.rate) && [`Exchange rate 1 ${d.base} = ${d.rate} ${d.quote} from ${d.date ?? '?'}`],
  ],
]);

/**
 * The sentence of a timeline entry `{ type, data }` of customer `customerId`: parts (strings and links);
 * the type name when the type is unknown or its data lacks what the sentence needs.
 */
export function describeEvent(entry, customerId) {
  const data = entry.data !== null && typeof entry.data === 'object' ? entry.data : {};
  const f = SENTENCES.get(entry.type);
  let parts;
  try {
    parts = f === undefined ? undefined : f(data, { customerId });
  } catch {
    parts = undefined;
  }
  return parts ? parts.filter((p) => p !== '') : [String(entry.type)];
}

/** The plain text of a sentence (for tests and tooltips). */
export const sentenceText = (parts) => parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
