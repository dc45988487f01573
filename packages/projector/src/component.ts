import path from 'node:path';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/readmodel-sqlite';
import type { LedgerComponent } from '@crm-ledger/runtime';
import { PROJECTION_NAMES, type ProjectionName } from '@crm-ledger/projections';
import { runWithProjectionLocks } from './locked-runner.js';
import { ensureProjections, Projector } from './projector.js';
import { replay } from './replay.js';

/**
 * The projector as a part of `crm-ledger start`: keeps the four views in `<data-dir>/readmodel.sqlite` up to
 * date, following the log live. Views whose stored tables come from an older version are rebuilt first
 * (into shadow tables: the old rows stay queryable meanwhile).
 */
export const projectorComponent: LedgerComponent = {
  name: 'projector',
  async start(ctx) {
    const log = ctx.logger.child({ component: 'projector' });
    const readModel =
      ctx.openReadModel !== undefined
        ? await ctx.openReadModel()
        : openSqliteReadModel({
            file: path.join(ctx.dataDir, READ_MODEL_FILE),
            synchronous: ctx.config.CRM_LEDGER_SQLITE_SYNCHRONOUS,
          });
    await ensureProjections(readModel);
    const abort = new AbortController();
    const onParentAbort = (): void => abort.abort();
    ctx.signal.addEventListener('abort', onParentAbort);
    const onSkipped = (e: { globalPosition: number; event: { type: string; schemaVersion: number } }): void =>
      log.warn(
        { position: e.globalPosition, eventType: e.event.type, schemaVersion: e.event.schemaVersion },
        'skipped an event this version cannot read',
      );
    // Each view runs only in the process holding its lock (PostgreSQL); see locked-runner.ts.
    const runViews = async (names: readonly ProjectionName[], signal: AbortSignal): Promise<void> => {
      const stale = await ensureProjections(readModel, names);
      if (stale.length > 0) {
        log.info({ projections: stale }, 'views built by another version: rebuilding');
        await replay({ store: ctx.store, readModel, projections: stale, onSkipped });
      }
      await new Projector({
        store: ctx.store,
        readModel,
        projections: names,
        onSkipped,
        onBatch: (b) => log.debug({ events: b.events, position: b.position, rows: b.rowsWritten }, 'applied'),
        onRestart: (reason) => log.info({ reason }, 'a rebuild was swapped in: resuming from its checkpoint'),
      }).run(signal);
    };
    const loop = runWithProjectionLocks(
      {
        readModel,
        projections: PROJECTION_NAMES,
        run: runViews,
        onLocks: (running, standby) =>
          log.info(
            { running, standby },
            `running views [${running.join(', ')}], standby for [${standby.join(', ')}]`,
          ),
      },
      abort.signal,
    ).catch((err: unknown) => {
      log.error({ err }, 'projector stopped');
    });
    return {
      description: `views in ${readModel.dialect === 'postgres' ? 'PostgreSQL' : READ_MODEL_FILE} (service, success, experience, value), following the log`,
      async stop() {
        abort.abort();
        ctx.signal.removeEventListener('abort', onParentAbort);
        await loop;
        await readModel.close();
      },
    };
  },
};
