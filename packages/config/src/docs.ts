import { readFileSync, writeFileSync } from 'node:fs';
import { settingOf, SETTING_GROUPS, SETTING_NAMES, shownDefault, type Program } from './settings.js';

export const DOCS_BEGIN =
  '<!-- config:begin (generated from SETTINGS of @crm-ledger/config by `pnpm config:docs`) -->';
export const DOCS_END = '<!-- config:end -->';

const SHORT: Readonly<Record<Program, string>> = {
  cli: 'cli',
  ingest: 'ingest',
  projector: 'projector',
  query: 'query',
  relay: 'relay',
  inbound: 'inbound',
  example: 'example',
};

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The tables of docs/configuration.md: one section per group, one row per setting. */
export function configurationTables(): string {
  return SETTING_GROUPS.map((group) => {
    const rows = SETTING_NAMES.filter((n) => settingOf(n).group === group).map((n) => {
      const s = settingOf(n);
      const def = shownDefault(n);
      const shown = s.default === '' ? '(none)' : def === undefined ? '—' : `\`${def}\``;
      const used = s.usedBy.length === 0 ? '—' : s.usedBy.map((p) => SHORT[p]).join(', ');
      const flag = s.flag === undefined ? '' : ` (flag \`${s.flag.split(' ')[0]!}\`)`;
      return `| \`${n}\`${flag} | ${cell(shown)} | ${used} | ${cell(s.doc ?? s.description)} |`;
    });
    return [
      `### ${group}`,
      '',
      '| variable | default | used by | meaning |',
      '|---|---|---|---|',
      ...rows,
    ].join('\n');
  }).join('\n\n');
}

/** The document with the text between the markers replaced by the generated tables. */
export function withConfigurationTables(doc: string): string {
  const begin = doc.indexOf(DOCS_BEGIN);
  const end = doc.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error(`the markers ${DOCS_BEGIN} ... ${DOCS_END} are missing`);
  return `${doc.slice(0, begin + DOCS_BEGIN.length)}\n\n${configurationTables()}\n\n${doc.slice(end)}`;
}

/**
 * Writes the tables into `file` or, with `check`, says whether the file already holds them. Returns the exit code
 * (0 up to date or written, 1 drifted) and a message.
 */
export function writeConfigurationDocs(file: string, check: boolean): { code: number; message: string } {
  const doc = readFileSync(file, 'utf8');
  const generated = withConfigurationTables(doc);
  if (generated === doc) return { code: 0, message: `${file} is up to date` };
  if (check)
    return {
      code: 1,
      message: `${file} does not match the configuration schema (SETTINGS of @crm-ledger/config): run pnpm config:docs`,
    };
  writeFileSync(file, generated);
  return { code: 0, message: `${file} written` };
}
