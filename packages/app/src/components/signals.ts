import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { loadConfig, settingsSchema } from '@crm-ledger/config';
import { invalidConfiguration, type Clock, type EventStore } from '@crm-ledger/core';
import {
  CUSTOMER_STREAM_PREFIX,
  EXCHANGE_RATES_CUSTOMER_ID,
  customerStream,
  isSignalAreaType,
  upcast,
} from '@crm-ledger/events';
import {
  DEFAULT_HEALTH_WEIGHTS,
  deriveSignals,
  type Positioned,
  type SignalOptions,
} from '@crm-ledger/projections';
import type { LedgerComponent } from '../component.js';

/** Settings of the signal engine (declared in SETTINGS of @crm-ledger/config). */
export const SIGNAL_SETTINGS = [
  'CRM_LEDGER_SIGNAL_RULES',
  'CRM_LEDGER_SIGNALS_EVERY_SECONDS',
  'CRM_LEDGER_SILENT_DAYS',
  'CRM_LEDGER_HEALTH_WEIGHTS',
] as const;
export const SignalEnv = settingsSchema(SIGNAL_SETTINGS);
export type SignalSettings = z.output<typeof SignalEnv>;

/** Reads the engine's settings; throws a `StartupError` ('configuration') with one line per wrong variable. */
export function signalEnv(env: Record<string, string | undefined>): SignalSettings {
  const r = loadConfig(SignalEnv, env);
  if (E.isLeft(r)) throw invalidConfiguration(r.left);
  return r.right;
}

export const signalOptionsOf = (s: SignalSettings): SignalOptions => ({
  rules: s.CRM_LEDGER_SIGNAL_RULES,
  silentDays: s.CRM_LEDGER_SILENT_DAYS,
  healthWeights: s.CRM_LEDGER_HEALTH_WEIGHTS ?? DEFAULT_HEALTH_WEIGHTS,
});

/** What one run of the engine did. */
export interface SignalRun {
  readonly customers: number;
  readonly appended: number;
  /** Customers whose pass failed (read or append): tried again with the next pass, the others went on. */
  readonly failed: readonly { readonly customerId: string; readonly error: unknown }[];
}

/**
 * Runs the pure signal engine (`deriveSignals`) over the ledger and appends what it raises, idempotently: each
 * signal's event id is deterministic and the append is idempotent by event id, so a retry, a restart, a second
 * runner or a replay from position 0 appends nothing new. The clock is an input (the `Clock` port): the same log
 * up to the same time raises the same signals.
 *
 * Which customers it looks at: those with new events since the last pass (followed from the global log, signals
 * themselves not counted) and those whose next time-driven rule (`nextCheckAt`: a silence, an SLA target, a
 * renewal window) is due by `now`. After a restart it starts from position 0, so every customer is looked at once.
 */
export class SignalRunner {
  private after = 0;
  private readonly due = new Map<string, number>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly options: SignalOptions,
  ) {}

  /** Reads the log from the last position on and marks the customers with new (non-signal) events. */
  async follow(): Promise<void> {
    for await (const page of this.store.readAll({ after: this.after, batchSize: 2_000 })) {
      for (const stored of page) {
        this.after = stored.globalPosition;
        const { customerId, type } = stored.event;
        if (customerId === EXCHANGE_RATES_CUSTOMER_ID || isSignalAreaType(type)) continue;
        if (!stored.streamName.startsWith(CUSTOMER_STREAM_PREFIX)) continue;
        this.dirty.add(customerId);
      }
    }
  }

  /** One pass: follows the log, then runs the engine for every customer with new events or a rule due by now. */
  async runOnce(): Promise<SignalRun> {
    await this.follow();
    const now = this.clock.now();
    const nowMs = Date.parse(now);
    for (const [customerId, at] of this.due) if (at <= nowMs) this.dirty.add(customerId);
    const customers = [...this.dirty].sort();
    let appended = 0;
    const failed: { customerId: string; error: unknown }[] = [];
    for (const customerId of customers) {
      this.dirty.delete(customerId);
      try {
        appended += await this.runFor(customerId, now);
      } catch (error) {
        // one customer's failure never stops the others: it is tried again with the next pass
        this.dirty.add(customerId);
        failed.push({ customerId, error });
      }
    }
    return { customers: customers.length, appended, failed };
  }

  /** Runs the engine for one customer as of `now`; appends the signals its stream does not hold yet. */
  async runFor(customerId: string, now: string): Promise<number> {
    const stream = customerStream(customerId);
    const read = await this.store.readStream(stream);
    if (E.isLeft(read)) throw new Error(`reading ${stream}: ${read.left.message}`);
    const history: Positioned[] = [];
    const stored = new Set<string>();
    for (const s of read.right) {
      stored.add(s.event.eventId);
      const event = upcast(s.event);
      if (event !== undefined) history.push({ position: s.globalPosition, event });
    }
    if (history.some((p) => p.event.type === 'CustomerErased')) {
      this.due.delete(customerId);
      return 0;
    }
    const derived = deriveSignals(customerId, history, now, this.options);
    if (derived.nextCheckAt === null) this.due.delete(customerId);
    else this.due.set(customerId, Date.parse(derived.nextCheckAt));
    const fresh = derived.signals.filter((s) => !stored.has(s.eventId));
    if (fresh.length === 0) return 0;
    const result = await this.store.append(stream, fresh);
    if (E.isRight(result)) return result.right.duplicate ? 0 : fresh.length;
    if (result.left.type === 'CustomerGone') return 0;
    if (result.left.type === 'IdempotencyConflict' || result.left.type === 'WrongExpectedRevision') {
      // another runner appended some of them meanwhile: one by one, each idempotent by its id
      let n = 0;
      for (const s of fresh) {
        const one = await this.store.append(stream, [s]);
        if (E.isRight(one) && !one.right.duplicate) n++;
      }
      return n;
    }
    throw new Error(`appending signals to ${stream}: ${result.left.type}`);
  }
}

/**
 * The signal engine as a part of a ledger process (`crm-ledger start`, the standalone ingest service, which
 * holds the writer store): a pass at start (every customer once), then one every CRM_LEDGER_SIGNALS_EVERY_SECONDS
 * (default 0: off, since it appends to the ledger; e.g. 60), each for the customers with new events and those whose time-driven rule is due. A new
 * event is looked at by the next pass, not at once (a signal is due within one period).
 */
export const signalsComponent = (settings: SignalSettings): LedgerComponent => ({
  name: 'signals',
  start(ctx) {
    const every = settings.CRM_LEDGER_SIGNALS_EVERY_SECONDS;
    if (every === 0)
      return Promise.resolve({
        description: 'off (CRM_LEDGER_SIGNALS_EVERY_SECONDS=0)',
        stop: () => Promise.resolve(),
      });
    const log = ctx.logger.child({ component: 'signals' });
    const runner = new SignalRunner(ctx.store, ctx.clock, signalOptionsOf(settings));
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    const pass = (): void => {
      running = runner
        .runOnce()
        .then((r) => {
          if (r.appended > 0) log.info({ customers: r.customers, signals: r.appended }, 'signals raised');
          for (const f of r.failed)
            log.warn(
              { err: f.error, customerId: f.customerId },
              'the signal engine failed for a customer; next pass',
            );
        })
        .catch((err: unknown) => log.warn({ err }, 'the signal engine failed a pass; trying again'))
        .finally(() => {
          if (!stopped) {
            timer = setTimeout(pass, every * 1000);
            timer.unref();
          }
        });
    };
    pass();
    return Promise.resolve({
      description: `a pass every ${every} s for customers with new events or a rule due (docs/signals.md)`,
      stop: async () => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        await running;
      },
    });
  },
});
