#!/usr/bin/env node
import { writeConfigurationDocs } from '../docs.js';

// node packages/config/dist/cli/write-config-docs.js docs/configuration.md [--check]
const [file, ...rest] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: write-config-docs <docs/configuration.md> [--check]');
  process.exit(2);
}
const { code, message } = writeConfigurationDocs(file, rest.includes('--check'));
(code === 0 ? console.log : console.error)(message);
process.exit(code);
