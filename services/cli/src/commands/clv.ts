import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { fitClvFromStore, writeClvToReadModel, type ClvFromStoreError } from '@crm-ledger/clv-ledger';
import { clvDir, writeRecord } from '@crm-ledger/app';
import { systemClock } from '@crm-ledger/core';
import { CURRENCIES } from '@crm-ledger/events';
import { READ_MODEL_FILE } from '@crm-ledger/sqlite';
import { openReadModel, openStore } from '../store.js';
import { EXIT_DATA, option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption, syncOption } from './shared.js';

interface FitFlags extends SharedFlags {
  observationEnd?: string;
  currency: string;
  daysPerUnit: string;
  minorPerMajor?: string;
  months: string;
  discountRate: string;
}

const Day = z.iso.date('must be a day, YYYY-MM-DD');

/** The last complete UTC day: the default end of the observation window. */
function yesterdayUtc(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}

function describeError(e: ClvFromStoreError): string {
  switch (e.type) {
    case 'InvalidInput':
      return `invalid ${e.field} (${JSON.stringify(e.value)}): ${e.message}`;
    case 'TooFewCustomers':
      return `too few customers with purchases in the window for ${e.model}: ${e.count}, at least ${e.minimum} needed`;
    case 'NoRepeatBuyers':
      return `nobody among ${e.customers} customers bought twice in the window: ${e.model} cannot be fitted`;
    case 'NotConverged':
      return `the ${e.model} fit did not converge after ${e.evaluations} evaluations: ${e.message}`;
    case 'NotIdentified':
      return `the ${e.model} fit is not identified: ${e.reason}`;
    case 'UnreadableEvent':
      return `stored event at position ${e.globalPosition} does not parse: ${e.issues.map((i) => i.message).join('; ')}`;
  }
}

function fitCommand(): Command {
  return dataDirOption(syncOption(new Command('fit')))
    .description(
      'Fit the predictive CLV models on the purchases in the ledger: BG/NBD (purchase frequency, P(alive)) and ' +
        "Gamma-Gamma (spend), on each customer's purchase days up to the end of the observation window. " +
        'Stores the parameters, the fit date and the data window in <data dir>/clv/latest.json (and clv/fits/), ' +
        "writes them and every customer's score (P(alive), expected purchases and spend, discounted CLV) to the " +
        'clv_fit and clv_customers tables of the read model, and prints the fit. ' +
        'Exit code 1 when the data cannot support a fit.',
    )
    .option('--observation-end <day>', 'last observed UTC day, YYYY-MM-DD, inclusive (default: yesterday)')
    .option('--currency <code>', 'the currency of the spend model (purchases in others are left out)', 'USD')
    .option('--days-per-unit <n>', 'days per model time unit (7: the model works in weeks)', '7')
    .option(
      '--minor-per-major <n>',
      'minor units per major unit of the currency (default: its ISO 4217 exponent: 100 for USD, 1 for JPY)',
    )
    .option('--months <n>', "horizon of each customer's CLV, months", '12')
    .option('--discount-rate <d>', 'monthly discount rate of the CLV', '0.01')
    .addHelpText(
      'after',
      `
Example (the CDNOW calibration period, 39 weeks from 1997-01-01):
  crm-ledger import CDNOW_sample.txt --format cdnow-sample
  crm-ledger clv fit --observation-end 1997-09-30 --currency USD`,
    )
    .action(async (opts: FitFlags) => {
      const config = settingsFrom(opts);
      const observationEnd = option('--observation-end', Day, opts.observationEnd ?? yesterdayUtc());
      const currency = option('--currency', z.enum(CURRENCIES), opts.currency.toUpperCase());
      const daysPerUnit = option('--days-per-unit', positiveInt(366), opts.daysPerUnit);
      const minorPerMajor =
        opts.minorPerMajor === undefined
          ? undefined
          : option('--minor-per-major', positiveInt(1_000_000), opts.minorPerMajor);
      const months = option('--months', positiveInt(600), opts.months);
      const monthlyDiscountRate = option(
        '--discount-rate',
        z.coerce.number().min(0, 'must be a number from 0 to 1').max(1, 'must be a number from 0 to 1'),
        opts.discountRate,
      );
      const { store } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      try {
        const fit = await fitClvFromStore(
          store,
          {
            observationEnd,
            currency,
            daysPerUnit,
            ...(minorPerMajor === undefined ? {} : { minorPerMajor }),
          },
          systemClock,
        );
        if (E.isLeft(fit)) {
          process.stderr.write(`crm-ledger clv fit: ${describeError(fit.left)}\n`);
          process.exitCode = EXIT_DATA;
          return;
        }
        const head = await store.headPosition();
        const file = writeRecord(config.CRM_LEDGER_DATA_DIR, fit.right.record);
        // The configured read-model store (CRM_LEDGER_READ_MODEL_STORE), where the query API reads the fit.
        const readModelFile =
          config.CRM_LEDGER_READ_MODEL_STORE === 'postgres'
            ? `PostgreSQL schema ${config.CRM_LEDGER_POSTGRES_SCHEMA}`
            : path.join(path.resolve(config.CRM_LEDGER_DATA_DIR), READ_MODEL_FILE);
        const readModel = await openReadModel(config, config.CRM_LEDGER_DATA_DIR);
        try {
          const written = await writeClvToReadModel(readModel, fit.right.record, fit.right.summaries, head, {
            months,
            monthlyDiscountRate,
          });
          process.stdout.write(JSON.stringify(fit.right.record, null, 2) + '\n');
          process.stderr.write(
            `fit stored in ${file} and ${path.join(clvDir(config.CRM_LEDGER_DATA_DIR), 'latest.json')}; ` +
              `${written.customers} customers scored into clv_customers of ${readModelFile}` +
              (written.unscored > 0 ? ` (${written.unscored} could not be scored)` : '') +
              '\n',
          );
        } finally {
          await readModel.close();
        }
      } finally {
        await store.close();
      }
    });
}

function showCommand(): Command {
  return dataDirOption(new Command('show'))
    .description('Print the latest stored CLV fit (parameters, fit date, data window) as JSON.')
    .action((opts: SharedFlags) => {
      const config = settingsFrom(opts);
      const file = path.join(clvDir(config.CRM_LEDGER_DATA_DIR), 'latest.json');
      if (!existsSync(file)) {
        process.stderr.write(`crm-ledger clv show: no fit yet in ${file}; run crm-ledger clv fit\n`);
        process.exitCode = EXIT_DATA;
        return;
      }
      process.stdout.write(readFileSync(file, 'utf8'));
    });
}

/** `crm-ledger clv fit | show`: predictive customer lifetime value. */
export function clvCommand(): Command {
  return new Command('clv')
    .description(
      'Predictive customer lifetime value (BG/NBD + Gamma-Gamma): fit the models, show the latest fit',
    )
    .addCommand(fitCommand())
    .addCommand(showCommand());
}
