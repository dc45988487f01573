"""External reference of bench/src/clv-fit.ts: the BG/NBD maximum-likelihood fit (Fader, Hardie & Lee 2005) with
numpy + scipy alone, on the rows the bench fits (CSV of frequency,recency,T). Prints one JSON line: the fitted
parameters, the log-likelihood, and the seconds (wall and CPU) of the fit alone (reading the CSV excluded)."""
import json
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

rows = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
x, tx, T = rows[:, 0], rows[:, 1], rows[:, 2]
buyers = x > 0
xs = np.maximum(x, 1)


def negll(logp):
    r, alpha, a, b = np.exp(logp)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(buyers, np.log(a) - np.log(b + xs - 1) - (r + x) * np.log(alpha + tx), -np.inf)
    return -np.sum(a1 + a2 + np.logaddexp(a3, a4))


wall, cpu = time.perf_counter(), time.process_time()
res = minimize(negll, np.zeros(4), method="Nelder-Mead", options={"maxiter": 20000, "xatol": 1e-7, "fatol": 1e-7})
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
r, alpha, a, b = np.exp(res.x)
print(json.dumps({"r": r, "alpha": alpha, "a": a, "b": b, "logLikelihood": -res.fun, "evaluations": int(res.nfev),
                  "seconds": wall, "cpuSeconds": cpu, "scipy": __import__("scipy").__version__}))
