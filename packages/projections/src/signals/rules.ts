import { z } from 'zod';

/**
 * The rules of the signal engine (issue #16): one entry per signal, each with `enabled` (a rule that is off
 * raises nothing) and its thresholds, and per-segment overrides. Validated configuration
 * (`CRM_LEDGER_SIGNAL_RULES`, JSON merged over {@link DEFAULT_SIGNAL_RULES}); the silence threshold is not here:
 * it is `CRM_LEDGER_SILENT_DAYS`, the one number every "silent" of the ledger uses.
 */
const on = z.boolean();

export const RuleSet = z.strictObject({
  healthBandChanged: z.strictObject({ enabled: on }),
  wentSilent: z.strictObject({ enabled: on }),
  renewalApproaching: z.strictObject({
    enabled: on,
    daysBefore: z.int().min(1).max(365).describe('Raised this many days before the renewal date'),
  }),
  slaBreached: z.strictObject({ enabled: on }),
  detractorAnswered: z.strictObject({
    enabled: on,
    npsAtMost: z.int().min(0).max(10).describe('NPS answers at or below this are detractors (0-10)'),
    csatAtMost: z.int().min(1).max(5).describe('CSAT answers at or below this are detractors (1-5)'),
    cesAtMost: z
      .int()
      .min(1)
      .max(7)
      .describe('CES answers at or below this are detractors (1-7, 7 very easy)'),
  }),
  criterionOverdue: z.strictObject({ enabled: on }),
  churnRiskRose: z.strictObject({ enabled: on }),
  expansionSuggested: z.strictObject({
    enabled: on,
    growthPct: z.number().min(1).max(100_000).describe('Sessions growth over the previous period, percent'),
    minSessions: z.int().min(0).max(1_000_000_000).describe('Sessions the latest period must reach at least'),
  }),
});
export type RuleSet = z.infer<typeof RuleSet>;
export type RuleName = keyof RuleSet;

export const DEFAULT_RULE_SET: RuleSet = {
  healthBandChanged: { enabled: true },
  wentSilent: { enabled: true },
  renewalApproaching: { enabled: true, daysBefore: 30 },
  slaBreached: { enabled: true },
  detractorAnswered: { enabled: true, npsAtMost: 6, csatAtMost: 2, cesAtMost: 3 },
  criterionOverdue: { enabled: true },
  churnRiskRose: { enabled: true },
  expansionSuggested: { enabled: true, growthPct: 50, minSessions: 100 },
};

/** A partial rule set: only the rules and fields it names change. */
const S = RuleSet.shape;
const PartialRuleSet = z.strictObject({
  healthBandChanged: S.healthBandChanged.partial().optional(),
  wentSilent: S.wentSilent.partial().optional(),
  renewalApproaching: S.renewalApproaching.partial().optional(),
  slaBreached: S.slaBreached.partial().optional(),
  detractorAnswered: S.detractorAnswered.partial().optional(),
  criterionOverdue: S.criterionOverdue.partial().optional(),
  churnRiskRose: S.churnRiskRose.partial().optional(),
  expansionSuggested: S.expansionSuggested.partial().optional(),
});
type PartialRuleSet = z.infer<typeof PartialRuleSet>;

/** The configuration as written: overrides of the defaults, and per-segment overrides of those. */
export const SignalRulesInput = z.strictObject({
  ...PartialRuleSet.shape,
  segments: z
    .strictObject({ B2B: PartialRuleSet.optional(), B2C: PartialRuleSet.optional() })
    .optional()
    .describe('Overrides for the customers of one segment (B2B, B2C)'),
});
export type SignalRulesInput = z.infer<typeof SignalRulesInput>;

/** The resolved rules: the set for customers without a segment, and one set per segment. */
export interface SignalRules {
  readonly base: RuleSet;
  readonly B2B: RuleSet;
  readonly B2C: RuleSet;
}

function merged(base: RuleSet, over: PartialRuleSet | undefined): RuleSet {
  if (over === undefined) return base;
  const out = { ...base } as Record<RuleName, unknown>;
  for (const name of Object.keys(base) as RuleName[]) {
    const o = over[name];
    if (o !== undefined) out[name] = { ...base[name], ...o };
  }
  return out as RuleSet;
}

/** Resolves written rules over the defaults (and segments over the result). */
export function resolveSignalRules(input: SignalRulesInput = {}): SignalRules {
  const { segments, ...own } = input;
  const base = merged(DEFAULT_RULE_SET, own);
  return { base, B2B: merged(base, segments?.B2B), B2C: merged(base, segments?.B2C) };
}

export const DEFAULT_SIGNAL_RULES: SignalRules = resolveSignalRules();

/** The rule set of a segment (`null`: not known yet). */
export const rulesFor = (rules: SignalRules, segment: string | null): RuleSet =>
  segment === 'B2B' ? rules.B2B : segment === 'B2C' ? rules.B2C : rules.base;
