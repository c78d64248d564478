r"""Mean-field clustering claim (arXiv:2504.14697, quantitative clustering in mean field; restated in arXiv:2512.01868).

``meanfield.clustering_rate``
    USA from an :math:`L^2` density at small :math:`\beta`: :math:`\log(1-|m_{\mu_t}|)` decays at least
    linearly, with a proven rate :math:`\ge 1/100`.

The claim reports the fitted rate, a 95 % confidence interval from the replicates and the proven
bound; pass/fail is one-sided.  One complete experiment per Hypothesis example (``examples=0.2``);
the experiment is :func:`attnflow.properties.claims._experiments.clustering_experiment`.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from attnflow.properties.claims._experiments import MF_BETA, MF_N, MF_REPLICATES, clustering_experiment
from attnflow.properties.claims._stats import mean_ci
from attnflow.properties.registry import Measurement, claim, fit_exponential_rate, require
from attnflow.properties.strategies import seeds


MF_WINDOW = (1e-9, 1e-2)


@claim(
    id="meanfield.clustering_rate",
    title="USA from an L2 density at small beta: log(1 - |m_t|) decays at least linearly (proven rate >= 1/100)",
    source="arXiv:2504.14697 (quantitative clustering, mean field), restated in arXiv:2512.01868",
    latex=r"|\beta|<\beta_0:\ W_2(\mu_t,\delta_{x_\infty})\le C_0e^{-t/100}\ (t\ge T_0);\quad"
    r"\min_x W_2^2(\mu_t,\delta_x)=2(1-|m_{\mu_t}|)",
    hypotheses=st.fixed_dictionaries({"seed": seeds()}),
    expect="holds",
    tolerance="one-sided: the lower end of the 95% t-interval of the fitted rate of 1 - |m_t| (fitted where "
    f"{MF_WINDOW[0]:g} <= 1 - |m_t| <= {MF_WINDOW[1]:g}, {MF_REPLICATES} replicates of n = {MF_N}) must be >= "
    "1/100, the proven lower bound (2 x 1/100 for the squared distance 1 - |m| = W2^2/2 would be the "
    "literal translation; 1/100 is the weaker check); the linearised rate 2 e^beta is reported beside it",
    measure="CI lower end of the fitted rate",
    aggregate="min",
    examples=0.2,
)
def clustering_rate(ex):
    times, gaps = clustering_experiment(ex["seed"])
    rates, spans = [], []
    for g in gaps:
        sel = (g >= MF_WINDOW[0]) & (g <= MF_WINDOW[1])
        require(sel.sum() >= 5, f"1 - |m_t| entered the window [{MF_WINDOW[0]:g}, {MF_WINDOW[1]:g}] at only "
                f"{int(sel.sum())} saved times (final value {g[-1]:.3g}): no linear decay of log(1 - |m_t|)")
        rates.append(fit_exponential_rate(times[sel], g[sel]))
        spans.append(float(times[sel][-1] - times[sel][0]))
    rate, lo, hi = mean_ci(rates)
    require(lo >= 0.01, f"fitted rate {rate:.4g} (95% CI [{lo:.4g}, {hi:.4g}]) below the proven 1/100")
    return Measurement(value=lo, fitted=rate, theory=0.01,
                       extra={"CI low": lo, "CI high": hi, "linearised 2e^beta": 2 * math.exp(MF_BETA),
                              "fit window length": min(spans)})
