/** Settings of {@link nelderMead}; the defaults suit a handful of log-parameters of order 1. */
export interface NelderMeadOptions {
  /** Size of the first simplex's edges around the start point (default 0.5: a factor e^0.5 in parameter space). */
  readonly initialStep?: number;
  /** Converged when every vertex is within this distance of the best, per coordinate (default 1e-9). */
  readonly xTolerance?: number;
  /** ...and every vertex's value is within this of the best (default 1e-11). */
  readonly fTolerance?: number;
  /** Budget of function evaluations over all restarts (default 20,000). */
  readonly maxEvaluations?: number;
  /** How many times to rebuild a fresh simplex at the best point after converging (default 3). */
  readonly restarts?: number;
}

export interface NelderMeadResult {
  readonly x: readonly number[];
  readonly fx: number;
  readonly evaluations: number;
  /** True when the last run met both tolerances and a restart did not improve on it by more than fTolerance. */
  readonly converged: boolean;
}

interface Vertex {
  x: number[];
  f: number;
}

/**
 * Minimises `f` by the Nelder-Mead downhill simplex (Nelder & Mead 1965; coefficients reflection 1,
 * expansion 2, contraction 1/2, shrink 1/2, as in Numerical Recipes and scipy), with restarts.
 *
 * Derivative-free and robust to the flat, curved valleys of likelihoods in log-parameters; its known weakness,
 * collapsing onto a non-stationary point, is answered by restarting from the best vertex with a fresh simplex
 * until a restart no longer improves the value (Kelley 1999). Non-finite values count as +Infinity, so the
 * simplex walks away from regions where the objective overflows. Pure and deterministic.
 */
export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const step = options.initialStep ?? 0.5;
  const xTol = options.xTolerance ?? 1e-9;
  const fTol = options.fTolerance ?? 1e-11;
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  const restarts = options.restarts ?? 3;
  let evaluations = 0;
  const evaluate = (x: number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };

  let best: Vertex = { x: [...x0], f: evaluate([...x0]) };
  let converged = false;
  for (let run = 0; run <= restarts && evaluations < maxEvaluations; run++) {
    const result = simplexRun(best, step, xTol, fTol, maxEvaluations, evaluate, () => evaluations);
    const improvement = best.f - result.best.f;
    best = result.best.f <= best.f ? result.best : best;
    converged = result.converged;
    if (!converged) break;
    // A restart that gains nothing confirms the minimum.
    if (run > 0 && improvement <= fTol) break;
  }
  return { x: best.x, fx: best.f, evaluations, converged };
}

function simplexRun(
  start: Vertex,
  step: number,
  xTol: number,
  fTol: number,
  maxEvaluations: number,
  evaluate: (x: number[]) => number,
  used: () => number,
): { best: Vertex; converged: boolean } {
  const n = start.x.length;
  const simplex: Vertex[] = [{ x: [...start.x], f: start.f }];
  for (let i = 0; i < n; i++) {
    const x = [...start.x];
    x[i] = (x[i] ?? 0) + step;
    simplex.push({ x, f: evaluate(x) });
  }
  const at = (i: number): Vertex => simplex[i]!;
  const affine = (from: number[], to: number[], t: number): number[] =>
    from.map((v, j) => v + t * (to[j]! - v));

  while (used() < maxEvaluations) {
    simplex.sort((p, q) => p.f - q.f);
    const bestV = at(0);
    const worst = at(n);
    let xSpread = 0;
    let fSpread = 0;
    for (let i = 1; i <= n; i++) {
      const v = at(i);
      fSpread = Math.max(fSpread, Math.abs(v.f - bestV.f));
      for (let j = 0; j < n; j++) xSpread = Math.max(xSpread, Math.abs(v.x[j]! - bestV.x[j]!));
    }
    if (xSpread <= xTol && fSpread <= fTol) return { best: bestV, converged: true };

    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += at(i).x[j]! / n;

    const xr = affine(centroid, worst.x, -1);
    const fr = evaluate(xr);
    if (fr < bestV.f) {
      const xe = affine(centroid, worst.x, -2);
      const fe = evaluate(xe);
      simplex[n] = fe < fr ? { x: xe, f: fe } : { x: xr, f: fr };
      continue;
    }
    if (fr < at(n - 1).f) {
      simplex[n] = { x: xr, f: fr };
      continue;
    }
    // Contract: outside if the reflected point beats the worst, inside otherwise.
    const outside = fr < worst.f;
    const xc = outside ? affine(centroid, xr, 0.5) : affine(centroid, worst.x, 0.5);
    const fc = evaluate(xc);
    if (fc < (outside ? fr : worst.f)) {
      simplex[n] = { x: xc, f: fc };
      continue;
    }
    for (let i = 1; i <= n; i++) {
      const x = affine(bestV.x, at(i).x, 0.5);
      simplex[i] = { x, f: evaluate(x) };
    }
  }
  simplex.sort((p, q) => p.f - q.f);
  return { best: at(0), converged: false };
}
