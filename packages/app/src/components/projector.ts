import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { EventStore, ReadModelStore } from '@crm-ledger/core';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/sqlite';
import { retryForever } from '@crm-ledger/core';
import type { ProjectionLag } from '@crm-ledger/http-kit';
import type { LedgerComponent } from '../component.js';
import { heldDegraded, logHeld } from './held-log.js';
import { PROJECTION_NAMES, type ProjectionName } from '@crm-ledger/projections';
import { ensureProjections, Projector, replay, runWithProjectionLocks } from '@crm-ledger/projector';

/**
 * The projector as a part of `crm-ledger start`: keeps the four views in `<data-dir>/readmodel.sqlite` up to
 * date, following the log live. Views whose stored tables come from an older version are rebuilt first
 * (into shadow tables: the old rows stay queryable meanwhile).
 */
/**
 * Projection positions and lag, read when Prometheus scrapes: the log's head, each view's checkpoint and the
 * difference (events not yet in the view). Lag falls to 0 when the views have caught up.
 */
/** The log's head and, per view, the events not yet applied to it: the one source of the lag metric and `/ready`. */
export async function projectionLag(store: EventStore, readModel: ReadModelStore): Promise<ProjectionLag> {
  const head = await store.headPosition();
  const views: { view: string; events: number }[] = [];
  for (const view of PROJECTION_NAMES)
    views.push({ view, events: Math.max(0, head - (await readModel.checkpoint(view))) });
  return { head, views };
}

function registerLagMetrics(registry: Registry, store: EventStore, readModel: ReadModelStore): void {
  new Gauge({
    name: 'crm_ledger_log_head_position',
    help: 'Global position of the last event in the ledger',
    registers: [registry],
    async collect() {
      this.set(await store.headPosition());
    },
  });
  new Gauge({
    name: 'crm_ledger_projection_position',
    help: "Global position each view's tables reflect (its checkpoint)",
    labelNames: ['view'],
    registers: [registry],
    async collect() {
      for (const view of PROJECTION_NAMES) this.set({ view }, await readModel.checkpoint(view));
    },
  });
  new Gauge({
    name: 'crm_ledger_projection_lag_events',
    help: 'Events in the ledger not yet applied to each view (head position minus the view checkpoint)',
    labelNames: ['view'],
    registers: [registry],
    async collect() {
      for (const { view, events } of (await projectionLag(store, readModel)).views)
        this.set({ view }, events);
    },
  });
}

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
    registerLagMetrics(ctx.metrics, ctx.store, readModel);
    const abort = new AbortController();
    const onParentAbort = (): void => abort.abort();
    ctx.signal.addEventListener('abort', onParentAbort);
    const onSkipped = (e: { globalPosition: number; event: { type: string; schemaVersion: number } }): void =>
      log.warn(
        { position: e.globalPosition, eventType: e.event.type, schemaVersion: e.event.schemaVersion },
        'skipped an event this version cannot read',
      );
    // Each view runs only in the process holding its lock (PostgreSQL); see locked-runner.ts.
    let healthy = (): void => undefined;
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
        onResumed: () => healthy(),
        onBatch: (b) => {
          healthy();
          log.debug({ events: b.events, position: b.position, rows: b.rowsWritten }, 'applied');
        },
        onRestart: (reason) =>
          log.info(
            { reason },
            'the stored checkpoint moved under this runner (another runner wrote, or a rebuild was swapped in): resuming from the stored checkpoint',
          ),
        onHeld: logHeld(log),
      }).run(signal);
    };
    // Transient failures (connection refused or killed, server restart, lock session lost, read-only
    // failover) restart the whole locked run after a capped, jittered backoff, forever: locks are given back,
    // states reload from the stored checkpoints. Only a bug or a permanent error stops the projector.
    const loop = retryForever(
      (attempt) => {
        healthy = attempt.healthy;
        return runWithProjectionLocks(
          {
            readModel,
            projections: PROJECTION_NAMES,
            run: runViews,
            onAttempt: () => attempt.healthy(),
            onLocks: (running, standby) =>
              log.info(
                { running, standby },
                `running views [${running.join(', ')}], standby for [${standby.join(', ')}]`,
              ),
          },
          abort.signal,
        );
      },
      {
        name: 'projector',
        signal: abort.signal,
        status: ctx.status,
        onRetry: (err, attempts, delayMs) =>
          log.warn({ err, attempts, delayMs }, 'projector: transient failure, retrying'),
      },
    ).catch((err: unknown) => {
      log.error({ err }, 'projector stopped: a permanent error (see /status)');
    });
    return {
      description: `views in ${readModel.dialect === 'postgres' ? 'PostgreSQL' : READ_MODEL_FILE} (service, success, experience, value), following the log`,
      lag: () => projectionLag(ctx.store, readModel),
      degraded: () => heldDegraded(readModel),
      async stop() {
        abort.abort();
        ctx.signal.removeEventListener('abort', onParentAbort);
        await loop;
        await readModel.close();
      },
    };
  },
};
