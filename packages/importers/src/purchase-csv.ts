import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { z } from 'zod';
import { Currency, PurchaseMade, toIssues, validateEvent, type ValidationIssue } from '@crm-ledger/events';
import { DateFormat, parseDate } from './dates.js';
import { Delimiter, splitFields } from './fields.js';
import { deterministicEventId } from './ids.js';
import { majorToMinor } from './money.js';
import { describeIssues, lineError, type ImportLine, type LineParser } from './result.js';

/** A column: its 1-based position (`1` is the first column) or, when the file has a header, its name. */
export const ColumnRef = z.union([z.int().min(1).max(1000), z.string().min(1).max(200)]);
export type ColumnRef = z.infer<typeof ColumnRef>;

/** How a purchase CSV maps to `PurchaseMade` events. */
export const PurchaseCsvOptions = z
  .strictObject({
    /** Names the source: written to each event's `source` and part of every derived eventId. */
    source: z.string().min(1).max(100),
    delimiter: Delimiter.default(','),
    /** The first non-blank line names the columns. */
    header: z.boolean().default(true),
    dateFormat: DateFormat.default('ISO'),
    /** Currency of every amount, unless a currency column is mapped. */
    currency: Currency.default('USD'),
    columns: z.strictObject({
      customer: ColumnRef,
      date: ColumnRef,
      /** Amount in major units (dollars), converted to integer minor units (cents). */
      amount: ColumnRef,
      orderId: ColumnRef.optional(),
      quantity: ColumnRef.optional(),
      currency: ColumnRef.optional(),
    }),
  })
  .refine(
    (o) => o.header || Object.values(o.columns).every((c) => c === undefined || typeof c === 'number'),
    {
      message: 'columns must be given by position (1, 2, ...) when the file has no header',
      path: ['columns'],
    },
  );
export type PurchaseCsvOptions = z.input<typeof PurchaseCsvOptions>;
type Options = z.output<typeof PurchaseCsvOptions>;

type ColumnName = keyof Options['columns'];
type Resolved = Partial<Record<ColumnName, number>>;

const numbered = (cols: Options['columns']): Resolved | undefined => {
  const out: Resolved = {};
  for (const [k, v] of Object.entries(cols)) {
    if (typeof v === 'string') return undefined;
    if (v !== undefined) out[k as ColumnName] = v - 1;
  }
  return out;
};

/**
 * A parser of purchase CSVs: one `PurchaseMade` per record line.
 *
 * The eventId is a UUID v5 of the source name and a record key, so importing the same file again is
 * idempotent: with an order-id column the key is the order id (plus its occurrence count, for orders
 * split over several lines), otherwise the record's content (customer, instant, amount, currency,
 * quantity) plus the occurrence count of that same content in the file. Content keys do not depend on
 * line numbers: sorting the file or importing a file that repeats another's records (CDNOW_sample is a
 * subset of CDNOW_master) yields the same ids. Without an order-id column, the order id is the eventId.
 *
 * Stateful (header, occurrence counts): use one parser per file, lines in order.
 */
export function createPurchaseCsvParser(
  input: PurchaseCsvOptions,
): E.Either<readonly ValidationIssue[], LineParser> {
  const parsed = PurchaseCsvOptions.safeParse(input);
  if (!parsed.success) return E.left(toIssues(parsed.error));
  const options = parsed.data;
  let columns: Resolved | undefined = options.header ? undefined : numbered(options.columns);
  let headerError: string | undefined;
  const seen = new Map<string, number>();

  const resolveHeader = (names: readonly string[]): string | undefined => {
    const out: Resolved = {};
    for (const [k, ref] of Object.entries(options.columns)) {
      if (ref === undefined) continue;
      if (typeof ref === 'number') out[k as ColumnName] = ref - 1;
      else {
        const idx = names.indexOf(ref);
        if (idx === -1) return `column '${ref}' (${k}) is not in the header: ${names.join(', ')}`;
        out[k as ColumnName] = idx;
      }
    }
    columns = out;
    return undefined;
  };

  const parseLine = (text: string, lineNumber: number): ImportLine => {
    if (text.trim().length === 0) return { kind: 'skipped', lineNumber, reason: 'blank' };
    const fields = splitFields(text, options.delimiter);
    if (E.isLeft(fields)) return lineError(lineNumber, fields.left);
    if (columns === undefined) {
      if (headerError !== undefined) return lineError(lineNumber, `no usable header: ${headerError}`);
      headerError = resolveHeader(fields.right);
      return headerError === undefined
        ? { kind: 'skipped', lineNumber, reason: 'header' }
        : lineError(lineNumber, headerError);
    }
    return recordToEvent(fields.right, columns, lineNumber);
  };

  const recordToEvent = (fields: readonly string[], cols: Resolved, lineNumber: number): ImportLine => {
    const field = (name: ColumnName): string | undefined => {
      const i = cols[name];
      return i === undefined ? undefined : fields[i];
    };
    const required = (name: ColumnName): E.Either<string, string> => {
      const v = field(name);
      return v === undefined || v.length === 0
        ? E.left(`missing ${name} (column ${(cols[name] ?? 0) + 1}; the line has ${fields.length} fields)`)
        : E.right(v);
    };
    const currencyText = field('currency');
    const currency =
      currencyText === undefined || currencyText.length === 0
        ? E.right(options.currency)
        : pipe(Currency.safeParse(currencyText.toUpperCase()), (r) =>
            r.success ? E.right(r.data) : E.left(`currency '${currencyText}' is not an ISO 4217 code`),
          );
    const quantityText = field('quantity');
    const quantity: E.Either<string, number | undefined> =
      quantityText === undefined || quantityText.length === 0
        ? E.right(undefined)
        : /^\d+$/.test(quantityText)
          ? E.right(Number(quantityText) > 0 ? Number(quantityText) : undefined)
          : E.left(`quantity '${quantityText}' is not a whole number`);

    const record = pipe(
      E.Do,
      E.bind('customerId', () => required('customer')),
      E.bind('occurredAt', () => E.flatMap(required('date'), (d) => parseDate(d, options.dateFormat))),
      E.bind('currency', () => currency),
      E.bind('amountMinor', ({ currency }) =>
        E.flatMap(required('amount'), (a) => majorToMinor(a, currency)),
      ),
      E.bind('quantity', () => quantity),
    );
    if (E.isLeft(record)) return lineError(lineNumber, record.left);
    const r = record.right;
    const orderId = field('orderId');
    const baseKey =
      orderId !== undefined && orderId.length > 0
        ? `order:${orderId}`
        : `content:${r.customerId}|${r.occurredAt}|${r.amountMinor}|${r.currency}|${r.quantity ?? ''}`;
    const occurrence = (seen.get(baseKey) ?? 0) + 1;
    const eventId = deterministicEventId(options.source, `${baseKey}#${occurrence}`);
    const candidate = {
      eventId,
      type: 'PurchaseMade',
      schemaVersion: PurchaseMade.latestVersion,
      customerId: r.customerId,
      occurredAt: r.occurredAt,
      source: options.source,
      data: {
        orderId: orderId !== undefined && orderId.length > 0 ? orderId : eventId,
        amount: { amountMinor: r.amountMinor, currency: r.currency },
        ...(r.quantity === undefined ? {} : { quantity: r.quantity }),
      },
    };
    const valid = validateEvent(candidate);
    if (E.isLeft(valid)) {
      return lineError(
        lineNumber,
        `invalid purchase: ${describeIssues(valid.left.issues)}`,
        valid.left.issues,
      );
    }
    seen.set(baseKey, occurrence); // only valid records count, so fixing a bad line keeps the others' ids
    return { kind: 'event', lineNumber, event: valid.right };
  };

  return E.right({ parseLine });
}
