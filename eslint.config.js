// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { noPlainDictionary } from './infra/eslint/no-plain-dictionary.js';
import { packageBoundaries } from './infra/eslint/package-boundaries.js';

/** Packages that hold the domain: pure code, no I/O, no clock, no logger. */
const DOMAIN_PACKAGES = ['packages/events', 'packages/projections', 'packages/clv'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'infra/vitest/**',
      '**/coverage/**',
      'docs/schemas/**',
      '**/*.config.*',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: {
      crm: { rules: { 'no-plain-dictionary': noPlainDictionary, 'package-boundaries': packageBoundaries } },
    },
    rules: {
      'crm/no-plain-dictionary': 'error',
      // which package may import which driver or package: docs/architecture.md, infra/eslint/package-boundaries.js
      'crm/package-boundaries': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@crm-ledger/*/src/*', '**/packages/*/src/*'],
              message: 'No deep imports into another package: use its public entry.',
            },
          ],
        },
      ],
    },
  },
  {
    files: DOMAIN_PACKAGES.map((p) => `${p}/src/**/*.ts`),
    ignores: ['**/*.spec.ts', '**/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The domain does no I/O: no node:* imports.' },
            {
              group: [
                'pino',
                'pino-*',
                'better-sqlite3',
                'pg',
                'kafkajs',
                '@eventstore/*',
                'fastify',
                'fastify-*',
              ],
              message: 'The domain imports nothing but zod, fp-ts and ts-pattern.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Time comes in with the command: no new Date() in the domain.',
        },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Time comes in with the command: no Date.now() in the domain.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'The domain is deterministic: no Math.random().',
        },
      ],
    },
  },
  {
    // Libraries receive typed settings: only the programs' entry points (services/*, packages/*/src/cli) read the
    // environment, through the schema of @crm-ledger/config (docs/configuration.md). Test seams: test-support files.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/test-support.ts', '**/test-support/**', '**/cli/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'A library receives typed settings: declare the variable in SETTINGS (@crm-ledger/config) and pass its value in from the entry point.',
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      'crm/no-plain-dictionary': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
