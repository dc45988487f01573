import type { AuthStoreChoice } from '@crm-ledger/config';
import type { AuthStore } from '@crm-ledger/http-kit';
import { openPostgresAuthStore } from '@crm-ledger/postgres';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';

/**
 * Opens the API keys and contact access log the deployment chose (CRM_LEDGER_AUTH_STORE): `auth.sqlite` in the
 * data directory (the processes of one host) or a PostgreSQL schema (every process of every host).
 */
export async function openAuthStore(choice: AuthStoreChoice): Promise<AuthStore> {
  if (choice.kind === 'sqlite') return openSqliteAuthStore(choice.file);
  return openPostgresAuthStore({ connectionString: choice.connectionString, schema: choice.schema });
}
