import type { BgNbdParams } from './bg-nbd.js';
import type { RfmSummary } from './summary.js';

/**
 * A small seeded pseudo-random generator (mulberry32): deterministic, so simulations are reproducible and
 * the domain stays free of Math.random. Returns uniforms in (0, 1).
 */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

function standardNormal(u: () => number): number {
  // Box-Muller; one of the pair is enough here.
  return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000), with the shape < 1 boost U^(1/shape). */
export function sampleGamma(shape: number, u: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, u) * Math.pow(u(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x * x * x * x || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Draws customers from the BG/NBD process itself: λ ~ Gamma(r, α), p ~ Beta(a, b); from the first purchase at
 * time 0, purchases arrive at rate λ until the age T; after each repeat purchase the customer drops out with
 * probability p. Returns each customer's (x, tₓ, T). `ageOf(i)` gives customer i's T (their time since the
 * first purchase). For tests of the fit (parameter recovery) and benchmarks.
 */
export function simulateBgNbd(
  params: BgNbdParams,
  customers: number,
  ageOf: (i: number, uniform: () => number) => number,
  seed: number,
): RfmSummary[] {
  const u = seededUniform(seed);
  const out: RfmSummary[] = new Array<RfmSummary>(customers);
  for (let i = 0; i < customers; i++) {
    const T = ageOf(i, u);
    const lambda = sampleGamma(params.r, u) / params.alpha;
    const ga = sampleGamma(params.a, u);
    const p = ga / (ga + sampleGamma(params.b, u));
    let t = 0;
    let x = 0;
    let tx = 0;
    for (;;) {
      t += -Math.log(u()) / lambda;
      if (t > T) break;
      x++;
      tx = t;
      if (u() < p) break;
    }
    out[i] = { frequency: x, recency: tx, T };
  }
  return out;
}
