/** Which model a fit or a prediction concerns. */
export type ClvModel = 'bg-nbd' | 'gamma-gamma' | 'subscription';

/** A customer summary (or another input) holds a value the model cannot use. Nothing was computed. */
export interface InvalidInput {
  readonly type: 'InvalidInput';
  readonly model: ClvModel;
  /** Index of the offending row in the input, when one row is to blame. */
  readonly index?: number;
  readonly field: string;
  readonly value: unknown;
  readonly message: string;
}

/** Fewer customers than the model needs for a meaningful maximum-likelihood fit. */
export interface TooFewCustomers {
  readonly type: 'TooFewCustomers';
  readonly model: ClvModel;
  readonly count: number;
  readonly minimum: number;
}

/** Nobody bought twice: BG/NBD cannot separate the purchase rate from the dropout rate, Gamma-Gamma has no spend. */
export interface NoRepeatBuyers {
  readonly type: 'NoRepeatBuyers';
  readonly model: ClvModel;
  readonly customers: number;
}

/** The optimiser stopped without meeting its tolerances, or ran to a degenerate (non-finite or extreme) point. */
export interface NotConverged {
  readonly type: 'NotConverged';
  readonly model: ClvModel;
  readonly evaluations: number;
  readonly message: string;
}

/**
 * The likelihood is highest at the edge of the parameter space: a mixing distribution collapsed to one value (a
 * Beta or Gamma whose shape parameters run off to infinity), so its parameters are not identified separately and
 * the fit would predict as if every customer were alike. `reason` says which, in words an analyst can act on.
 */
export interface NotIdentified {
  readonly type: 'NotIdentified';
  readonly model: ClvModel;
  readonly evaluations: number;
  readonly reason: string;
}

/** The Gaussian hypergeometric series did not converge within its term limit (argument too close to 1). */
export interface SeriesNotConverged {
  readonly type: 'SeriesNotConverged';
  readonly terms: number;
  readonly z: number;
}

export type FitError = InvalidInput | TooFewCustomers | NoRepeatBuyers | NotConverged | NotIdentified;
export type PredictError = InvalidInput | SeriesNotConverged;
export type ClvError = FitError | PredictError;
