#!/usr/bin/env node
// Writes (or with --check, verifies) docs/schemas from the zod catalogue. CI runs the --check form.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonSchemas } from '../json-schema.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const dir = args.find((a) => !a.startsWith('--'));
if (dir === undefined || args.includes('--help')) {
  console.error(
    'usage: write-json-schemas <dir> [--check]\n  Writes the JSON Schema of every event; --check fails if the files are not current.',
  );
  process.exit(dir === undefined ? 2 : 0);
}

const files = jsonSchemas().map((f) => ({
  name: f.fileName,
  text: JSON.stringify(f.schema, null, 2) + '\n',
}));
if (check) {
  const stale: string[] = [];
  for (const f of files) {
    let current: string | undefined;
    try {
      current = readFileSync(path.join(dir, f.name), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== f.text) stale.push(f.name);
  }
  let existing: string[] = [];
  try {
    existing = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    existing = [];
  }
  const extra = existing.filter((n) => !files.some((f) => f.name === n));
  if (stale.length > 0 || extra.length > 0) {
    console.error(`JSON Schemas in ${dir} are not current (run 'pnpm schemas'):`);
    for (const n of stale) console.error(`  out of date or missing: ${n}`);
    for (const n of extra) console.error(`  no longer generated: ${n}`);
    process.exit(1);
  }
  console.log(`JSON Schemas in ${dir} are current (${files.length} files).`);
} else {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, f.name), f.text);
  console.log(`wrote ${files.length} JSON Schema files to ${dir}`);
}
