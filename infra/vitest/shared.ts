import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig, type UserConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Shared vitest settings for every package and service.
 * Workspace packages resolve to their TypeScript sources (`packages/<name>/src/index.ts`), so tests
 * never run against stale `dist/` output; each run writes a JSON report that `.ci/run` sums up.
 */
export function sharedConfig(packageDir: string, extra: UserConfig['test'] = {}): UserConfig {
  const name = path.relative(root, packageDir).replaceAll(path.sep, '-');
  return defineConfig({
    resolve: {
      alias: [
        { find: /^@crm-ledger\/([a-z0-9-]+)$/, replacement: path.join(root, 'packages/$1/src/index.ts') },
      ],
    },
    test: {
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      reporters: ['default', ['json', { outputFile: path.join(root, '.vitest', `${name}.json`) }]],
      // 60 s: CI is a 2-core machine, and an e2e spec that starts several processes takes 10-25 s there under load
      testTimeout: 60_000,
      passWithNoTests: true,
      hookTimeout: 120_000,
      ...extra,
    },
  });
}
