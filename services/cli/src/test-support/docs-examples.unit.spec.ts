import { describe, expect, it } from 'vitest';
import { docExamples } from './docs-examples.js';

describe('docExamples', () => {
  it('takes sh/bash blocks, joins continued lines, keeps assignments and reads the comment above', () => {
    const md = [
      '# Title',
      '```sh',
      'KEY=$(cat .data/admin.key); H="Authorization: Bearer $KEY"',
      '# liveness',
      'curl -s http://127.0.0.1:4100/ready; echo',
      '# errors have one shape:',
      '# 400 invalid, 401 no key',
      'curl -s -X POST http://127.0.0.1:4100/v1/events \\',
      "  -d '{}'; echo",
      'pnpm crm-ledger export --out x.ndjson   # a file',
      'pnpm crm-ledger keys list',
      '```',
      '```text',
      'not run',
      '```',
      '<!-- doc-test: skip: needs Docker -->',
      '',
      '```sh',
      'docker compose up',
      '```',
    ].join('\n');
    const ex = docExamples(md);
    expect(ex.map((e) => e.kind)).toEqual(['assignment', 'curl', 'curl', 'command', 'command']);
    expect(ex[1]).toMatchObject({ expectsError: false, line: 5 });
    expect(ex[2]).toMatchObject({ expectsError: true, line: 8 });
    expect(ex[2]!.text).toContain("-d '{}'");
    expect(ex[3]).toMatchObject({ quiet: true });
    expect(ex[4]).toMatchObject({ quiet: false });
  });

  it('does not take a command with a leading variable for an assignment', () => {
    const ex = docExamples(['```sh', 'CRM_LEDGER_PORT=0 pnpm crm-ledger start', '```'].join('\n'));
    expect(ex.map((e) => e.kind)).toEqual(['command']);
  });
});
