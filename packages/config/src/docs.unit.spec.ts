import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCS_BEGIN, DOCS_END, configurationTables, writeConfigurationDocs } from './docs.js';
import { SETTING_NAMES } from './settings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = path.join(root, 'docs/configuration.md');

const copyOf = (text: string) => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'config-docs-')), 'configuration.md');
  writeFileSync(file, text);
  return file;
};

describe('docs/configuration.md, generated from SETTINGS', () => {
  it('is up to date in the repository (pnpm schemas:check runs the same check in CI)', () => {
    expect(writeConfigurationDocs(doc, true)).toEqual({ code: 0, message: `${doc} is up to date` });
  });

  it('lists every setting, once', () => {
    const tables = configurationTables();
    for (const name of SETTING_NAMES) expect(tables.split(`| \`${name}\``).length - 1, name).toBe(1);
  });

  it('fails the check when the doc drifts from the schema, and pnpm config:docs repairs it', () => {
    const text = readFileSync(doc, 'utf8');
    const drifted = text.replace(
      '| `CRM_LEDGER_PORT` (flag `--port`) | `4100` |',
      '| `CRM_LEDGER_PORT` (flag `--port`) | `8080` |',
    );
    expect(drifted).not.toBe(text);
    const file = copyOf(drifted);
    const check = writeConfigurationDocs(file, true);
    expect(check.code).toBe(1);
    expect(check.message).toContain('run pnpm config:docs');
    expect(readFileSync(file, 'utf8')).toBe(drifted); // the check writes nothing
    expect(writeConfigurationDocs(file, false).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(writeConfigurationDocs(file, true).code).toBe(0);
  });

  it('fails the check when a row is missing or added by hand', () => {
    const text = readFileSync(doc, 'utf8');
    const added = text.replace(DOCS_END, `| \`CRM_LEDGER_NOT_DECLARED\` | — | cli | by hand |\n${DOCS_END}`);
    expect(writeConfigurationDocs(copyOf(added), true).code).toBe(1);
    const rowOfDigest = text.split('\n').find((l) => l.startsWith('| `CRM_LEDGER_DIGEST_EVERY`'))!;
    expect(writeConfigurationDocs(copyOf(text.replace(`${rowOfDigest}\n`, '')), true).code).toBe(1);
  });

  it('keeps the text outside the markers, and refuses a doc without them', () => {
    const file = copyOf(`# Title\n\nintro\n\n${DOCS_BEGIN}\nold\n${DOCS_END}\n\nafter\n`);
    writeConfigurationDocs(file, false);
    const written = readFileSync(file, 'utf8');
    expect(written.startsWith('# Title\n\nintro\n\n')).toBe(true);
    expect(written.endsWith(`${DOCS_END}\n\nafter\n`)).toBe(true);
    expect(written).not.toContain('\nold\n');
    expect(() => writeConfigurationDocs(copyOf('# no markers\n'), true)).toThrow(/markers/);
  });
});
