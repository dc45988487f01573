import { describe, expect, it } from 'vitest';
import { DEFAULT_SILENT_DAYS } from '@crm-ledger/projections';
import { StartupError } from '@crm-ledger/core';
import { queryEnv } from './settings.js';

describe('the query API settings: one silence threshold', () => {
  it('defaults to 60 days and takes CRM_LEDGER_SILENT_DAYS', () => {
    expect(DEFAULT_SILENT_DAYS).toBe(60);
    expect(queryEnv({}).CRM_LEDGER_SILENT_DAYS).toBe(60);
    expect(queryEnv({ CRM_LEDGER_SILENT_DAYS: '30' }).CRM_LEDGER_SILENT_DAYS).toBe(30);
  });
  it('names a wrong value', () => {
    for (const bad of ['0', 'thirty', '2.5', '99999']) {
      expect(() => queryEnv({ CRM_LEDGER_SILENT_DAYS: bad }), bad).toThrow(StartupError);
      expect(() => queryEnv({ CRM_LEDGER_SILENT_DAYS: bad }), bad).toThrow(/CRM_LEDGER_SILENT_DAYS/);
    }
  });
});

describe('the query API settings: the cut cache', () => {
  it('keeps 4 past cuts built by default, CRM_LEDGER_CUT_CACHE_SIZE from 1 to 64, and names a wrong value', () => {
    expect(queryEnv({}).CRM_LEDGER_CUT_CACHE_SIZE).toBe(4);
    expect(queryEnv({ CRM_LEDGER_CUT_CACHE_SIZE: '16' }).CRM_LEDGER_CUT_CACHE_SIZE).toBe(16);
    for (const bad of ['0', '65', 'four', '1.5'])
      expect(() => queryEnv({ CRM_LEDGER_CUT_CACHE_SIZE: bad }), bad).toThrow(/CRM_LEDGER_CUT_CACHE_SIZE/);
  });
});
