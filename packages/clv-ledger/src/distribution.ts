/** One scored customer with the segment it is reported under (B2B/B2C, cohort month, channel...). */
export interface SegmentedValue {
  readonly segment: string;
  readonly value: number;
}

/** The spread of a value (CLV, P(alive), expected purchases) within one segment. */
export interface SegmentDistribution {
  readonly segment: string;
  readonly customers: number;
  readonly total: number;
  readonly mean: number;
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Distribution by segment (what an analyst asks of CLV: "how much is the B2C 2024-03 cohort worth, and how
 * unequal is it?"), segments in name order. Non-finite values are left out.
 */
export function distributionBySegment(values: Iterable<SegmentedValue>): SegmentDistribution[] {
  const groups = new Map<string, number[]>();
  for (const { segment, value } of values) {
    if (!Number.isFinite(value)) continue;
    const g = groups.get(segment);
    if (g === undefined) groups.set(segment, [value]);
    else g.push(value);
  }
  return [...groups.keys()].sort().map((segment) => {
    const sorted = groups.get(segment)!.sort((a, b) => a - b);
    const total = sorted.reduce((s, v) => s + v, 0);
    return {
      segment,
      customers: sorted.length,
      total,
      mean: total / sorted.length,
      p10: quantile(sorted, 0.1),
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      max: sorted[sorted.length - 1]!,
    };
  });
}
