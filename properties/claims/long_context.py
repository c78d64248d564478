r"""Long-context claims: one attention layer on equiangular inputs (arXiv:2510.05554, arXiv:2512.01868;
``derivations/long_context.md``).

For unit inputs with :math:`\langle x_i,x_j\rangle=\rho`, outputs :math:`\sum_j A_{ij}x_j=r_i\theta_i`
(V = I) satisfy, with :math:`r=e^{\beta(1-\rho)}` and :math:`a=1+(n-1)\rho`,

.. math:: \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a}.

``long_context.finite_n``
    an explicit softmax layer against this closed form;
``long_context.limits``
    the three :math:`n\to\infty` limits of the overlap at :math:`\beta=\gamma\log n` (SymPy ``limit``
    against the stated piecewise limit), with a numeric trend up to :math:`n=10^6`.

Formulas: :mod:`attnflow.properties.claims._long_context`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from attnflow.properties.claims._long_context import (
    explicit_overlaps,
    finite_n_overlap,
    overlap_expression,
    stated_limit,
)
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import seeds


@st.composite
def _examples(draw):
    n = draw(st.integers(2, 120))
    rho = draw(st.floats(0.01, 0.99, allow_nan=False))
    # beta = gamma log n with gamma across the transition gamma* = 1/(1 - rho)
    gamma = draw(st.floats(0.0, 3.0, allow_nan=False)) / (1.0 - rho)
    beta = min(gamma * math.log(n), 200.0)
    d = n + draw(st.integers(0, 3))
    return {"n": n, "rho": rho, "gamma": gamma, "beta": beta, "d": d, "seed": draw(seeds())}


@claim(
    id="long_context.finite_n",
    title="finite-n output overlap of one softmax layer on equiangular inputs matches the closed form",
    source="arXiv:2512.01868, arXiv:2510.05554 (long context, beta = gamma log n); finite-n form "
    "derived in derivations/long_context.md",
    latex=r"\langle\theta_i,\theta_j\rangle=\frac{(r-1)^2\rho+(2(r-1)+n)a}{(r-1)^2+(2(r-1)+n)a},\ "
    r"r=e^{\beta(1-\rho)},\ a=1+(n-1)\rho",
    hypotheses=_examples(),
    expect="holds",
    tolerance="max over pairs |explicit - formula| <= 1e-12: Cholesky is backward stable (Gram error "
    "~ n eps <= 3e-14 for n <= 120) and the layer adds O(n eps) more; 1e-12 leaves a factor ~30",
    measure="max |explicit - formula|",
)
def finite_n(ex):
    n, rho, beta = ex["n"], ex["rho"], ex["beta"]
    gram = explicit_overlaps(n, rho, beta, ex["d"], ex["seed"])
    off = gram[~np.eye(n, dtype=bool)]
    want = finite_n_overlap(n, rho, beta)
    err = float(np.max(np.abs(off - want)))
    require(err <= 1e-12, f"explicit layer overlap differs from the formula {want:.15g} by {err:.3e}")
    return Measurement(value=err, extra={"overlap": want})


LC_NS = (1e2, 1e3, 1e4, 1e5, 1e6)


@st.composite
def _lc_examples(draw):
    q = draw(st.integers(2, 12))
    p = draw(st.integers(1, q - 1))
    b1 = draw(st.integers(2, 9))
    a1 = draw(st.integers(1, b1 - 1))
    b2 = draw(st.integers(1, 6))
    a2 = draw(st.integers(1, 2 * b2))
    return {"rho": (p, q), "kappa_below": (a1, b1), "kappa_above": (b2 + a2, b2)}


@claim(
    id="long_context.limits",
    title="one layer at beta = gamma log n: output overlap -> 1, 4 rho/(1 + 3 rho), rho across gamma = 1/(1 - rho)",
    source="arXiv:2510.05554, arXiv:2512.01868 (long context, beta = gamma log n); "
    "derivations/long_context.md",
    latex=r"\beta=\gamma\log n:\ \lim_{n\to\infty}\langle\theta_i,\theta_j\rangle=\begin{cases}1&\gamma<\frac1{1-\rho}\\"
    r"\frac{4\rho}{1+3\rho}&\gamma=\frac1{1-\rho}\\ \rho&\gamma>\frac1{1-\rho}\end{cases}",
    hypotheses=_lc_examples(),
    expect="holds",
    tolerance="exact: sympy.limit of the finite-n overlap (beta = gamma log n, rational rho and kappa = "
    "gamma (1 - rho) below, at and above 1) must equal the stated value symbolically; numeric trend (illustration, "
    "float formula at n = 1e2..1e6): |overlap(n) - limit| must be smaller at n = 1e6 than at n = 1e2 (the "
    "approach is a power n^-min(1, 2|1 - kappa|), so it is logarithmically slow near kappa = 1)",
    measure="max |overlap(1e6) - limit|",
    describe=lambda ex: repr(ex),
)
def limits(ex):
    import sympy as sp

    rho = sp.Rational(*ex["rho"])
    nsym = sp.Symbol("n", positive=True)
    regimes = {"below": sp.Rational(*ex["kappa_below"]), "at": sp.Integer(1), "above": sp.Rational(*ex["kappa_above"])}
    worst = 0.0
    extra = {}
    for name, kappa in regimes.items():
        gamma = kappa / (1 - rho)
        expr = overlap_expression(nsym, gamma * sp.log(nsym), rho)
        lim = sp.limit(expr, nsym, sp.oo)
        want = stated_limit(gamma, rho)
        require(sp.simplify(lim - want) == 0,
                f"kappa = gamma (1 - rho) = {kappa} ({name}), rho = {rho}: sympy limit {lim} != stated {want}")
        errs = [abs(finite_n_overlap(n, float(rho), float(gamma) * math.log(n)) - float(want)) for n in LC_NS]
        require(errs[-1] < errs[0] or errs[-1] < 1e-12,
                f"no convergence trend ({name}, rho = {rho}, kappa = {kappa}): |overlap - limit| = "
                f"{errs[0]:.3e} at n = 1e2 but {errs[-1]:.3e} at n = 1e6")
        extra[f"|overlap - limit| at n = 1e6 ({name})"] = errs[-1]
        worst = max(worst, errs[-1])
    return Measurement(value=worst, extra=extra)
