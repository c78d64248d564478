r"""Energy bounds (theory notes 02-energy.md §2.2), mean-field normalisation.

.. math::
    E_\beta(\sigma) \le E_\beta(\mu) \le \frac{e^\beta}{2\beta},\qquad
    E_\beta(\mu)=\frac1{2\beta}\iint e^{\beta\langle x,y\rangle}d\mu\,d\mu,\qquad
    E_\beta(\sigma)=\frac{1}{2\beta}\Gamma(\tfrac d2)\bigl(\tfrac2\beta\bigr)^{d/2-1}I_{d/2-1}(\beta).

The lower bound is stated for probability measures; it also holds for every *empirical* measure,
because :math:`e^{\beta\langle x,y\rangle}` is a positive-definite kernel on the sphere (all its
Gegenbauer coefficients :math:`a_\ell` are positive), so
:math:`\iint k\,d\mu\,d\mu=\sum_\ell a_\ell\|\hat\mu_\ell\|^2\ge a_0=\iint k\,d\sigma\,d\sigma`.
The check probes this with hard empirical measures whose low harmonics vanish (regular polygons,
simplices, cross-polytopes), where the gap is exponentially small.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln, ive

from attnflow.numerics._reference import energy_ref
from attnflow.properties.registry import Measurement, claim, require
from attnflow.properties.strategies import random_orthogonal, regular_simplex, seeds


def log_uniform_mean_bessel(beta: float, d: int) -> float:
    r""":math:`\log \mathbb E_{x,y\sim\sigma}e^{\beta\langle x,y\rangle} = \log\bigl[\Gamma(\tfrac d2)(\tfrac2\beta)^{d/2-1}I_{d/2-1}(\beta)\bigr]`
    (exponentially scaled Bessel function, no overflow).

    References
    ----------
    Theory notes 02-energy.md §2.2 (standard fact: the law of :math:`\langle x,y\rangle`).
    """
    nu = d / 2.0 - 1.0
    return float(gammaln(d / 2.0) + nu * math.log(2.0 / beta) + math.log(ive(nu, beta)) + beta)


def log_uniform_mean_quad(beta: float, d: int) -> float:
    r"""The same quantity by quadrature over :math:`u=\langle x,y\rangle` with density
    :math:`\propto(1-u^2)^{(d-3)/2}` (QUADPACK algebraic-weight rule, endpoint singularities exact):

    .. math:: \log\frac{\int_{-1}^1 e^{\beta u}(1-u^2)^{(d-3)/2}du}{\int_{-1}^1 (1-u^2)^{(d-3)/2}du}.

    References
    ----------
    Theory notes 02-energy.md §2.2 (law of :math:`\langle x,y\rangle` for iid uniform points).
    """
    a = (d - 3) / 2.0
    kw = dict(weight="alg", wvar=(a, a), epsabs=0.0, epsrel=1e-13, limit=200)
    num, _ = quad(lambda u: math.exp(beta * (u - 1.0)), -1.0, 1.0, **kw)
    den, _ = quad(lambda u: 1.0, -1.0, 1.0, **kw)
    return math.log(num / den) + beta


def _measure(kind: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "iid":
        x = rng.standard_normal((n, d))
    elif kind == "cap":  # clustered around one point
        x = rng.standard_normal(d) + 0.3 * rng.standard_normal((n, d))
    elif kind == "polygon":  # regular n-gon on a great circle
        ang = 2 * np.pi * np.arange(n) / n
        x = np.zeros((n, d))
        x[:, 0], x[:, 1] = np.cos(ang), np.sin(ang)
        x = x @ random_orthogonal(rng, d).T
    elif kind == "simplex":
        x = regular_simplex(min(max(n, 2), d + 1), d, rng=rng)
    elif kind == "cross":  # +-e_k, k < min(d, n): vanishing first moment and isotropic if k = d
        k = max(1, min(d, n // 2))
        e = np.eye(d)[:k]
        x = np.vstack([e, -e]) @ random_orthogonal(rng, d).T
    else:
        raise ValueError(f"kind: unknown measure kind {kind!r}")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@st.composite
def _examples(draw):
    return {
        "kind": draw(st.sampled_from(["iid", "cap", "polygon", "simplex", "cross"])),
        "n": draw(st.integers(1, 60)),
        "d": draw(st.integers(2, 7)),
        "beta": draw(st.floats(0.01, 40.0, allow_nan=False)),
        "seed": draw(seeds()),
    }


@claim(
    id="energy.bounds",
    title="E(uniform) <= E(mu) <= e^beta/(2 beta); uniform value by the Bessel closed form",
    source="arXiv:2312.10794 §3 and arXiv:2512.01868 (extremisers of E_beta); theory notes 02-energy.md §2.2",
    latex=r"\tfrac1{2\beta}\Gamma(\tfrac d2)(\tfrac2\beta)^{\frac d2-1}I_{\frac d2-1}(\beta)=E_\beta(\sigma)"
    r"\le E_\beta(\mu)\le\frac{e^\beta}{2\beta}",
    hypotheses=_examples(),
    expect="holds",
    tolerance="Bessel vs quadrature: |log ratio| <= 1e-10 (quad epsrel 1e-13); bounds with relative slack "
    "1e-12 (a sum of n^2 <= 3600 exponentials carries ~1e-13 relative round-off; regular polygons "
    "have E(mu) - E(sigma) below double precision, so equality to rounding is expected there)",
    measure="min (E(mu) - E(sigma))/E(sigma)",
    aggregate="min",
)
def bounds(ex):
    kind, d, beta = ex["kind"], ex["d"], ex["beta"]
    x = _measure(kind, ex["n"], d, np.random.default_rng(ex["seed"]))
    lb, lq = log_uniform_mean_bessel(beta, d), log_uniform_mean_quad(beta, d)
    require(abs(lb - lq) <= 1e-10, f"Bessel closed form {lb:.15g} vs quadrature {lq:.15g} (log scale)")
    e_unif = math.exp(lb) / (2.0 * beta)
    e_mu = energy_ref(x, "sa", beta) / x.shape[0] ** 2  # mean-field normalisation 1/(2 beta n^2)
    e_max = math.exp(beta) / (2.0 * beta)
    gap = (e_mu - e_unif) / e_unif
    require(e_mu >= e_unif * (1 - 1e-12), f"{kind}: E(mu) = {e_mu:.15g} < E(uniform) = {e_unif:.15g}")
    require(e_mu <= e_max * (1 + 1e-12), f"{kind}: E(mu) = {e_mu:.15g} > e^beta/(2 beta) = {e_max:.15g}")
    return Measurement(value=gap, extra={"|log bessel - log quad|": abs(lb - lq), "E(mu)/E_max": e_mu / e_max,
                                         f"gap[{kind}]": gap})
