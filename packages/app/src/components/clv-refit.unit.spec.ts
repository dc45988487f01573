import { describe, expect, it } from 'vitest';
import { clvRefitEnv } from './clv-refit.js';

describe('CLV refit settings', () => {
  it('defaults to every 24 hours in USD; 0 is off; decimals allowed', () => {
    expect(clvRefitEnv({})).toEqual({ CRM_LEDGER_CLV_REFIT_HOURS: 24, CRM_LEDGER_CLV_CURRENCY: 'USD' });
    expect(clvRefitEnv({ CRM_LEDGER_CLV_REFIT_HOURS: '0' }).CRM_LEDGER_CLV_REFIT_HOURS).toBe(0);
    expect(clvRefitEnv({ CRM_LEDGER_CLV_REFIT_HOURS: '1.5', CRM_LEDGER_CLV_CURRENCY: 'eur' })).toEqual({
      CRM_LEDGER_CLV_REFIT_HOURS: 1.5,
      CRM_LEDGER_CLV_CURRENCY: 'EUR',
    });
  });
  it('names the wrong variable and what it got', () => {
    expect(() => clvRefitEnv({ CRM_LEDGER_CLV_REFIT_HOURS: 'daily' })).toThrow(
      "CRM_LEDGER_CLV_REFIT_HOURS: must be a number of hours from 0 (off) to 8760, got 'daily'",
    );
    expect(() => clvRefitEnv({ CRM_LEDGER_CLV_REFIT_HOURS: '-3' })).toThrow(/CRM_LEDGER_CLV_REFIT_HOURS/);
    expect(() => clvRefitEnv({ CRM_LEDGER_CLV_CURRENCY: 'XYZ' })).toThrow(/CRM_LEDGER_CLV_CURRENCY/);
  });
});
