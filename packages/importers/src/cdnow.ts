import type { PurchaseCsvOptions } from './purchase-csv.js';

/**
 * `CDNOW_master.txt`: a header `customer_id date number_of_cds dollar_value`, whitespace-separated,
 * dates YYYYMMDD, dollars. Each line is one PurchaseMade at 00:00:00Z of its day, amount in USD cents.
 * Both presets share the source name `cdnow` and content-derived ids, so the sample's purchases get
 * the same eventIds as the same purchases in the master file: importing both writes each purchase once.
 */
export const cdnowMaster: PurchaseCsvOptions = {
  source: 'cdnow',
  delimiter: 'whitespace',
  header: true,
  dateFormat: 'YYYYMMDD',
  currency: 'USD',
  columns: { customer: 'customer_id', date: 'date', quantity: 'number_of_cds', amount: 'dollar_value' },
};

/** `CDNOW_sample.txt`: no header, `customer_id sample_id date number_of_cds dollar_value`. */
export const cdnowSample: PurchaseCsvOptions = {
  source: 'cdnow',
  delimiter: 'whitespace',
  header: false,
  dateFormat: 'YYYYMMDD',
  currency: 'USD',
  columns: { customer: 1, date: 3, quantity: 4, amount: 5 },
};

export const PRESETS = { 'cdnow-master': cdnowMaster, 'cdnow-sample': cdnowSample } as const;
export type PresetName = keyof typeof PRESETS;
