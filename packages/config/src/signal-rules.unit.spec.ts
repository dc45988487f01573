import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_SET, type SignalRules } from '@crm-ledger/projections';
import { settingOf } from './settings.js';

const parse = (text: string) => {
  const r = settingOf('CRM_LEDGER_SIGNAL_RULES').type.safeParse(text);
  return { success: r.success, data: r.data as SignalRules, error: r.error };
};

describe('CRM_LEDGER_SIGNAL_RULES: the signal rules as validated configuration', () => {
  it('defaults to the built-in rules for every segment', () => {
    const r = parse('{}');
    expect(r.success).toBe(true);
    expect(r.data).toEqual({ base: DEFAULT_RULE_SET, B2B: DEFAULT_RULE_SET, B2C: DEFAULT_RULE_SET });
  });

  it('merges a rule field over the defaults and a segment over that, leaving the rest as it was', () => {
    const r = parse(
      '{"renewalApproaching":{"daysBefore":45},"segments":{"B2C":{"wentSilent":{"enabled":false}}}}',
    );
    expect(r.success).toBe(true);
    expect(r.data.base.renewalApproaching).toEqual({ enabled: true, daysBefore: 45 });
    expect(r.data.B2B.wentSilent.enabled).toBe(true);
    expect(r.data.B2C.wentSilent.enabled).toBe(false);
    expect(r.data.B2C.renewalApproaching.daysBefore).toBe(45);
    expect(r.data.base.detractorAnswered).toEqual(DEFAULT_RULE_SET.detractorAnswered);
  });

  it('refuses an unknown rule, a wrong threshold and text that is not JSON, naming what is wrong', () => {
    const unknown = parse('{"wentQuiet":{"enabled":true}}');
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]?.message).toContain('wentQuiet');
    const bad = parse('{"renewalApproaching":{"daysBefore":0}}');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('renewalApproaching.daysBefore');
    expect(parse('{renewal').error?.issues[0]?.message).toContain('must be JSON');
  });
});
