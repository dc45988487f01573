export * from './errors.js';
export * from './summary.js';
export { lnGamma, logAddExp, logHyp2f1, hyp2f1, type SignedLog, type Hyp2f1Options } from './special.js';
export { nelderMead, type NelderMeadOptions, type NelderMeadResult } from './nelder-mead.js';
export * from './bg-nbd.js';
export * from './gamma-gamma.js';
export * from './clv.js';
export * from './subscription.js';
