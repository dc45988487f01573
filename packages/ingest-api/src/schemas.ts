import { z } from 'zod';
import { RawEnvelope } from '@crm-ledger/events';
import { catalogueRefs } from './openapi.js';

export const ExpectedRevisionSchema = z
  .union([z.enum(['any', 'no_stream', 'stream_exists']), z.int().min(0)])
  .describe(
    "What the customer's stream must look like for the append to proceed: 'any' (default), 'no_stream', 'stream_exists', or the revision of its last event (optimistic concurrency)",
  );

export const ExpectedRevisionQuery = z.object({
  expectedRevision: z
    .string()
    .regex(
      /^(any|no_stream|stream_exists|\d{1,15})$/,
      "'any', 'no_stream', 'stream_exists' or a revision number",
    )
    .optional()
    .describe(ExpectedRevisionSchema.description ?? ''),
});

/** An event as a client sends it: the envelope is checked strictly here, `data` against its type and version. */
export const EventInput = RawEnvelope.meta({
  description:
    'An event: envelope fields and `data` as the catalogue defines it for `type` and `schemaVersion` (the Event.* components, docs/schemas/)',
  anyOf: catalogueRefs(),
});

/** In a cross-customer batch each item is checked on its own, so one bad event fails only its customer's events. */
export const LooseEventInput = z.unknown().meta({
  description:
    'An event (one of the Event.* components); each item is validated on its own and reported per item',
  anyOf: catalogueRefs(),
});

export const Placement = z.object({
  eventId: z.string(),
  position: z.int().optional().describe('Global position in the ledger'),
  revision: z
    .int()
    .optional()
    .describe("Revision in the customer's stream (only for events written by this request)"),
});

export const AppendAnswer = z
  .object({
    customerId: z.string(),
    streamName: z.string(),
    duplicate: z
      .boolean()
      .describe('True when every event was already stored: nothing was written (a retry)'),
    nextExpectedRevision: z
      .int()
      .describe("Pass as expectedRevision to append next to this customer's stream"),
    events: z.array(Placement),
  })
  .meta({ id: 'AppendAnswer' });
export type AppendAnswer = z.infer<typeof AppendAnswer>;

export const ItemStatus = z.enum(['appended', 'duplicate', 'conflict', 'invalid', 'unavailable']);

export const BatchItemResult = z.object({
  index: z.int().describe('Index of the item in the request'),
  eventId: z.string().optional(),
  customerId: z.string().optional(),
  status: ItemStatus,
  position: z.int().optional(),
  revision: z.int().optional(),
  code: z.string().optional().describe('For conflict/invalid/unavailable: the error code'),
  message: z.string().optional(),
  issues: z
    .array(
      z.object({ path: z.array(z.union([z.string(), z.number()])), code: z.string(), message: z.string() }),
    )
    .optional(),
});
export type BatchItemResult = z.infer<typeof BatchItemResult>;

export const BatchAnswer = z
  .object({
    results: z.array(BatchItemResult),
    counts: z.object({
      appended: z.int(),
      duplicate: z.int(),
      conflict: z.int(),
      invalid: z.int(),
      unavailable: z.int(),
    }),
  })
  .meta({ id: 'BatchAnswer' });
export type BatchAnswer = z.infer<typeof BatchAnswer>;
