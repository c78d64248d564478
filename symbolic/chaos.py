r"""Why hardmax attention propagates chaos at rate :math:`n^{-1/d}`: the extreme point of a sample.

Hardmax attention (:math:`\beta=\infty`, arXiv 2508.09628) moves a token in the corner cube
:math:`[\tfrac12,1]^d` towards the sample point of largest score, which lies within an :math:`\ell^1`
ball of radius :math:`2\,\min_j|\mathbf 1 - x_j|_1` around the vertex :math:`\mathbf 1`
(:func:`attnflow.numerics.hardmax.corner_hardmax_flow`), while the mean-field map moves it to the vertex
itself.  The interaction error is thus of the order of the distance of the sample's closest point to the
vertex.  For :math:`n` i.i.d. uniform points of :math:`[\tfrac12,1]^d` and
:math:`r_n = \min_j|\mathbf 1 - x_j|_\infty`,

.. math:: P(r_n > r) = (1-(2r)^d)^n,\qquad
          \mathbb E\,r_n = \frac12\int_0^1(1-v^d)^n\,dv = \frac{\Gamma(1+\frac1d)\,\Gamma(n+1)}{2\,\Gamma(n+1+\frac1d)}
          \sim \frac{\Gamma(1+\frac1d)}{2}\,n^{-1/d},

the general rate of arXiv 2605.16747 for contextual flow maps, slower than the :math:`n^{-1/2}` of the
transformer class for :math:`d\ge3`.

Public API
----------
results
    the results of the ``chaos`` document.
expected_corner_distance
    :math:`\mathbb E r_n` (SymPy, Gamma form).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_all, prove_zero
from attnflow.symbolic.result import Result, Step, latex

__all__ = ["results", "expected_corner_distance"]

TOPIC = "chaos"
SRC = ("arXiv 2605.16747 (propagation of chaos for contextual flow maps, rate n^{-1/d}); hardmax attention "
       "arXiv 2508.09628; the extreme-value computation is derived here")

n = sp.Symbol("n", positive=True, integer=True)
d = sp.Symbol("d", positive=True, integer=True)
v = sp.Symbol("v", positive=True)


def expected_corner_distance(n_=n, d_=d) -> sp.Expr:
    r""":math:`\mathbb E r_n = \Gamma(1+1/d)\Gamma(n+1)/(2\Gamma(n+1+1/d))` (uniform sample of :math:`[\tfrac12,1]^d`).

    References
    ----------
    arXiv 2605.16747 (rate :math:`n^{-1/d}`); ``derivations/chaos.md`` (chaos.hardmax.extreme).
    """
    inv = sp.Integer(1) / sp.sympify(d_)
    return sp.gamma(1 + inv) * sp.gamma(n_ + 1) / (2 * sp.gamma(n_ + 1 + inv))


def _prove_integral() -> Proof:
    cases = {}
    for D in (2, 3, 4):
        for N in (1, 2, 3):
            integral = sp.integrate((1 - v**D) ** N, (v, 0, 1)) / 2
            cases[f"d={D}, n={N}"] = sp.gammasimp(integral - expected_corner_distance(N, D))
    return prove_all(cases)


def _prove_limit() -> Proof:
    # general exponent a = 1/d > 0: a log n + log Gamma(n+1) - log Gamma(n+1+a) -> 0, by its expansion in h = 1/n
    a = sp.Symbol("a", positive=True)
    h = sp.Symbol("h", positive=True)
    m = sp.Symbol("m", positive=True)  # n as a real variable
    e = a * sp.log(m) + sp.loggamma(m + 1) - sp.loggamma(m + 1 + a)
    leading = sp.series(e.subs(m, 1 / h), h, 0, 1).removeO()
    p = prove_zero(leading)
    return Proof(p.status, "expansion in h = 1/n (SymPy series, Stirling) of the logarithm; constant term " + p.method,
                 p.detail)


def results() -> list[Result]:
    """The results of the ``chaos`` document."""
    return [
        Result(
            id="chaos.hardmax.extreme",
            title="distance of the closest of n uniform points of [1/2,1]^d to the corner: "
                  "E r_n = Gamma(1+1/d) Gamma(n+1) / (2 Gamma(n+1+1/d))",
            topic=TOPIC,
            statement=(r"\mathbb E\,r_n = \frac12\int_0^1(1-v^d)^n\,dv = " + latex(expected_corner_distance())),
            source=SRC,
            prover=_prove_integral,
            steps=(
                Step("r_n > r iff no point lies in the corner cube of side r, of probability (2r)^d",
                     r"P(r_n>r) = (1-(2r)^d)^n,\qquad \mathbb E r_n = \int_0^{1/2}(1-(2r)^d)^n\,dr"),
                Step("Substituting v = 2r and w = v^d gives a Beta integral", r"\frac12\int_0^1(1-v^d)^n dv = "
                     r"\frac1{2d}B\bigl(\tfrac1d, n+1\bigr)"),
            ),
            notes="Checked exactly (SymPy integration and gammasimp) for d = 2, 3, 4 and n = 1, 2, 3.",
        ),
        Result(
            id="chaos.hardmax.rate",
            title="n^{1/d} E r_n -> Gamma(1+1/d)/2 for every d: the interaction error of hardmax attention decays like n^{-1/d}",
            topic=TOPIC,
            statement=r"\lim_{n\to\infty} n^{1/d}\,\frac{\Gamma(n+1)}{\Gamma(n+1+1/d)} = 1,\qquad "
                      r"\mathbb E r_n\sim\frac{\Gamma(1+1/d)}{2}n^{-1/d}",
            source=SRC,
            prover=_prove_limit,
            steps=(
                Step("Gamma ratio asymptotics, for every exponent a = 1/d > 0: the expansion of the logarithm in "
                     "h = 1/n has no constant term",
                     r"a\log n + \log\Gamma(n+1) - \log\Gamma(n+1+a) = O(1/n)"),
                Step("The hardmax selection lies within 2 r_n (l^1, up to the factor d between norms) of the vertex; "
                     "the claim `chaos.hardmax_rate` fits the slope of the measured interaction error against -1/d "
                     "for d = 2, 3, 4"),
            ),
        ),
    ]
