r"""Necessity of the hypotheses of the quantitative mean-field clustering theorem (arXiv 2504.14697).

The density hypothesis: :math:`\mu_0 = a\delta_e + (1-a)\delta_{-e}` (for the paper's example
:math:`a = 2/3`) is a stationary point of the SA and USA continuity equations at every :math:`\beta`,
with :math:`R_0 = |m_{\mu_0}|^2 = (2a-1)^2 > 0`, yet it is not a Dirac mass: its chordal distance to
the nearest Dirac is :math:`\sqrt{2(1-|2a-1|)}`.  The upper bound on :math:`\beta` is checked
numerically (claim ``meanfield.necessity.beta_bound``).

Public API
----------
results
    the results of the ``clustering_necessity`` document.
two_atom_velocity
    the USA/SA field of :math:`a\delta_e + (1-a)\delta_{-e}` at :math:`x = \pm e` (SymPy, d = 3).

References
----------
arXiv 2504.14697 (quantitative clustering in mean-field transformers; necessity of the hypotheses, as
restated in arXiv 2512.01868).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_all, prove_zero
from attnflow.symbolic.result import Result, Step

__all__ = ["results", "two_atom_velocity", "dirac_gap"]

TOPIC = "clustering_necessity"
a, beta = sp.symbols("a beta", real=True)
E = sp.symbols("e1:4", real=True)
SRC = "arXiv 2504.14697 (necessity of the density hypothesis), restated in arXiv 2512.01868"


def _unit():
    e = sp.Matrix(E)
    return e.subs(E[2], sp.sqrt(1 - E[0] ** 2 - E[1] ** 2))


def two_atom_velocity(sign: int, model: str) -> sp.Matrix:
    r"""Field at :math:`x = \pm e` of :math:`\mu = a\delta_e + (1-a)\delta_{-e}` (``model`` ``"usa"`` or ``"sa"``).

    .. math:: v(x) = P_x \frac{\sum_j w_j e^{\beta\langle x, x_j\rangle} x_j}{Z},\quad
              Z = 1 \text{ (USA)},\ \sum_j w_j e^{\beta\langle x,x_j\rangle} \text{ (SA)}.
    """
    e = _unit()
    x = sign * e
    atoms = [(a, e), (1 - a, -e)]
    num = sp.zeros(3, 1)
    Z = 0
    for w, y in atoms:
        k = w * sp.exp(beta * (x.T * y)[0])
        num += k * y
        Z += k
    v = num if model == "usa" else num / Z
    return v - (x.T * v)[0] * x


def dirac_gap() -> sp.Expr:
    r""":math:`\min_z W_2^2(\mu, \delta_z) = 2(1 - |m_\mu|)` for :math:`\mu = a\delta_e + (1-a)\delta_{-e}`."""
    return 2 * (1 - sp.Abs(2 * a - 1))


def _prove_stationary() -> Proof:
    cases = {}
    for model in ("usa", "sa"):
        for sign in (1, -1):
            v = two_atom_velocity(sign, model)
            for k in range(3):
                cases[f"{model} x={'+' if sign > 0 else '-'}e component {k + 1}"] = v[k]
    dom = {E[0]: (-0.5, 0.5), E[1]: (-0.5, 0.5), a: (0.0, 1.0), beta: (-5.0, 10.0)}
    return prove_all(cases, domains=dom)


def _prove_gap() -> Proof:
    e = _unit()
    m = a * e + (1 - a) * (-e)
    return prove_zero(sp.sqrt((m.T * m)[0]) - sp.Abs(2 * a - 1), domains={E[0]: (-0.5, 0.5), E[1]: (-0.5, 0.5),
                                                                          a: (0.0, 1.0)})


def results() -> list[Result]:
    """The results of the ``clustering_necessity`` document."""
    return [
        Result(
            id="meanfield.necessity.density_stationary",
            title="Two antipodal atoms are stationary for SA and USA at every beta",
            topic=TOPIC,
            statement=r"\mu_0 = a\,\delta_e + (1-a)\,\delta_{-e}:\quad v[\mu_0](\pm e) = 0\ \ (\text{SA, USA, every }\beta),"
                      r"\quad R_0 = (2a-1)^2,\ a = \tfrac23:\ R_0 = \tfrac19 > 0",
            source=SRC,
            prover=_prove_stationary,
            steps=(Step("Every atom is +-e, so the attention average at x = +-e is a multiple of e and the tangent "
                        "projection P_x removes it; checked componentwise for d = 3 with |e| = 1 substituted (the "
                        "argument is index-free)."),),
            notes="The theorem's other hypotheses hold (R_0 > 0, any small beta): only the density is missing, and "
                  "mu_t = mu_0 never approaches a Dirac mass.",
        ),
        Result(
            id="meanfield.necessity.dirac_gap",
            title="Distance of the two-atom state to the nearest Dirac mass",
            topic=TOPIC,
            statement=r"|m_{\mu_0}| = |2a-1|,\quad \min_z W_2^2(\mu_0,\delta_z) = 2(1-|2a-1|)"
                      r"\ \ (a = \tfrac23:\ \tfrac43)",
            source=SRC + "; chordal identity min_z W2^2(mu, delta_z) = 2(1 - |m_mu|) (claim wasserstein.dirac)",
            prover=_prove_gap,
        ),
    ]
