import { chmodSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { FastifyBaseLogger } from 'fastify';
import type { LedgerEnv } from '@crm-ledger/config';
import { StatusBoard, systemClock, type Clock, type EventStore, type ReadModelStore } from '@crm-ledger/core';
import {
  createHttpServer,
  createMetricsRegistry,
  ensureAdminKey,
  keyFiles,
  type AuthStore,
  type HttpApp,
  type ProjectionLag,
} from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import type { PiiVault } from '@crm-ledger/pii';
import {
  startComponents,
  type LedgerComponent,
  type LedgerContext,
  type StartedComponents,
} from './component.js';

export interface LedgerProcessOptions {
  readonly config: LedgerEnv;
  readonly logger: FastifyBaseLogger;
  /** A line per HTTP request (default true; `crm-ledger start` turns it off for readable terminal output). */
  readonly requestLogging?: boolean;
  readonly components: readonly LedgerComponent[];
  /**
   * Opens the configured event store in the (absolute) data directory; `describe` says where data lives. With a
   * `vault` the store encrypts personal fields (crypto-shredding) and readers can decrypt them.
   */
  readonly openStore: (
    dataDir: string,
  ) => Promise<{ store: EventStore; describe: string; vault?: PiiVault | undefined }>;
  /**
   * Opens the API keys and contact access log (CRM_LEDGER_AUTH_STORE) for the (absolute) data directory;
   * default `<dataDir>/auth.sqlite`.
   */
  readonly openAuthStore?: (dataDir: string) => Promise<AuthStore>;
  /** Opens the configured read-model store in the (absolute) data directory, for the projector and query API. */
  readonly openReadModel?: (
    dataDir: string,
    options?: { readonly scratch?: boolean },
  ) => Promise<ReadModelStore>;
  /** Drops the scratch read models of processes that are gone (see `LedgerContext.sweepScratchReadModels`). */
  readonly sweepScratchReadModels?: () => Promise<readonly string[]>;
  /** Runs after the store is open and before anything listens (e.g. seeding an empty store). */
  readonly beforeListen?: (store: EventStore) => Promise<void>;
  readonly clock?: Clock;
  readonly title?: string;
  readonly version?: string;
  readonly extraSchemas?: Record<string, unknown>;
}

export interface RunningLedger {
  readonly url: string;
  readonly dataDir: string;
  readonly storeDescription: string;
  /** Set when this start created the first admin key. */
  readonly adminKeyFile: string | undefined;
  readonly descriptions: readonly string[];
  readonly app: HttpApp;
  readonly store: EventStore;
  /** The projection lag (as `/ready` reports it) when this process runs the projector, else undefined. */
  lag(): Promise<ProjectionLag | undefined>;
  /** Graceful stop: stop accepting, finish in-flight requests, stop components in reverse, close the store. */
  stop(): Promise<void>;
}

/**
 * Assembles a ledger process: data directory, event store, API keys (first admin key on first start),
 * one HTTP server with every component's routes, then listens. Used by `crm-ledger start` and the
 * standalone `services/ingest` process.
 */
export async function startLedger(options: LedgerProcessOptions): Promise<RunningLedger> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const dataDir = path.resolve(config.CRM_LEDGER_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const { store, describe, vault } = await options.openStore(dataDir);
  const status = new StatusBoard();
  let closeAuth = (): Promise<void> => Promise.resolve();
  try {
    const auth = await (
      options.openAuthStore ?? ((d) => Promise.resolve(openSqliteAuthStore(keyFiles(d).store)))
    )(dataDir);
    closeAuth = () => auth.close();
    const keys = auth.keys;
    const adminKeyFile = await ensureAdminKey(keys, keyFiles(dataDir).adminKey, clock.now());
    const metrics = createMetricsRegistry();
    registerSubscriptionMetrics(metrics, store);
    // Assigned once the components run: `/ready` asks them what is degraded.
    const running: { started?: StartedComponents } = {};
    const app = await createHttpServer({
      logger,
      metrics,
      requestLogging: options.requestLogging ?? true,
      title: options.title ?? 'crm-ledger',
      version: options.version ?? '0.1.0',
      description: 'An event-sourced customer-relationship ledger',
      bodyLimit: config.CRM_LEDGER_BODY_LIMIT,
      timeouts: {
        requestMs: config.CRM_LEDGER_REQUEST_TIMEOUT_SECONDS * 1000,
        headersMs: config.CRM_LEDGER_HEADERS_TIMEOUT_SECONDS * 1000,
        keepAliveMs: config.CRM_LEDGER_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
      },
      rateLimit: {
        max: config.CRM_LEDGER_RATE_LIMIT_MAX,
        windowSeconds: config.CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS,
      },
      readiness: async () => {
        const failed = status.problems().failed;
        if (failed.length > 0) return failed.join('; ');
        try {
          await store.headPosition();
          return undefined;
        } catch (err) {
          return `event store: ${(err as Error).message}`;
        }
      },
      degraded: async () => {
        const retrying = [...status.problems().retrying, ...subscriptionProblems(store)];
        // Held customers are read from the read model, which may be the very thing that is down (a
        // component retrying): then /ready still answers `degraded` and says the count is unknown,
        // never a 500.
        const held = await (running.started?.degraded() ?? Promise.resolve(undefined)).catch(
          (err: unknown) => ({
            reason: `held customers unknown: ${(err as Error).message}`,
            count: 0,
          }),
        );
        if (retrying.length === 0) return held;
        return {
          reason: [...retrying, ...(held === undefined ? [] : [held.reason])].join('; '),
          count: held?.count ?? 0,
        };
      },
      lag: () => running.started?.lag() ?? Promise.resolve(undefined),
      ...(options.extraSchemas === undefined ? {} : { extraSchemas: options.extraSchemas }),
    });
    app.get(
      '/status',
      {
        schema: {
          tags: ['operations'],
          // unauthenticated, like /health and /ready: no key needed
          security: [],
          summary: 'The health of every long-running part (running, retrying, failed)',
        },
      },
      () => ({ components: status.all() }),
    );
    const abort = new AbortController();
    const openReadModel = options.openReadModel;
    const context: LedgerContext = {
      config,
      logger,
      store,
      ...(vault === undefined ? {} : { vault }),
      app,
      metrics,
      keys,
      accessLog: auth.accessLog,
      dataDir,
      clock,
      status,
      signal: abort.signal,
      ...(openReadModel === undefined ? {} : { openReadModel: (o) => openReadModel(dataDir, o) }),
      ...(options.sweepScratchReadModels === undefined
        ? {}
        : { sweepScratchReadModels: options.sweepScratchReadModels }),
    };
    const started = await startComponents(options.components, context);
    running.started = started;
    try {
      if (options.beforeListen !== undefined) await options.beforeListen(store);
      await app.listen({ host: config.CRM_LEDGER_HOST, port: config.CRM_LEDGER_PORT });
    } catch (err) {
      await app.close();
      abort.abort();
      await started.stopAll();
      throw err;
    }
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      url: `http://${host}:${address.port}`,
      dataDir,
      storeDescription: describe,
      adminKeyFile,
      descriptions: started.descriptions,
      app,
      store,
      lag: () => started.lag(),
      stop: async () => {
        await app.close();
        abort.abort();
        await started.stopAll();
        await store.close();
        await closeAuth();
      },
    };
  } catch (err) {
    await store.close();
    await closeAuth();
    throw err;
  }
}

/** One line per subscription of the store that is retrying: `event store subscription 2: retrying since T ...`. */
function subscriptionProblems(store: EventStore): string[] {
  return (store.subscriptionStatus?.() ?? [])
    .filter((s) => s.state === 'retrying')
    .map(
      (s) =>
        `event store subscription ${s.id}: retrying since ${s.since} (${s.attempts} attempts), last error: ${s.lastError ?? 'unknown'}`,
    );
}

/**
 * The store's own subscriptions, read when Prometheus scrapes (stores that keep subscriptions alive themselves,
 * EventStoreDB): how many are in each state, consecutive failures, records skipped as not ours.
 */
function registerSubscriptionMetrics(registry: Registry, store: EventStore): void {
  if (store.subscriptionStatus === undefined) return;
  const read = () => store.subscriptionStatus?.() ?? [];
  new Gauge({
    name: 'crm_ledger_store_subscriptions',
    help: "The event store's subscriptions by state (connecting, catching-up, live, retrying)",
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const state of ['connecting', 'catching-up', 'live', 'retrying'] as const)
        this.set({ state }, read().filter((s) => s.state === state).length);
    },
  });
  new Gauge({
    name: 'crm_ledger_store_subscription_failures',
    help: 'Consecutive failed attempts of the most troubled subscription (0 when all are well)',
    registers: [registry],
    collect() {
      this.set(Math.max(0, ...read().map((s) => s.attempts)));
    },
  });
  new Gauge({
    name: 'crm_ledger_store_foreign_records_skipped',
    help: 'Records in the ledger streams that are not crm-ledger events, skipped by the subscriptions',
    registers: [registry],
    collect() {
      this.set(read().reduce((n, s) => n + s.foreignSkipped, 0));
    },
  });
}
