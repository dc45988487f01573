import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import {
  createPurchaseCsvParser,
  DateFormat,
  ndjsonParser,
  PRESETS,
  type ColumnRef,
  type LineParser,
  type PurchaseCsvOptions,
} from '@crm-ledger/importers';
import { Id, minorToMajor, minorUnitDigits } from '@crm-ledger/events';
import { openStore } from '../store.js';
import { dryRunImport, formatFromName, importFile } from '../importing.js';
import { EXIT_DATA, option, positiveInt, settingsFrom, usageError, type SharedFlags } from '../settings.js';
import { dataDirOption, syncOption } from './shared.js';

interface ImportFlags extends SharedFlags {
  format?: string;
  batchSize: string;
  customer?: string;
  date?: string;
  amount?: string;
  orderId?: string;
  quantity?: string;
  currencyColumn?: string;
  dateFormat: string;
  delimiter: string;
  decimalComma?: boolean;
  header: boolean;
  currency?: string;
  source?: string;
  importId?: string;
  dryRun?: boolean;
}

const FORMATS = ['ndjson', 'csv', 'cdnow-master', 'cdnow-sample'] as const;

const column = (flag: string, v: string | undefined): ColumnRef | undefined =>
  v === undefined
    ? undefined
    : /^\d+$/.test(v)
      ? option(flag, z.int().min(1, 'columns count from 1'), Number(v))
      : v;

const DELIMITERS: Record<string, string> = {
  comma: ',',
  semicolon: ';',
  tab: '\t',
  pipe: '|',
  whitespace: 'whitespace',
};

/** An id from a name: the characters an `Id` allows, at most `max` of them. */
const idPart = (name: string, max: number): string =>
  name
    .replace(/[^A-Za-z0-9._:@-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, max) || 'import';

/**
 * The import id when none is given: the source's name and a digest of the mapping, so the same file with the
 * same mapping is the same import (idempotent again), and a corrected mapping is another import whose
 * events get other ids (the voided import's events never collide with it).
 */
function defaultImportId(source: string, mapping: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(mapping)).digest('hex').slice(0, 10);
  return `${idPart(source, 50)}-${digest}`;
}

function csvOptions(file: string, f: ImportFlags): PurchaseCsvOptions {
  const missing = (['customer', 'date', 'amount'] as const).filter((k) => f[k] === undefined);
  if (missing.length > 0) {
    throw usageError([
      `--format csv needs the column mapping: ${missing.map((m) => `--${m} <column>`).join(', ')} (a header name or a 1-based position)`,
    ]);
  }
  if (f.currency === undefined && f.currencyColumn === undefined) {
    throw usageError([
      '--format csv needs the currency of the amounts: --currency <ISO 4217 code> (every amount) or --currency-column <column> (per line); it is never guessed',
    ]);
  }
  const orderId = column('--order-id', f.orderId);
  const quantity = column('--quantity', f.quantity);
  const currency = column('--currency-column', f.currencyColumn);
  return {
    // The source becomes the CloudEvents ce_source on Kafka: a URI-reference, so a file name is percent-encoded.
    source: f.source ?? encodeURIComponent(path.basename(file)),
    delimiter: DELIMITERS[f.delimiter] ?? f.delimiter,
    header: f.header,
    dateFormat: option('--date-format', DateFormat, f.dateFormat),
    // only when given: the mapping's digest (the default import id) of today's command lines stays the same
    ...(f.decimalComma === true ? { decimalComma: true } : {}),
    ...(f.currency === undefined
      ? {}
      : { currency: f.currency.toUpperCase() as NonNullable<PurchaseCsvOptions['currency']> }),
    columns: {
      customer: column('--customer', f.customer)!,
      date: column('--date', f.date)!,
      amount: column('--amount', f.amount)!,
      ...(orderId === undefined ? {} : { orderId }),
      ...(quantity === undefined ? {} : { quantity }),
      ...(currency === undefined ? {} : { currency }),
    },
  };
}

/** Records the import id on every event of a parser whose events carry their own ids (NDJSON). */
const withImportId = (parser: LineParser, importId: string): LineParser => ({
  parseLine(text, lineNumber) {
    const line = parser.parseLine(text, lineNumber);
    return line.kind === 'event' ? { ...line, event: { ...line.event, importId } } : line;
  },
});

function parserFor(file: string, f: ImportFlags): { parser: LineParser; importId: string } {
  const format = f.format ?? formatFromName(file);
  if (format === undefined)
    throw usageError([`--format: cannot tell the format of ${file}; give one of ${FORMATS.join(', ')}`]);
  const fmt = option('--format', z.enum(FORMATS), format);
  const given = f.importId === undefined ? undefined : option('--import-id', Id, f.importId);
  if (fmt === 'ndjson') {
    const importId = given ?? idPart(path.basename(file), 64);
    return { parser: withImportId(ndjsonParser, importId), importId };
  }
  const base =
    fmt === 'csv'
      ? csvOptions(file, f)
      : { ...PRESETS[fmt], ...(f.source === undefined ? {} : { source: f.source }) };
  // The CDNOW presets share one import id (their source), so the sample's purchases keep the master's ids.
  const { source, ...mapping } = base;
  const importId = given ?? (fmt === 'csv' ? defaultImportId(source, mapping) : idPart(source, 64));
  const parser = createPurchaseCsvParser({ ...base, importId });
  if (E.isLeft(parser)) {
    throw usageError(
      parser.left.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`),
    );
  }
  return { parser: parser.right, importId };
}

/** An amount for people: major units with the currency's ISO 4217 decimals (JPY 0, USD 2, BHD 3). */
const money = (minor: number, currency: string): string =>
  `${minorToMajor(minor, currency).toFixed(minorUnitDigits(currency))} ${currency}`;

export function importCommand(): Command {
  return dataDirOption(syncOption(new Command('import')))
    .description(
      'Import events from a file, line by line: NDJSON events (one envelope per line), or purchases from a CSV ' +
        'with a column mapping (each line one PurchaseMade), or the CDNOW files (presets). Batches are validated ' +
        'before they are written; the first bad line stops the import with exit code 1 and its line number. ' +
        'Event ids are deterministic: importing the same file again writes nothing new.',
    )
    .argument('<file>', 'the file to import')
    .addOption(
      new Option(
        '--format <format>',
        'ndjson | csv | cdnow-master | cdnow-sample (default: from the extension)',
      ),
    )
    .option(
      '--batch-size <lines>',
      'lines per batch: each batch is validated whole before any of it is written',
      '1000',
    )
    .option('--customer <column>', 'CSV: column of the customer id (header name or 1-based position)')
    .option('--date <column>', 'CSV: column of the purchase date')
    .option(
      '--amount <column>',
      'CSV: column of the amount in major units (12.34), stored in minor units (1234)',
    )
    .option('--order-id <column>', 'CSV: column of the order id (default: the derived event id)')
    .option('--quantity <column>', 'CSV: column of the quantity (0 or empty: none)')
    .option(
      '--currency-column <column>',
      'CSV: column of the ISO 4217 currency (empty cells: --currency, or an error)',
    )
    .option(
      '--currency <code>',
      'CSV: ISO 4217 currency of every amount (no default: a CSV needs this or --currency-column)',
    )
    .option('--date-format <format>', `CSV: ${DateFormat.options.join(' | ')}`, 'ISO')
    .option('--delimiter <d>', 'CSV: a character, or comma | semicolon | tab | pipe | whitespace', ',')
    .option('--decimal-comma', 'CSV: amounts are written 12,34 (never derived from the delimiter)')
    .option('--no-header', 'CSV: the first line is a record, not column names (columns by position)')
    .option(
      '--source <name>',
      "names the source in each event and in the derived event ids (default: the file's name; cdnow presets: cdnow)",
    )
    .option(
      '--import-id <id>',
      'the import id recorded on every event (default: the source name and a digest of the mapping); `crm-ledger void --import <id>` voids the import',
    )
    .option(
      '--dry-run',
      'parse and map the whole file and print counts, currencies, duplicates and the first mapped events; write nothing',
    )
    .addHelpText(
      'after',
      `
Examples:
  crm-ledger import events.ndjson
  crm-ledger import ../shared/data/cdnow/CDNOW_sample.txt --format cdnow-sample
  crm-ledger import orders.csv --format csv --customer client_id --date ordered_at --amount total --order-id order_no --currency EUR
  crm-ledger import examples/bestellungen.csv --format csv --delimiter semicolon --decimal-comma --date-format DD.MM.YYYY --customer Kunde --date Datum --amount Betrag --order-id Bestellnummer --currency-column Währung
  crm-ledger import sales.tsv --format csv --delimiter tab --no-header --customer 1 --date 2 --date-format YYYYMMDD --amount 4 --currency USD
  crm-ledger import orders.csv --format csv --customer client_id --date ordered_at --amount total --currency-column cur --dry-run`,
    )
    .action(async (file: string, opts: ImportFlags) => {
      const config = settingsFrom(opts);
      if (!existsSync(file)) throw usageError([`${file}: no such file`]);
      const batchSize = option('--batch-size', positiveInt(10_000), opts.batchSize);
      const { parser, importId } = parserFor(file, opts);
      const { store, describe } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      try {
        if (opts.dryRun === true) {
          const d = await dryRunImport(store, file, parser, { sample: 3 });
          const currencies = [...d.currencies.entries()]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([c, x]) => `${c} ${x.events} events, ${money(x.amountMinor, c)}`);
          process.stdout.write(
            `dry run of ${file} (import id ${importId}): nothing written\n` +
              `lines ${d.lines}, events ${d.events}, lines skipped ${d.skipped} (header/blank), lines with errors ${d.errors.length}\n` +
              `customers ${d.customers}\n` +
              `currencies: ${currencies.length === 0 ? 'none' : currencies.join('; ')}\n` +
              `duplicates: ${d.duplicatesInFile} repeated in the file, ${d.alreadyStored} already in the ledger\n` +
              d.errors
                .slice(0, 5)
                .map((e) => `error ${file}:${e.lineNumber}: ${e.message}\n`)
                .join('') +
              `first mapped events:\n${d.first.map((e) => `  ${JSON.stringify(e)}\n`).join('')}`,
          );
          if (d.errors.length > 0) process.exitCode = EXIT_DATA;
          return;
        }
        const started = Date.now();
        const r = await importFile(store, file, parser, { batchSize, progress: true });
        const s = E.isRight(r) ? r.right : r.left.summary;
        const seconds = (Date.now() - started) / 1000;
        const counts = `${s.appended} events appended, ${s.duplicate} already present, ${s.skipped} lines skipped (header/blank)`;
        if (E.isRight(r)) {
          process.stdout.write(
            `imported ${file} (import id ${importId}): ${s.lines} lines, ${counts}, in ${seconds.toFixed(1)} s (${Math.round((s.appended + s.duplicate) / Math.max(seconds, 0.001))} events/s) into ${describe}\n`,
          );
          return;
        }
        process.stderr.write(
          `${file}:${r.left.lineNumber}: ${r.left.message}\n` +
            `import stopped at line ${r.left.lineNumber}: nothing of lines ${r.left.batch.from}-${r.left.batch.to} was written; ` +
            `before them: ${counts}. Fix the line and run the import again (it is idempotent).\n`,
        );
        process.exitCode = EXIT_DATA;
      } finally {
        await store.close();
      }
    });
}
