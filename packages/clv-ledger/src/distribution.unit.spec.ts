import { describe, expect, it } from 'vitest';
import { distributionBySegment } from './distribution.js';

describe('CLV distribution by segment', () => {
  it('counts, sums and takes nearest-rank quantiles per segment, in segment order', () => {
    const values = [
      ...Array.from({ length: 10 }, (_, i) => ({ segment: 'B2C', value: i + 1 })),
      { segment: 'B2B', value: 100 },
      { segment: 'B2B', value: Number.NaN },
    ];
    expect(distributionBySegment(values)).toEqual([
      { segment: 'B2B', customers: 1, total: 100, mean: 100, p10: 100, p50: 100, p90: 100, max: 100 },
      { segment: 'B2C', customers: 10, total: 55, mean: 5.5, p10: 1, p50: 5, p90: 9, max: 10 },
    ]);
  });
});
