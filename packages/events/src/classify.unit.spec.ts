import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, catalogue } from './catalogue.js';
import { classificationProblems, notPersonal, stringFields } from './classify.js';
import { defineEvent, type EventDefinition } from './define.js';
import { envelopeFields } from './envelope.js';
import { validateEvent } from './parse.js';
import { PersonalText } from './primitives.js';

const schemasOf = (def: EventDefinition) => [...def.older.map((o) => o.schema), def.latest];

describe('every string field of the catalogue is classified personal or not where it is defined', () => {
  it.each(EVENT_TYPES)('%s: every version has only classified string fields', (type) => {
    const def = catalogue[type] as EventDefinition;
    for (const schema of schemasOf(def)) {
      expect(classificationProblems(schema)).toEqual([]);
      for (const field of stringFields(schema)) expect(typeof field.personal).toBe('boolean');
    }
  });

  it('the envelope fields are classified not personal (they reach keys and headers)', () => {
    const fields = stringFields(z.strictObject(envelopeFields));
    expect(fields.map((f) => f.path.join('.')).sort()).toEqual(
      [
        'causationId',
        'correlationId',
        'customerId',
        'eventId',
        'importId',
        'occurredAt',
        'source',
        'type',
      ].sort(),
    );
    // `type` is checked against the catalogue's names; every other one is marked
    for (const f of fields.filter((f) => f.path[0] !== 'type')) expect(f.personal).toBe(false);
  });

  it('an unclassified string field fails when its definition is loaded, naming the field', () => {
    expect(() =>
      defineEvent({
        type: 'Unclassified',
        area: 'service',
        description: 'test',
        latest: z.strictObject({ ok: notPersonal(z.string()), note: z.string().max(10).optional() }),
      }),
    ).toThrow(/Unclassified v1: note is a string field without a classification/);
  });

  it('a nested string field, an array of strings and a union are walked too', () => {
    const schema = z.strictObject({
      items: z.array(z.strictObject({ label: z.string() })),
      either: z.union([z.int(), z.string()]),
    });
    expect(classificationProblems(schema)).toEqual([
      'items.label is a string field without a classification: declare it with personal(...) or notPersonal(...)',
      'either is a string field without a classification: declare it with personal(...) or notPersonal(...)',
    ]);
  });

  it('a personal field nested below the top level is refused (the relay removes top-level fields only)', () => {
    expect(classificationProblems(z.strictObject({ a: z.strictObject({ note: PersonalText }) }))).toEqual([
      'a.note is personal but not a top-level field of data (only those are removed on Kafka)',
    ]);
  });

  it('free text is personal: every reason, description, evidence and requestedBy field', () => {
    const pii = (t: keyof typeof catalogue) => catalogue[t].pii;
    expect(pii('TicketEscalated')).toEqual(['reason']);
    expect(pii('TicketReopened')).toEqual(['reason']);
    expect(pii('RefundIssued')).toEqual(['reason']);
    expect(pii('SubscriptionExpanded')).toEqual(['reason']);
    expect(pii('SubscriptionContracted')).toEqual(['reason']);
    expect(pii('SuccessCriterionDefined')).toEqual(['description']);
    expect(pii('OutcomeAchieved')).toEqual(['evidence']);
    expect(pii('CustomerErased')).toEqual(['requestedBy']);
    expect(pii('CustomerRegistered')).toEqual(['name', 'email', 'phone', 'companyName']);
  });

  it('the JSON Schemas carry the classification as x-personal', () => {
    const json = z.toJSONSchema(catalogue.TicketEscalated.latest, { io: 'input' }) as {
      properties: Record<string, Record<string, unknown>>;
    };
    expect(json.properties['reason']?.['x-personal']).toBe(true);
    expect(json.properties['ticketId']?.['x-personal']).toBe(false);
  });
});

const event = (over: Record<string, unknown>, data: unknown = { feature: 'export' }) => ({
  eventId: '0b6f2d2e-6a4b-4f43-9b61-1f1a3e1d2c3b',
  type: 'FeatureAdopted',
  schemaVersion: 1,
  customerId: 'c-1',
  occurredAt: '2024-05-01T09:30:00Z',
  data,
  ...over,
});
const issuesOf = (input: unknown, options = {}) => {
  const r = validateEvent(input, options);
  return E.isLeft(r) ? r.left.issues : [];
};

describe('envelope fields that reach keys and headers are opaque identifiers or URI-references', () => {
  it.each([
    ['alice@example.com', 'an e-mail address'],
    ['004915112345678', 'a phone number'],
    ['0151-1234-5678', 'a phone number'],
  ])('a customer id %s is refused by default: it looks like %s', (customerId, looks) => {
    expect(issuesOf(event({ customerId }))).toEqual([
      {
        path: ['customerId'],
        code: 'personal_customer_id',
        message: expect.stringContaining(`looks like ${looks}`) as string,
      },
    ]);
    expect(issuesOf(event({ customerId }))[0]?.message).toContain('CRM_LEDGER_CUSTOMER_ID_POLICY=any');
  });

  it("policy 'any' accepts an e-mail customer id; opaque ids pass either way", () => {
    expect(issuesOf(event({ customerId: 'alice@example.com' }), { customerIds: 'any' })).toEqual([]);
    for (const customerId of ['c-1', '00001', 'cus_9fA2', '1234567'])
      expect(issuesOf(event({ customerId }))).toEqual([]);
  });

  it.each([
    ['correlationId', 'bob@example.com'],
    ['causationId', 'bob@example.com'],
    ['source', 'Alice Smith'],
    ['source', 'alice@example.com'],
    ['source', 'orders 2024.csv'],
  ])('%s %s is refused', (field, value) => {
    expect(issuesOf(event({ [field]: value })).map((i) => i.path)).toEqual([[field]]);
  });

  it('a source may be a name, an escaped path or a URI', () => {
    for (const source of ['crm', 'imports/orders%202024.csv', 'https://shop.example/orders?x=1'])
      expect(issuesOf(event({ source }))).toEqual([]);
  });

  it('identifiers and product names in data refuse contact details', () => {
    const ticket = { ticketId: 't-1', toTier: 2 };
    expect(issuesOf(event({ type: 'TicketEscalated' }, { ...ticket, ticketId: 'a@b.example' }))).toHaveLength(
      1,
    );
    const sub = {
      subscriptionId: 's-1',
      mrr: { amountMinor: 1, currency: 'EUR' },
      termMonths: 12,
      renewalDate: '2025-01-01',
    };
    for (const plan of ['carol@example.com', 'call +49 151 1234 5678'])
      expect(issuesOf(event({ type: 'SubscriptionStarted' }, { ...sub, plan }))).toHaveLength(1);
    expect(issuesOf(event({ type: 'SubscriptionStarted' }, { ...sub, plan: 'Pro 2024-2025' }))).toEqual([]);
  });
});
