r"""Proofs that tie the declarations to the equations they are written from.

* :func:`circle_derivation_checks`: the circle score, projected value and the ALiBi content
  factor follow from the sphere form under :math:`x=(\cos\theta,\sin\theta)`;
* :func:`normalisation_checks`: Pre-LN and Peri-LN in the radial/angular variables reduce to the
  Euclidean fields :math:`\dot x_i=A_i` and :math:`\dot x_i=A_i/|A_i|` that their declarations use.

References: arXiv 2512.01868 (circle), 2605.09213 (ALiBi), 2510.22026 (normalisation schemes).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models._pairs import kernel_expressions
from attnflow.symbolic.models._registry import get
from attnflow.symbolic.proof import Proof, prove_zero

__all__ = ["circle_derivation_checks", "normalisation_checks"]


def circle_derivation_checks() -> dict[str, Proof]:
    r"""Check the circle expressions against the sphere ones under :math:`x=(\cos\theta,\sin\theta)`.

    Returns proofs that :math:`\langle x_i,x_j\rangle=\cos(\theta_i-\theta_j)`, that the angular
    component of :math:`P_{x_i}x_j` is :math:`-\sin(\theta_i-\theta_j)`, and that the causal ALiBi
    content weight times the projected value is :math:`w_\beta'(\theta)=-\beta\sin\theta\,e^{\beta\cos\theta}`.
    """
    sub = {S.dl: S.ti - S.tj}
    ip = sp.cos(S.ti) * sp.cos(S.tj) + sp.sin(S.ti) * sp.sin(S.tj)
    tang = -sp.sin(S.ti) * sp.cos(S.tj) + sp.cos(S.ti) * sp.sin(S.tj)
    ex = kernel_expressions(get("kuramoto"))
    alibi = get("causal_alibi")
    ca = kernel_expressions(alibi)
    content = alibi.weight.subs(S.s, ca["s"]) * ca["v"]
    w = sp.exp(S.beta * sp.cos(S.dl))
    return {
        "inner product": prove_zero(S.beta * ex["s"].subs(sub) - S.beta * ip),
        "tangent component": prove_zero(ex["v"].subs(sub) - tang),
        "alibi content factor": prove_zero(content - sp.diff(w, S.dl)),
    }


def normalisation_checks() -> dict[str, Proof]:
    r"""Reduce Pre-LN and Peri-LN to Euclidean fields for :math:`x = r\theta`.

    With :math:`p=\langle\theta,A\rangle` and :math:`a=\|A\|`, coordinate ``k`` of
    :math:`\dot x = \dot r\,\theta + r\dot\theta`:

    * Pre-LN, :math:`\dot r = p`, :math:`\dot\theta = P_\theta A / r`:
      :math:`p\theta_k + (A_k - p\theta_k) = A_k`, i.e. :math:`\dot x_i = A_i`;
    * Peri-LN, :math:`\dot r = p/a`, :math:`\dot\theta = P_\theta A/(r a)`:
      :math:`\dot x_i = A_i/\|A_i\|`.

    The right sides are the output maps of the ``preln`` and ``periln`` declarations (in the
    placeholders ``A`` and ``AA`` = :math:`|A|^2`).  The identity is the same in every coordinate
    with :math:`p` a free symbol, so it holds for every dimension ``d``.
    """
    r = sp.Symbol("r", positive=True)
    a = sp.Symbol("a", positive=True)
    p, th, Ak = sp.symbols("p theta_k A_k", real=True)
    tang = Ak - p * th  # coordinate k of P_theta A
    pre = p * th + r * (tang / r)
    peri = (p / a) * th + r * (tang / (r * a))
    declared = {name: get(name).output.subs({S.A: Ak, S.AA: a**2}) for name in ("preln", "periln")}
    return {
        "preln: dx/dt = A": prove_zero(pre - declared["preln"]),
        "periln: dx/dt = A/|A|": prove_zero(peri - declared["periln"]),
    }
