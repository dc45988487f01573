#!/usr/bin/env node
// Writes (or with --check, verifies) docs/schemas from the zod catalogue. CI runs the --check form, which also
// compares every schema with the last released one (docs/schemas/released) and fails on an incompatible change.
// --release copies the current schemas to <dir>/released (a deliberate step of a release, reviewed in its diff).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonSchemas } from '../json-schema.js';
import { incompatibleChanges } from '../schema-compat.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const release = args.includes('--release');
const dir = args.find((a) => !a.startsWith('--'));
if (dir === undefined || args.includes('--help')) {
  console.error(
    'usage: write-json-schemas <dir> [--check | --release]\n  Writes the JSON Schema of every event; --check fails if the files are not current or a released schema\n  (<dir>/released) changed incompatibly; --release records the current schemas as released.',
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
  const releasedDir = path.join(dir, 'released');
  if (existsSync(releasedDir)) {
    const released = new Map<string, unknown>(
      readdirSync(releasedDir)
        .filter((n) => n.endsWith('.schema.json'))
        .map((n) => [n, JSON.parse(readFileSync(path.join(releasedDir, n), 'utf8')) as unknown]),
    );
    const problems = incompatibleChanges(released, new Map(jsonSchemas().map((f) => [f.fileName, f.schema])));
    if (problems.length > 0) {
      console.error(`JSON Schemas changed incompatibly since the release in ${releasedDir}:`);
      for (const p of problems) console.error(`  ${p}`);
      process.exit(1);
    }
    console.log(`Compatible with the ${released.size} released schemas in ${releasedDir}.`);
  }
} else if (release) {
  const releasedDir = path.join(dir, 'released');
  mkdirSync(releasedDir, { recursive: true });
  for (const f of files) writeFileSync(path.join(releasedDir, f.name), f.text);
  console.log(`recorded ${files.length} JSON Schema files as released in ${releasedDir}`);
} else {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, f.name), f.text);
  console.log(`wrote ${files.length} JSON Schema files to ${dir}`);
}
