import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { LedgerEnv } from '@crm-ledger/config';
import { systemClock, type Clock, type EventStore, type ReadModelStore } from '@crm-ledger/core';
import {
  createHttpServer,
  ensureAdminKey,
  fileApiKeyStore,
  keyFiles,
  type HttpApp,
} from '@crm-ledger/http-kit';
import type { PiiVault } from '@crm-ledger/pii';
import { startComponents, type LedgerComponent, type LedgerContext } from './component.js';

export interface LedgerProcessOptions {
  readonly config: LedgerEnv;
  readonly logger: FastifyBaseLogger;
  readonly components: readonly LedgerComponent[];
  /**
   * Opens the configured event store in the (absolute) data directory; `describe` says where data lives. With a
   * `vault` the store encrypts personal fields (crypto-shredding) and readers can decrypt them.
   */
  readonly openStore: (
    dataDir: string,
  ) => Promise<{ store: EventStore; describe: string; vault?: PiiVault | undefined }>;
  /** Opens the configured read-model store in the (absolute) data directory, for the projector and query API. */
  readonly openReadModel?: (dataDir: string) => Promise<ReadModelStore>;
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
  mkdirSync(dataDir, { recursive: true });
  const { store, describe, vault } = await options.openStore(dataDir);
  try {
    const keys = fileApiKeyStore(keyFiles(dataDir).store);
    const adminKeyFile = await ensureAdminKey(keys, keyFiles(dataDir).adminKey, clock.now());
    const app = await createHttpServer({
      logger,
      title: options.title ?? 'crm-ledger',
      version: options.version ?? '0.1.0',
      description: 'An event-sourced customer-relationship ledger',
      bodyLimit: config.CRM_LEDGER_BODY_LIMIT,
      rateLimit: {
        max: config.CRM_LEDGER_RATE_LIMIT_MAX,
        windowSeconds: config.CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS,
      },
      readiness: async () => {
        try {
          await store.headPosition();
          return undefined;
        } catch (err) {
          return `event store: ${(err as Error).message}`;
        }
      },
      ...(options.extraSchemas === undefined ? {} : { extraSchemas: options.extraSchemas }),
    });
    const abort = new AbortController();
    const openReadModel = options.openReadModel;
    const context: LedgerContext = {
      config,
      logger,
      store,
      ...(vault === undefined ? {} : { vault }),
      app,
      keys,
      dataDir,
      clock,
      signal: abort.signal,
      ...(openReadModel === undefined ? {} : { openReadModel: () => openReadModel(dataDir) }),
    };
    const started = await startComponents(options.components, context);
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
      stop: async () => {
        await app.close();
        abort.abort();
        await started.stopAll();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
