import type { ApiKeyStore } from './api-keys.js';

/** One read of personal data: who (key id), whose (customer id), which fields, when. Never the values. */
export interface ContactAccess {
  readonly at: string;
  readonly keyId: string;
  readonly customerId: string;
  readonly fields: readonly string[];
}

/**
 * The contact access log port: append-only (no update, no delete), holding no personal data itself (key ids,
 * customer ids, field names and times). Every read of contact details through the API is recorded before it
 * is answered; a failure to record refuses the read.
 */
export interface ContactAccessLog {
  record(entry: ContactAccess): Promise<void>;
  /** Entries in the order they were recorded (optionally only one customer's). */
  list(options?: { readonly customerId?: string }): Promise<readonly ContactAccess[]>;
}

/**
 * Keys and the contact access log of a deployment, shared by every process (CRM_LEDGER_AUTH_STORE):
 * `openSqliteAuthStore` (one SQLite file per host, `<dataDir>/auth.sqlite`) or `openPostgresAuthStore` (a
 * PostgreSQL schema, shared by every host). Both pass one conformance spec (packages/postgres/src/
 * auth-store.conformance.int.spec.ts).
 */
export interface AuthStore {
  readonly keys: ApiKeyStore;
  readonly accessLog: ContactAccessLog;
  /** Where the keys live, for the start-up banner and `keys` output (never a password). */
  readonly description: string;
  close(): Promise<void>;
}

/** Keys and access log in memory: for tests. */
export function memoryContactAccessLog(): ContactAccessLog {
  const entries: ContactAccess[] = [];
  return {
    record: (e) => {
      entries.push({ ...e, fields: [...e.fields] });
      return Promise.resolve();
    },
    list: (options) =>
      Promise.resolve(
        entries.filter((e) => options?.customerId === undefined || e.customerId === options.customerId),
      ),
  };
}
