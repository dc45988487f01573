import { describe, expect, it } from 'vitest';
import { StartupError, invalidConfiguration, isStartupError } from './startup-error.js';

describe('StartupError', () => {
  it('a configuration error lists every wrong setting under one heading, as every process printed it', () => {
    const e = invalidConfiguration([
      "CRM_LEDGER_PORT: must be a port, got 'abc'",
      'CRM_LEDGER_SILENT_DAYS: too big',
    ]);
    expect(e.message).toBe(
      "invalid configuration:\n  CRM_LEDGER_PORT: must be a port, got 'abc'\n  CRM_LEDGER_SILENT_DAYS: too big",
    );
    expect(e.reason).toBe('configuration');
    expect(e.lines).toHaveLength(3);
  });

  it('is recognised by its guard, with or without a reason', () => {
    const e = new StartupError('master_key', 'master.key is readable by others: chmod 600 it');
    expect(isStartupError(e)).toBe(true);
    expect(isStartupError(e, 'master_key')).toBe(true);
    expect(isStartupError(e, 'usage')).toBe(false);
    expect(isStartupError(new Error('master.key is readable by others'))).toBe(false);
    expect(e.name).toBe('StartupError');
  });
});
