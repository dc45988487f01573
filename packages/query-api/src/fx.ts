import type { EventStore, StoredEvent } from '@crm-ledger/core';
import { customerStream, EXCHANGE_RATES_CUSTOMER_ID, minorUnitDigits, upcast } from '@crm-ledger/events';
import { withoutVoided, type Positioned } from '@crm-ledger/projections';
import * as E from 'fp-ts/lib/Either.js';

/** A rate used for a conversion: 1 `base` = `rate` `quote`, recorded for `date`. */
export interface RateUsed {
  readonly base: string;
  readonly quote: string;
  readonly date: string;
  readonly rate: string;
  /** True when the pair was recorded the other way round and its inverse was used. */
  readonly inverted: boolean;
}

/** The exchange rates the ledger knew as of a cut, by pair, oldest date first. */
export class ExchangeRates {
  private constructor(
    private readonly pairs: ReadonlyMap<string, readonly { date: string; rate: string }[]>,
  ) {}

  /**
   * Folds `ExchangeRateRecorded` events (voids applied) into rates: for each pair and date the last recorded
   * rate wins; rates dated after `asOfDay` or stored after `position` are not known at the cut.
   */
  static fromEvents(
    events: readonly StoredEvent[],
    cut: { asOfDay: string; position?: number },
  ): ExchangeRates {
    const positioned: Positioned[] = [];
    for (const s of events) {
      if (cut.position !== undefined && s.globalPosition > cut.position) continue;
      const event = upcast(s.event);
      if (event !== undefined) positioned.push({ event, position: s.globalPosition });
    }
    const byPair = new Map<string, Map<string, string>>();
    for (const { event } of withoutVoided(positioned)) {
      if (event.type !== 'ExchangeRateRecorded') continue;
      const d = event.data;
      if (d.date > cut.asOfDay) continue;
      const key = `${d.base}/${d.quote}`;
      let dates = byPair.get(key);
      if (dates === undefined) byPair.set(key, (dates = new Map<string, string>()));
      dates.set(d.date, d.rate);
    }
    const pairs = new Map<string, { date: string; rate: string }[]>();
    for (const [key, dates] of byPair)
      pairs.set(
        key,
        [...dates.entries()]
          .map(([date, rate]) => ({ date, rate }))
          .sort((a, b) => (a.date < b.date ? -1 : 1)),
      );
    return new ExchangeRates(pairs);
  }

  /** The rates recorded in the stream `customer-fx-rates`, as of a business day (and a ledger position). */
  static async load(store: EventStore, cut: { asOfDay: string; position?: number }): Promise<ExchangeRates> {
    const read = await store.readStream(customerStream(EXCHANGE_RATES_CUSTOMER_ID));
    if (E.isLeft(read)) throw new Error(read.left.message);
    return ExchangeRates.fromEvents(read.right, cut);
  }

  private latest(base: string, quote: string, day: string): { date: string; rate: string } | undefined {
    const list = this.pairs.get(`${base}/${quote}`);
    if (list === undefined) return undefined;
    let found: { date: string; rate: string } | undefined;
    for (const r of list) if (r.date <= day) found = r;
    return found;
  }

  /** The rate from `from` to `to` valid on `day`: the pair's latest date on or before it, or its inverse. */
  rate(from: string, to: string, day: string): { factor: number; used: RateUsed } | undefined {
    const direct = this.latest(from, to, day);
    if (direct !== undefined)
      return { factor: Number(direct.rate), used: { base: from, quote: to, ...direct, inverted: false } };
    const inverse = this.latest(to, from, day);
    if (inverse !== undefined)
      return {
        factor: 1 / Number(inverse.rate),
        used: { base: to, quote: from, ...inverse, inverted: true },
      };
    return undefined;
  }
}

/**
 * Converts minor units of `from` into minor units of `to` (ISO 4217 exponents of both), rounded half away
 * from zero to the target's minor unit. Only for reporting: the ledger never stores converted amounts.
 */
export function convertMinor(amountMinor: number, from: string, to: string, factor: number): number {
  if (from === to) return amountMinor;
  const major = amountMinor / 10 ** minorUnitDigits(from);
  const target = major * factor * 10 ** minorUnitDigits(to);
  return Math.sign(target) * Math.round(Math.abs(target));
}

/**
 * What a converted aggregate says about its conversion: the reporting currency, the rule, every rate it used
 * and every amount it could not convert. Each amount is converted with the rate recorded for its pair at ITS
 * date (the latest rate dated on or before it): rates are events, so the conversion is replayable and as-of
 * correct.
 */
export interface Conversion {
  readonly currency: string;
  /** How the date of each amount is chosen (e.g. the last day of its month, or the as-of day when earlier). */
  readonly rule: string;
  /** Every rate used, by pair and date (distinct). */
  readonly rates: readonly RateUsed[];
  /**
   * Amounts with no rate to `currency` on or before their date: each figure they belong to is null in the
   * converted answer (never guessed). By currency and date, sorted.
   */
  readonly unconverted: readonly { readonly currency: string; readonly date: string }[];
}

/**
 * Converts amounts, each at its own date, remembering the rates used and what had no rate: one per converted
 * answer (`conversion()` states it).
 */
export class Converter {
  private readonly used = new Map<string, RateUsed>();
  private readonly missing = new Map<string, { currency: string; date: string }>();

  constructor(
    private readonly rates: ExchangeRates,
    readonly currency: string,
    private readonly rule: string,
  ) {}

  /** `amountMinor` of `from` on `date` in minor units of the reporting currency; undefined: no rate by then. */
  convert(amountMinor: number, from: string, date: string): number | undefined {
    if (from === this.currency) return amountMinor;
    const r = this.rates.rate(from, this.currency, date);
    if (r === undefined) {
      this.missing.set(`${from}|${date}`, { currency: from, date });
      return undefined;
    }
    this.used.set(`${r.used.base}|${r.used.quote}|${r.used.date}`, r.used);
    return convertMinor(amountMinor, from, this.currency, r.factor);
  }

  /**
   * The sum of amounts (currency, minor units) on one date in the reporting currency: null when any of them
   * has no rate (the figure cannot be converted; `conversion().unconverted` says which).
   */
  sum(amounts: Iterable<{ readonly currency: string; readonly minor: number }>, date: string): number | null {
    let total = 0;
    let complete = true;
    for (const a of amounts) {
      const c = this.convert(a.minor, a.currency, date);
      if (c === undefined) complete = false;
      else total += c;
    }
    return complete ? total : null;
  }

  conversion(): Conversion {
    const byKey = <T>(m: Map<string, T>): T[] =>
      [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    return {
      currency: this.currency,
      rule: this.rule,
      rates: byKey(this.used),
      unconverted: byKey(this.missing),
    };
  }
}

/** The last day of a month `YYYY-MM`, or `cap` (a day) when earlier: the date a monthly figure is converted at. */
export function monthEnd(month: string, cap: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  return last < cap ? last : cap;
}

/** One statement of two conversions into the same currency by the same rule (the rates and gaps of both). */
export function mergeConversions(a: Conversion, b: Conversion): Conversion {
  const key = (x: object): string => JSON.stringify(x);
  const union = <T extends object>(x: readonly T[], y: readonly T[]): T[] =>
    [...new Map([...x, ...y].map((v) => [key(v), v] as const)).entries()]
      .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))
      .map(([, v]) => v);
  return { ...a, rates: union(a.rates, b.rates), unconverted: union(a.unconverted, b.unconverted) };
}
