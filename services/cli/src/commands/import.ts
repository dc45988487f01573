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
import { openStore } from '../store.js';
import { formatFromName, importFile } from '../importing.js';
import { EXIT_DATA, option, positiveInt, settingsFrom, UsageError, type SharedFlags } from '../settings.js';
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
  header: boolean;
  currency: string;
  source?: string;
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

function csvOptions(file: string, f: ImportFlags): PurchaseCsvOptions {
  const missing = (['customer', 'date', 'amount'] as const).filter((k) => f[k] === undefined);
  if (missing.length > 0) {
    throw new UsageError([
      `--format csv needs the column mapping: ${missing.map((m) => `--${m} <column>`).join(', ')} (a header name or a 1-based position)`,
    ]);
  }
  const orderId = column('--order-id', f.orderId);
  const quantity = column('--quantity', f.quantity);
  const currency = column('--currency-column', f.currencyColumn);
  return {
    source: f.source ?? path.basename(file),
    delimiter: DELIMITERS[f.delimiter] ?? f.delimiter,
    header: f.header,
    dateFormat: option('--date-format', DateFormat, f.dateFormat),
    currency: f.currency.toUpperCase() as PurchaseCsvOptions['currency'],
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

function parserFor(file: string, f: ImportFlags): LineParser {
  const format = f.format ?? formatFromName(file);
  if (format === undefined)
    throw new UsageError([`--format: cannot tell the format of ${file}; give one of ${FORMATS.join(', ')}`]);
  const fmt = option('--format', z.enum(FORMATS), format);
  if (fmt === 'ndjson') return ndjsonParser;
  const csv =
    fmt === 'csv'
      ? csvOptions(file, f)
      : { ...PRESETS[fmt], ...(f.source === undefined ? {} : { source: f.source }) };
  const parser = createPurchaseCsvParser(csv);
  if (E.isLeft(parser)) {
    throw new UsageError(
      parser.left.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`),
    );
  }
  return parser.right;
}

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
    .option('--currency-column <column>', 'CSV: column of the ISO 4217 currency (default: --currency)')
    .option('--currency <code>', 'CSV: currency of every amount', 'USD')
    .option('--date-format <format>', `CSV: ${DateFormat.options.join(' | ')}`, 'ISO')
    .option('--delimiter <d>', 'CSV: a character, or comma | semicolon | tab | pipe | whitespace', ',')
    .option('--no-header', 'CSV: the first line is a record, not column names (columns by position)')
    .option(
      '--source <name>',
      "names the source in each event and in the derived event ids (default: the file's name; cdnow presets: cdnow)",
    )
    .addHelpText(
      'after',
      `
Examples:
  crm-ledger import events.ndjson
  crm-ledger import ../shared/data/cdnow/CDNOW_sample.txt --format cdnow-sample
  crm-ledger import orders.csv --format csv --customer client_id --date ordered_at --amount total --order-id order_no --currency EUR
  crm-ledger import sales.tsv --format csv --delimiter tab --no-header --customer 1 --date 2 --date-format YYYYMMDD --amount 4`,
    )
    .action(async (file: string, opts: ImportFlags) => {
      const config = settingsFrom(opts);
      if (!existsSync(file)) throw new UsageError([`${file}: no such file`]);
      const batchSize = option('--batch-size', positiveInt(10_000), opts.batchSize);
      const parser = parserFor(file, opts);
      const { store, describe } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      try {
        const started = Date.now();
        const r = await importFile(store, file, parser, { batchSize, progress: true });
        const s = r.summary;
        const seconds = (Date.now() - started) / 1000;
        const counts = `${s.appended} events appended, ${s.duplicate} already present, ${s.skipped} lines skipped (header/blank)`;
        if (r.ok) {
          process.stdout.write(
            `imported ${file}: ${s.lines} lines, ${counts}, in ${seconds.toFixed(1)} s (${Math.round((s.appended + s.duplicate) / Math.max(seconds, 0.001))} events/s) into ${describe}\n`,
          );
          return;
        }
        process.stderr.write(
          `${file}:${r.lineNumber}: ${r.message}\n` +
            `import stopped at line ${r.lineNumber}: nothing of lines ${r.batch.from}-${r.batch.to} was written; ` +
            `before them: ${counts}. Fix the line and run the import again (it is idempotent).\n`,
        );
        process.exitCode = EXIT_DATA;
      } finally {
        await store.close();
      }
    });
}
