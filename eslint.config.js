// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    rules: {
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
    files: ['**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
