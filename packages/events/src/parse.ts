import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { definitionOf } from './catalogue.js';
import type { EventDefinition } from './define.js';
import { RawEnvelope, type LedgerEvent } from './envelope.js';
import { looksLikeEmail, looksLikePhone } from './primitives.js';

/** One validation problem, in a stable JSON shape (what the HTTP API and the CLI show). */
export interface ValidationIssue {
  readonly path: readonly (string | number)[];
  readonly code: string;
  readonly message: string;
}

export interface InvalidEvent {
  readonly type: 'InvalidEvent';
  readonly issues: readonly ValidationIssue[];
}

export function toIssues(error: z.ZodError, prefix: readonly (string | number)[] = []): ValidationIssue[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    code: i.code,
    message: i.message,
  }));
}

const invalid = (issues: ValidationIssue[]): E.Either<InvalidEvent, never> =>
  E.left({ type: 'InvalidEvent', issues });

function schemaFor(def: EventDefinition, version: number): z.ZodType | undefined {
  if (version === def.latestVersion) return def.latest;
  return def.older[version - 1]?.schema;
}

/**
 * Which customer ids the ledger accepts. The customer id is the Kafka message key and the `ce_subject` header of
 * every event, published to every consumer and kept forever, so it must not be personal data:
 * - `opaque` (default): an id that looks like an e-mail address or a phone number is refused;
 * - `any`: every id the envelope schema allows (for a deployment whose customer ids are such, knowingly).
 * Set with `CRM_LEDGER_CUSTOMER_ID_POLICY` (docs/configuration.md).
 */
export type CustomerIdPolicy = 'opaque' | 'any';
export const CUSTOMER_ID_POLICIES: readonly CustomerIdPolicy[] = ['opaque', 'any'];

export interface ValidateOptions {
  /** Default `opaque`. */
  readonly customerIds?: CustomerIdPolicy;
}

/** The issue of a customer id the policy refuses, if it does. */
export function customerIdIssue(
  customerId: string,
  policy: CustomerIdPolicy = 'opaque',
): ValidationIssue | undefined {
  if (policy === 'any') return undefined;
  const looks = looksLikeEmail(customerId)
    ? 'an e-mail address'
    : looksLikePhone(customerId)
      ? 'a phone number'
      : undefined;
  if (looks === undefined) return undefined;
  return {
    path: ['customerId'],
    code: 'personal_customer_id',
    message:
      `looks like ${looks}: the customer id is published as the Kafka message key and kept forever, so it must be ` +
      'an opaque id (set CRM_LEDGER_CUSTOMER_ID_POLICY=any to accept such ids knowingly)',
  };
}

/**
 * Validates an event as received, at the schema version it declares, without upcasting:
 * this is what the ledger stores (old versions are never rewritten).
 */
export function validateEvent(
  input: unknown,
  options: ValidateOptions = {},
): E.Either<InvalidEvent, RawEnvelope> {
  const envelope = RawEnvelope.safeParse(input);
  if (!envelope.success) return invalid(toIssues(envelope.error));
  const raw = envelope.data;
  const idIssue = customerIdIssue(raw.customerId, options.customerIds);
  if (idIssue !== undefined) return invalid([idIssue]);
  const def = definitionOf(raw.type);
  if (def === undefined) {
    return invalid([
      { path: ['type'], code: 'unknown_event_type', message: `unknown event type '${raw.type}'` },
    ]);
  }
  const schema = schemaFor(def, raw.schemaVersion);
  if (schema === undefined) {
    return invalid([
      {
        path: ['schemaVersion'],
        code: 'unknown_schema_version',
        message: `${raw.type} has schema versions 1 to ${def.latestVersion}, not ${raw.schemaVersion}`,
      },
    ]);
  }
  const data = schema.safeParse(raw.data);
  if (!data.success) return invalid(toIssues(data.error, ['data']));
  const event = { ...raw, data: data.data };
  const badText = unstorableStrings(event);
  return badText.length > 0 ? invalid(badText) : E.right(event);
}

// A lone surrogate has no UTF-8 encoding: the store would keep U+FFFD instead (what it acknowledged is not what it
// holds, and a retry would then conflict). NUL is refused by PostgreSQL text columns (the read models).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Any character the two checks below look for: most events have none, and are passed by one cheap walk. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what it looks for
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/** Whether some string (value or key) of the value holds a NUL or a surrogate: no allocation, no paths. */
function hasSuspectText(value: unknown): boolean {
  if (typeof value === 'string') return SUSPECT.test(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasSuspectText(value[i])) return true;
    return false;
  }
  for (const k in value) {
    if (SUSPECT.test(k) || hasSuspectText((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/**
 * Issues for every string (values and keys) of an already validated event that cannot be stored as it is.
 * It runs on every append: a first walk that allocates nothing passes the events without a suspect character
 * (nearly all), and only the others are walked again with paths for the issues.
 */
function unstorableStrings(event: unknown): ValidationIssue[] {
  if (!hasSuspectText(event)) return [];
  const issues: ValidationIssue[] = [];
  const check = (s: string, path: (string | number)[]) => {
    if (LONE_SURROGATE.test(s))
      issues.push({
        path,
        code: 'invalid_unicode',
        message: 'contains a lone surrogate (not valid Unicode text)',
      });
    else if (s.includes('\u0000'))
      issues.push({ path, code: 'invalid_unicode', message: 'contains a NUL character' });
  };
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') check(value, path);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        check(k, [...path, k]);
        walk(v, [...path, k]);
      }
    }
  };
  walk(event, []);
  return issues;
}

/**
 * Lifts a stored event to the newest version of its type. Trusts that the data was validated when it
 * was appended (the store only holds validated events), so it does no parsing: fast enough for replay.
 * An unknown type or version is returned as `undefined` for the caller to count and skip.
 */
export function upcast(raw: RawEnvelope): LedgerEvent | undefined {
  const def = definitionOf(raw.type);
  if (def === undefined || raw.schemaVersion < 1 || raw.schemaVersion > def.latestVersion) return undefined;
  if (raw.schemaVersion === def.latestVersion) return raw as LedgerEvent;
  let data: unknown = raw.data;
  for (let v = raw.schemaVersion; v < def.latestVersion; v++) {
    data = def.older[v - 1]!.upcast(data as never);
  }
  return { ...raw, schemaVersion: def.latestVersion, data } as LedgerEvent;
}

/** Validates at the declared version, then upcasts to the newest: for data entering from outside. */
export function parseEvent(
  input: unknown,
  options: ValidateOptions = {},
): E.Either<InvalidEvent, LedgerEvent> {
  return E.flatMap(validateEvent(input, options), (raw) => {
    const event = upcast(raw);
    return event === undefined
      ? invalid([{ path: ['type'], code: 'unknown_event_type', message: `cannot upcast ${raw.type}` }])
      : E.right(event);
  });
}
