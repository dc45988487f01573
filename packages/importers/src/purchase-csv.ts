import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { z } from 'zod';
import {
  Currency,
  Id,
  PurchaseMade,
  toIssues,
  validateEvent,
  type ValidationIssue,
} from '@crm-ledger/events';
import { readCsvRecords } from './csv.js';
import { DateFormat, parseDate } from './dates.js';
import { Delimiter, splitFields } from './fields.js';
import { deterministicEventId } from './ids.js';
import { splitLines } from './lines.js';
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
    /**
     * Amounts are written with a decimal comma (`12,34`; a `.` is then refused, never read as a thousands
     * separator). Never derived from the delimiter: `--decimal-comma` says it.
     */
    decimalComma: z.boolean().optional(),
    /**
     * The import this parser writes for: recorded on every event (`importId`) and part of every derived
     * eventId, so that an import voided with `crm-ledger void --import` can be imported again with a
     * corrected mapping (a new import id) without colliding with the voided events.
     */
    importId: Id.optional(),
    /** Currency of every amount, or of the lines whose currency cell is empty. No default: never guessed. */
    currency: Currency.optional(),
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
  )
  .refine((o) => o.currency !== undefined || o.columns.currency !== undefined, {
    message:
      'no currency: give the currency of every amount (--currency <ISO 4217 code>) or a currency column (--currency-column <column>)',
    path: ['currency'],
  });
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
 * A parser of purchase CSVs: one `PurchaseMade` per record.
 *
 * A file is read with `readSource` (csv-parse's stream parser: quoted fields may span lines, a BOM is dropped);
 * `parseLine` reads one line as one record. Every result names the physical line its record starts on, and an
 * error in a value names its column.
 *
 * The eventId is a UUID v5 of the source name and a record key, so importing the same file again is
 * idempotent: with an order-id column the key is the order id (plus its occurrence count, for orders
 * split over several lines), otherwise the record's content (customer, instant, amount, currency,
 * quantity) plus the occurrence count of that same content in the file. Content keys do not depend on
 * line numbers: sorting the file or importing a file that repeats another's records (CDNOW_sample is a
 * subset of CDNOW_master) yields the same ids. Without an order-id column, the order id is the eventId.
 *
 * Stateful (header, occurrence counts): use one parser per file, records in order.
 */
export function createPurchaseCsvParser(
  input: PurchaseCsvOptions,
): E.Either<readonly ValidationIssue[], LineParser> {
  const parsed = PurchaseCsvOptions.safeParse(input);
  if (!parsed.success) return E.left(toIssues(parsed.error));
  const options = parsed.data;
  const decimal = options.decimalComma === true ? ',' : '.';
  let columns: Resolved | undefined = options.header ? undefined : numbered(options.columns);
  let headerNames: readonly string[] = [];
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
    headerNames = names;
    return undefined;
  };

  /** One record's fields (a header, a purchase, or blank) to what it became. */
  const parseRecord = (fields: readonly string[], lineNumber: number): ImportLine => {
    if (fields.length === 0 || (fields.length === 1 && fields[0] === ''))
      return { kind: 'skipped', lineNumber, reason: 'blank' };
    if (columns === undefined) {
      if (headerError !== undefined) return lineError(lineNumber, `no usable header: ${headerError}`);
      headerError = resolveHeader(fields);
      return headerError === undefined
        ? { kind: 'skipped', lineNumber, reason: 'header' }
        : lineError(lineNumber, headerError);
    }
    return recordToEvent(fields, columns, lineNumber);
  };

  const parseLine = (text: string, lineNumber: number): ImportLine => {
    if (text.trim().length === 0) return { kind: 'skipped', lineNumber, reason: 'blank' };
    const fields = splitFields(text, options.delimiter);
    if (E.isLeft(fields)) return lineError(lineNumber, fields.left);
    return parseRecord(fields.right, lineNumber);
  };

  async function* readSource(
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  ): AsyncGenerator<ImportLine> {
    if (options.delimiter === 'whitespace') {
      // not CSV (no quoting): one record a line
      for await (const line of splitLines(chunks)) yield parseLine(line.text, line.lineNumber);
      return;
    }
    for await (const r of readCsvRecords(chunks, options.delimiter)) {
      yield r.kind === 'error' ? lineError(r.lineNumber, r.message) : parseRecord(r.fields, r.lineNumber);
    }
  }

  const recordToEvent = (fields: readonly string[], cols: Resolved, lineNumber: number): ImportLine => {
    /** `(column 4 'total')`: where a value's error is, as a spreadsheet shows it. */
    const where = (name: ColumnName): string => {
      const i = cols[name] ?? 0;
      const header = headerNames[i];
      return header === undefined ? ` (column ${i + 1})` : ` (column ${i + 1} '${header}')`;
    };
    const inColumn = <A>(name: ColumnName, r: E.Either<string, A>): E.Either<string, A> =>
      E.mapLeft((m: string) => m + where(name))(r);
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
        ? options.currency === undefined
          ? E.left(`missing currency (column ${(cols.currency ?? 0) + 1}) and no --currency for such lines`)
          : E.right(options.currency)
        : pipe(Currency.safeParse(currencyText.toUpperCase()), (r) =>
            r.success
              ? E.right(r.data)
              : E.left(`currency '${currencyText}' is not an ISO 4217 code${where('currency')}`),
          );
    const quantityText = field('quantity');
    const quantity: E.Either<string, number | undefined> =
      quantityText === undefined || quantityText.length === 0
        ? E.right(undefined)
        : /^\d+$/.test(quantityText)
          ? E.right(Number(quantityText) > 0 ? Number(quantityText) : undefined)
          : E.left(`quantity '${quantityText}' is not a whole number${where('quantity')}`);

    const record = pipe(
      E.Do,
      E.bind('customerId', () => required('customer')),
      E.bind('occurredAt', () =>
        E.flatMap(required('date'), (d) => inColumn('date', parseDate(d, options.dateFormat))),
      ),
      E.bind('currency', () => currency),
      E.bind('amountMinor', ({ currency }) =>
        E.flatMap(required('amount'), (a) => inColumn('amount', majorToMinor(a, currency, decimal))),
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
    const recordKey = `${baseKey}#${occurrence}`;
    const eventId = deterministicEventId(
      options.source,
      options.importId === undefined ? recordKey : `import:${options.importId}|${recordKey}`,
    );
    const candidate = {
      eventId,
      type: 'PurchaseMade',
      schemaVersion: PurchaseMade.latestVersion,
      customerId: r.customerId,
      occurredAt: r.occurredAt,
      source: options.source,
      ...(options.importId === undefined ? {} : { importId: options.importId }),
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

  return E.right({ parseLine, readSource });
}
