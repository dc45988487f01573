import * as E from 'fp-ts/lib/Either.js';
import {
  fitBgNbd,
  fitGammaGamma,
  rfmFromDayRevenue,
  type BgNbdFitOptions,
  type BgNbdParams,
  type FitError,
  type GammaGammaFitOptions,
  type GammaGammaParams,
  type RfmValueSummary,
} from '@crm-ledger/clv';
import { minorUnitDigits } from '@crm-ledger/events';
import type { PurchaseDaysTally } from './purchase-days.js';

export interface ClvFitOptions {
  /** The last observed UTC day of the calibration window, `YYYY-MM-DD` (inclusive). */
  readonly observationEnd: string;
  /** Days per model time unit (default 7: the model works in weeks). */
  readonly daysPerUnit?: number;
  /** The one currency the spend model is fitted in (purchases in others are counted and left out). */
  readonly currency: string;
  /**
   * Minor units per major unit of `currency` (default: from its ISO 4217 exponent, 100 for USD, 1 for JPY,
   * 1000 for BHD): spend parameters are in major units.
   */
  readonly minorPerMajor?: number;
  readonly bgNbd?: BgNbdFitOptions;
  readonly gammaGamma?: GammaGammaFitOptions;
}

/** A fit as it is stored and shown: parameters, when, and on what data. JSON-serialisable. */
export interface ClvFitRecord {
  /** When the fit ran (ISO-8601 UTC, from the caller's clock). */
  readonly fittedAt: string;
  readonly window: {
    /** Earliest purchase day of any customer in the window. */
    readonly firstPurchaseDay: string;
    readonly observationEnd: string;
    readonly daysPerUnit: number;
  };
  readonly currency: string;
  readonly minorPerMajor: number;
  readonly bgNbd: {
    readonly params: BgNbdParams;
    readonly logLikelihood: number;
    readonly customers: number;
    readonly repeatBuyers: number;
  };
  readonly gammaGamma: {
    readonly params: GammaGammaParams;
    readonly logLikelihood: number;
    readonly customers: number;
    /** Repeat buyers left out of the spend fit because their repeat purchases were worth 0 (free items). */
    readonly zeroSpendRepeatBuyers: number;
  };
  readonly data: FitDataSource;
}

/** Minor units per major unit: as given, or from the currency's ISO 4217 exponent. */
export const minorPerMajorOf = (o: Pick<ClvFitOptions, 'minorPerMajor' | 'currency'>): number =>
  o.minorPerMajor ?? 10 ** minorUnitDigits(o.currency);

/** The customers' summaries at the window end, keyed by customer id, spend in major units. */
export function summarise(
  tally: PurchaseDaysTally,
  options: Pick<ClvFitOptions, 'observationEnd' | 'daysPerUnit' | 'minorPerMajor' | 'currency'>,
): E.Either<FitError, Map<string, RfmValueSummary>> {
  const window = { observationEnd: options.observationEnd, daysPerUnit: options.daysPerUnit ?? 7 };
  const perMajor = minorPerMajorOf(options);
  const out = new Map<string, RfmValueSummary>();
  for (const [customerId, days] of tally.byCustomer) {
    const s = rfmFromDayRevenue(days, window);
    if (E.isLeft(s)) return s;
    if (s.right !== undefined)
      out.set(customerId, { ...s.right, monetaryValue: s.right.monetaryValue / perMajor });
  }
  return E.right(out);
}

/** What the summaries were computed from, for the record. */
export interface FitDataSource {
  /** `event-log`: PurchaseMade events folded from the store; `value-view`: the value view's rows. */
  readonly source: 'event-log' | 'value-view';
  /** Purchases (orders) in the window that went into the summaries. */
  readonly purchases: number;
  /** Purchases after the window (null when the source cannot tell). */
  readonly afterWindow: number | null;
  /** Purchases left out for being in another currency (null when the source cannot tell). */
  readonly otherCurrency: number | null;
}

/**
 * Fits BG/NBD on every customer and Gamma-Gamma on the repeat buyers of the summaries, and describes the fit
 * for storage. `firstPurchaseDay` is the earliest purchase day of the data (the start of the data window).
 */
export function fitClvOnSummaries(
  summaries: Map<string, RfmValueSummary>,
  firstPurchaseDay: string,
  data: FitDataSource,
  options: ClvFitOptions,
  fittedAt: string,
): E.Either<FitError, { record: ClvFitRecord; summaries: Map<string, RfmValueSummary> }> {
  const rows = [...summaries.values()];
  const bg = fitBgNbd(rows, options.bgNbd);
  if (E.isLeft(bg)) return bg;
  // The spend model takes logarithms of the mean repeat spend: repeat buyers whose repeat purchases were
  // all free (CDNOW_master has some) carry no spend information for it and are left out, counted.
  const spendRows = rows.filter((r) => r.frequency === 0 || r.monetaryValue > 0);
  const gg = fitGammaGamma(spendRows, options.gammaGamma);
  if (E.isLeft(gg)) return gg;
  const record: ClvFitRecord = {
    fittedAt,
    window: {
      firstPurchaseDay,
      observationEnd: options.observationEnd,
      daysPerUnit: options.daysPerUnit ?? 7,
    },
    currency: options.currency,
    minorPerMajor: minorPerMajorOf(options),
    bgNbd: {
      params: bg.right.params,
      logLikelihood: bg.right.logLikelihood,
      customers: bg.right.customers,
      repeatBuyers: bg.right.repeatBuyers,
    },
    gammaGamma: {
      params: gg.right.params,
      logLikelihood: gg.right.logLikelihood,
      customers: gg.right.customers,
      zeroSpendRepeatBuyers: rows.length - spendRows.length,
    },
    data,
  };
  return E.right({ record, summaries });
}

/** Summarises a purchase-day tally at the window end and fits both models on it. */
export function fitClvModels(
  tally: PurchaseDaysTally,
  options: ClvFitOptions,
  fittedAt: string,
): E.Either<FitError, { record: ClvFitRecord; summaries: Map<string, RfmValueSummary> }> {
  const summaries = summarise(tally, options);
  if (E.isLeft(summaries)) return summaries;
  let firstPurchaseDay = options.observationEnd;
  for (const days of tally.byCustomer.values())
    for (const d of Object.keys(days)) if (d < firstPurchaseDay) firstPurchaseDay = d;
  const data: FitDataSource = {
    source: 'event-log',
    purchases: tally.purchases,
    afterWindow: tally.afterWindow,
    otherCurrency: tally.otherCurrency,
  };
  return fitClvOnSummaries(summaries.right, firstPurchaseDay, data, options, fittedAt);
}
