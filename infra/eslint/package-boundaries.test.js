// @ts-check
// Run by `pnpm lint` (node --test): the import rules fail on a violation, the repository keeps them, and the
// package table of docs/architecture.md says what the package.json files say.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { DRIVERS, packageBoundaries } from './package-boundaries.js';
import { tableDrift } from './architecture.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.afterAll = after;

const at = (/** @type {string} */ relative) => path.join(process.cwd(), relative);
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, sourceType: 'module' } });

tester.run('crm/package-boundaries', packageBoundaries, {
  valid: [
    {
      filename: at('packages/sqlite/src/event-store/group-commit.ts'),
      code: "import Database from 'better-sqlite3';",
    },
    { filename: at('packages/postgres/src/key-store.ts'), code: "import pg from 'pg';" },
    {
      filename: at('packages/eventstoredb/src/codec.ts'),
      code: "import { jsonEvent } from '@eventstore/db-client';",
    },
    { filename: at('packages/kafka/src/client.ts'), code: "export { Kafka } from 'kafkajs';" },
    // a spec may open the driver to look at the stored bytes
    { filename: at('services/cli/src/verify.e2e.spec.ts'), code: "import Database from 'better-sqlite3';" },
    { filename: at('bench/src/append.ts'), code: "import Database from 'better-sqlite3';" },
    // vendors implement ports
    { filename: at('packages/sqlite/src/key-store.ts'), code: "import { wrapKey } from '@crm-ledger/pii';" },
    {
      filename: at('packages/sqlite/src/auth-store.ts'),
      code: "import type { AuthStore } from '@crm-ledger/http-kit';",
    },
    // a parity spec in one vendor package may run the other vendor beside it
    {
      filename: at('packages/postgres/src/read-model/projections-parity.int.spec.ts'),
      code: "import { openSqliteReadModel } from '@crm-ledger/sqlite';",
    },
    // the composition root picks the vendor
    {
      filename: at('packages/app/src/stores.ts'),
      code: "import { openSqliteEventStore } from '@crm-ledger/sqlite';",
    },
    { filename: at('services/relay/src/main.ts'), code: "import { startRelay } from '@crm-ledger/kafka';" },
  ],
  invalid: [
    {
      filename: at('packages/pii/src/sqlite-key-store.ts'),
      code: "import Database from 'better-sqlite3';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/http-kit/src/sqlite-auth-store.ts'),
      code: "import Database from 'better-sqlite3';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/app/src/stores.ts'),
      code: "import pg from 'pg';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/app/src/ledger.ts'),
      code: "const { EventStoreDBClient } = await import('@eventstore/db-client');",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('services/relay/src/main.ts'),
      code: "import { Kafka } from 'kafkajs';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/projections/src/value.ts'),
      code: "import { openSqliteReadModel } from '@crm-ledger/sqlite';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/events/src/catalogue.ts'),
      code: "export * from '@crm-ledger/kafka';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/core/src/read-model-store.ts'),
      code: "import type { PostgresReadModelStore } from '@crm-ledger/postgres';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/pii/src/index.ts'),
      code: "export { openSqliteKeyStore } from '@crm-ledger/sqlite';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/postgres/src/read-model/postgres-read-model-store.ts'),
      code: "import { openSqliteReadModel } from '@crm-ledger/sqlite';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/kafka/src/relay.ts'),
      code: "import { openSqliteEventStore } from '@crm-ledger/sqlite';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/sqlite/src/event-store/sqlite-event-store.ts'),
      code: "import { Projector } from '@crm-ledger/projector';",
      errors: [{ messageId: 'boundary' }],
    },
    {
      filename: at('packages/query-api/src/routes.ts'),
      code: "import { main } from '@crm-ledger/query-service';",
      errors: [{ messageId: 'boundary' }],
    },
  ],
});

describe('the package.json files keep the rule', () => {
  it('a driver is a run-time dependency of its vendor package only', () => {
    const offenders = [];
    for (const kind of ['packages', 'services']) {
      for (const name of readdirSync(kind)) {
        const file = path.join(kind, name, 'package.json');
        if (!existsSync(file)) continue;
        const deps = Object.keys(JSON.parse(readFileSync(file, 'utf8')).dependencies ?? {});
        for (const d of deps)
          if (DRIVERS.has(d) && (kind !== 'packages' || DRIVERS.get(d) !== name))
            offenders.push(`${file}: ${d}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});

describe('docs/architecture.md', () => {
  it('its package table lists every package with the workspace packages and drivers its package.json names', () => {
    assert.deepEqual(tableDrift(), []);
  });

  it('a drifted table is found', () => {
    const doc = readFileSync('docs/architecture.md', 'utf8').replace(
      /^(\| `packages\/pii` \|.*\| )([^|]*)( \|)$/m,
      '$1`core`, `events`, `pg`$3',
    );
    assert.deepEqual(tableDrift(process.cwd(), doc), [
      'packages/pii: the doc says "core, events, pg", package.json says "core, events"',
    ]);
  });
});
