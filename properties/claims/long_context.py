r"""Long-context claims: one attention layer on equiangular inputs (theory notes 03-clustering.md §3.3).

For unit inputs with :math:`\langle x_i,x_j\rangle=\rho`, outputs :math:`\sum_j A_{ij}x_j=r_i\theta_i`
(V = I) satisfy, with :math:`r=e^{\beta(1-\rho)}` and :math:`a=1+(n-1)\rho`,

.. math:: \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a}.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics._reference import softmax_attention
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import random_orthogonal, seeds


def finite_n_overlap(n: int, rho: float, beta: float) -> float:
    r"""Finite-n output overlap :math:`\langle\theta_i,\theta_j\rangle` of 03 §3.3 (see module docstring).

    Valid while :math:`\beta(1-\rho) < 350` (so that :math:`r^2` is a finite float).

    References
    ----------
    arXiv:2512.01868, arXiv:2510.05554; theory notes 03-clustering.md §3.3.
    """
    a = 1.0 + (n - 1) * rho
    r = math.exp(beta * (1.0 - rho))
    num = (r - 1.0) ** 2 * rho + (2.0 * (r - 1.0) + n) * a
    den = (r - 1.0) ** 2 + (2.0 * (r - 1.0) + n) * a
    return num / den


def explicit_overlaps(n: int, rho: float, beta: float, d: int, seed: int) -> np.ndarray:
    """Gram matrix of the normalised outputs of one explicit softmax layer on equiangular inputs.

    References
    ----------
    arXiv:2512.01868, arXiv:2510.05554; theory notes 03-clustering.md §3.3.
    """
    g = (1.0 - rho) * np.eye(n) + rho * np.ones((n, n))
    x = np.linalg.cholesky(g)
    if d > n:
        x = np.hstack([x, np.zeros((n, d - n))])
    x = x @ random_orthogonal(np.random.default_rng(seed), d).T
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = softmax_attention(x, beta)[0]  # explicit softmax layer, V = I
    theta = y / np.linalg.norm(y, axis=1, keepdims=True)
    return theta @ theta.T


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
    source="arXiv:2512.01868, arXiv:2510.05554 (long context, beta = gamma log n); theory notes "
    "03-clustering.md §3.3 [derived finite-n form]",
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
