import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { ClvRefitScheduler, type ClvFitRecord, type RefitTimer } from '@crm-ledger/clv-ledger';
import { loadConfig, settingsSchema } from '@crm-ledger/config';
import { invalidConfiguration, type ReadModelStore } from '@crm-ledger/core';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/sqlite';
import type { LedgerComponent } from '../component.js';

/** Where fits are kept: `<data dir>/clv/latest.json` and one file per fit under `clv/fits/`. */
export const clvDir = (dataDir: string): string => path.join(path.resolve(dataDir), 'clv');

/** Stores a fit record in `clv/fits/` and replaces `clv/latest.json` atomically. */
export function writeRecord(dataDir: string, record: ClvFitRecord): string {
  const dir = clvDir(dataDir);
  mkdirSync(path.join(dir, 'fits'), { recursive: true });
  const text = JSON.stringify(record, null, 2) + '\n';
  const file = path.join(dir, 'fits', `${record.fittedAt.replaceAll(':', '-')}.json`);
  writeFileSync(file, text);
  // Replace latest.json atomically: a reader never sees half a file.
  const tmp = path.join(dir, 'latest.json.tmp');
  writeFileSync(tmp, text);
  renameSync(tmp, path.join(dir, 'latest.json'));
  return file;
}

/** Settings of the scheduled CLV refit (declared in SETTINGS of @crm-ledger/config). */
export const ClvRefitEnv = settingsSchema(['CRM_LEDGER_CLV_REFIT_HOURS', 'CRM_LEDGER_CLV_CURRENCY']);
export type ClvRefitSettings = z.output<typeof ClvRefitEnv>;

/** Reads the refit settings; throws a `StartupError` ('configuration') with one line per wrong variable. */
export function clvRefitEnv(env: Record<string, string | undefined>): ClvRefitSettings {
  const r = loadConfig(ClvRefitEnv, env);
  if (E.isLeft(r)) throw invalidConfiguration(r.left);
  return r.right;
}

const realTimer: RefitTimer = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The lock (`ReadModelStore.tryLockProjection`) held by the one process that refits on a shared read model. */
export const CLV_REFIT_LOCK = 'clv-refit';

/**
 * Runs `start` while this process holds the refit lock of a read model shared by several processes (the
 * standalone projector scaled out, on PostgreSQL): one refits, the others wait as standbys, trying the lock every
 * `retryMs`, and take over when the holder dies. A store without locks (SQLite: one process per file) runs at
 * once. `start` returns how to stop what it started; the returned function stops it and gives the lock back.
 */
export function whileHoldingLock(
  readModel: ReadModelStore,
  start: () => () => Promise<void>,
  options: { readonly retryMs?: number; readonly onLockError?: (err: unknown) => void } = {},
): () => Promise<void> {
  if (readModel.tryLockProjection === undefined) return start();
  const tryLock = readModel.tryLockProjection.bind(readModel);
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const lock = await tryLock(CLV_REFIT_LOCK).catch((err: unknown) => {
        options.onLockError?.(err);
        return undefined;
      });
      if (lock === undefined) {
        await sleep(options.retryMs ?? 5_000, undefined, { signal: stopping.signal }).catch(() => undefined);
        continue;
      }
      const stop = start();
      await new Promise<void>((resolve) => {
        if (stopping.signal.aborted || lock.lost.aborted) return resolve();
        stopping.signal.addEventListener('abort', () => resolve(), { once: true });
        lock.lost.addEventListener('abort', () => resolve(), { once: true });
      });
      await stop();
      await lock.release().catch(() => undefined);
    }
  })();
  return async () => {
    stopping.abort();
    await loop;
  };
}

/**
 * The scheduled CLV refit as a part of a ledger process (`crm-ledger start`, the standalone projector): at start
 * when no fit exists and the ledger has events, then every CRM_LEDGER_CLV_REFIT_HOURS (default 24, 0 = off), on
 * the purchases up to yesterday (UTC). Writes clv_fit / clv_customers and `<data dir>/clv/latest.json` like
 * `crm-ledger clv fit`. A fit the data cannot support is a warning, never a crash. On a read model several
 * processes share, one of them refits at a time (`whileHoldingLock`).
 */
export const clvRefitComponent = (settings: ClvRefitSettings): LedgerComponent => ({
  name: 'CLV refit',
  async start(ctx) {
    const everyHours = settings.CRM_LEDGER_CLV_REFIT_HOURS;
    if (everyHours === 0)
      return {
        description: 'off (CRM_LEDGER_CLV_REFIT_HOURS=0)',
        stop: () => Promise.resolve(),
      };
    // The configured read-model store (PostgreSQL in production), so the query API reads the fit it serves.
    const readModel =
      ctx.openReadModel !== undefined
        ? await ctx.openReadModel()
        : openSqliteReadModel({ file: path.join(ctx.dataDir, READ_MODEL_FILE) });
    const log = ctx.logger.child({ component: 'clv-refit' });
    const stop = whileHoldingLock(
      readModel,
      () => {
        const scheduler = new ClvRefitScheduler({
          store: ctx.store,
          readModel,
          clock: ctx.clock,
          timer: realTimer,
          log: {
            debug: (fields, message) => log.debug(fields, message),
            info: (fields, message) => log.info(fields, message),
            warn: (fields, message) => log.warn(fields, message),
            error: (fields, message) => log.error(fields, message),
          },
          everyHours,
          fit: { currency: settings.CRM_LEDGER_CLV_CURRENCY },
          status: ctx.status,
          onFitted: (record) => writeRecord(ctx.dataDir, record),
        });
        // The first decision (maybe a fit) runs in the background: the server does not wait for it.
        void scheduler.start();
        return () => scheduler.stop();
      },
      { onLockError: (err) => log.debug({ err }, 'CLV refit: cannot try the refit lock now; trying again') },
    );
    return {
      description: `every ${everyHours} h in ${settings.CRM_LEDGER_CLV_CURRENCY} (clv_fit, clv_customers)`,
      stop: async () => {
        await stop();
        await readModel.close();
      },
    };
  },
});
