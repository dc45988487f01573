import type { FastifyBaseLogger } from 'fastify';
import type { LedgerEnv } from '@crm-ledger/config';
import type { Clock, EventStore, ReadModelStore, StatusBoard } from '@crm-ledger/core';
import type { ApiKeyStore, ContactAccessLog, HttpApp, ProjectionLag } from '@crm-ledger/http-kit';
import type { PiiVault } from '@crm-ledger/pii';
import type { Registry } from 'prom-client';

/** What every part of a ledger process gets: the validated config, the one logger, store, HTTP server, keys. */
export interface LedgerContext {
  readonly config: LedgerEnv;
  readonly logger: FastifyBaseLogger;
  readonly store: EventStore;
  /**
   * Personal data (crypto-shredding): the customer keys. `store` encrypts personal fields with them on append;
   * readers that show personal data decrypt with `vault.reader()`. Undefined in a process without a key store.
   */
  readonly vault?: PiiVault;
  /** The process's one HTTP server: add routes in `start` (it listens after every component started). */
  readonly app: HttpApp;
  /** The process's Prometheus registry (served at `GET /metrics`): a component registers its own metrics in it. */
  readonly metrics: Registry;
  readonly keys: ApiKeyStore;
  /** The append-only log of contact-detail reads (no personal data in it); undefined: contact details are never shown. */
  readonly accessLog?: ContactAccessLog;
  /** Absolute path of the data directory (SQLite files, keys, read models). */
  readonly dataDir: string;
  readonly clock: Clock;
  /**
   * Opens the read-model store the process is configured with (CRM_LEDGER_READ_MODEL_STORE: SQLite in the data
   * directory or PostgreSQL); each call opens one, the caller closes it. Undefined: the component's default.
   * `scratch`: an empty one of the same kind (SQLite in memory, PostgreSQL a schema dropped on close).
   */
  readonly openReadModel?: (options?: { readonly scratch?: boolean }) => Promise<ReadModelStore>;
  /**
   * Drops the scratch read models that processes now gone left behind (a query process killed while it had views
   * of a past cut in PostgreSQL); answers the names dropped. Undefined: the process has none to sweep.
   */
  readonly sweepScratchReadModels?: () => Promise<readonly string[]>;
  /**
   * The health of the process's long-running loops (`retryForever` reports to it): a retrying one makes
   * `GET /ready` answer `degraded` with "retrying since T, last error E", a failed one `not_ready`;
   * `GET /status` shows every one.
   */
  readonly status: StatusBoard;
  /** Ends when the process shuts down: long-running loops (a projector's subscription) stop on it. */
  readonly signal: AbortSignal;
}

export interface RunningComponent {
  /** One line for the start-up banner, e.g. `ingest API: POST /v1/events`. */
  readonly description: string;
  /** Stops the component after the HTTP server stopped accepting and finished in-flight requests. */
  stop(): Promise<void>;
  /** What is degraded in this component (it still serves), for `/ready`; undefined when all is well. */
  degraded?(): Promise<{ readonly reason: string; readonly count: number } | undefined>;
  /** The projection lag of the views this component keeps (the projector), for `/ready`. */
  lag?(): Promise<ProjectionLag>;
}

/**
 * A part of the ledger process (ingest API, projector, query API, Kafka relay). `crm-ledger start` runs
 * a list of them; adding a part is one line in that list.
 */
export interface LedgerComponent {
  readonly name: string;
  start(context: LedgerContext): Promise<RunningComponent>;
}

export interface StartedComponents {
  readonly descriptions: readonly string[];
  /** Stops every started component in reverse order; errors are logged, not thrown, so every part gets stopped. */
  stopAll(): Promise<void>;
  /** The first degraded component's report (reason prefixed with its name), or undefined. */
  degraded(): Promise<{ readonly reason: string; readonly count: number } | undefined>;
  /** The projection lag of the first component that reports one (the projector), or undefined. */
  lag(): Promise<ProjectionLag | undefined>;
}

/** Starts components in order; if one fails, those already started are stopped and the error is rethrown. */
export async function startComponents(
  components: readonly LedgerComponent[],
  context: LedgerContext,
): Promise<StartedComponents> {
  const running: { name: string; component: RunningComponent }[] = [];
  const stopAll = async () => {
    for (const { name, component } of [...running].reverse()) {
      try {
        await component.stop();
      } catch (err) {
        context.logger.error({ err, component: name }, 'component failed to stop');
      }
    }
  };
  for (const c of components) {
    try {
      running.push({ name: c.name, component: await c.start(context) });
    } catch (err) {
      await stopAll();
      throw err;
    }
  }
  const degraded = async () => {
    for (const { name, component } of running) {
      const d = await component.degraded?.();
      if (d !== undefined) return { reason: `${name}: ${d.reason}`, count: d.count };
    }
    return undefined;
  };
  const lag = async () => {
    for (const { component } of running) if (component.lag !== undefined) return component.lag();
    return undefined;
  };
  return {
    descriptions: running.map((r) => `${r.name}: ${r.component.description}`),
    stopAll,
    degraded,
    lag,
  };
}
