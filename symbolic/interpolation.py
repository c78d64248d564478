r"""Closed forms of the measure-to-measure interpolation construction (arXiv 2411.04551).

The corrected gate ``W = w, U = w^T, b = -a`` (``a = cos R``) drives
:math:`c = \langle w, x\rangle` by :math:`\dot c = (c - a)(1 - c^2)` on its cap; its travel time is
an explicit antiderivative (the *peel* of the general-target construction, Theorem 1.2).

Public API
----------
results
    the results of the ``interpolation`` document.
peel_antiderivative
    :math:`F(c; a)` with :math:`F'(c) = 1/((c-a)(1-c^2))`.

References
----------
arXiv 2411.04551, Lemma B.2 (gate; sign corrected for this project), Theorem 1.2.
"""

from __future__ import annotations

import functools

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_zero
from attnflow.symbolic.result import Result, Step, latex

__all__ = ["results", "peel_antiderivative", "C", "A"]

TOPIC = "interpolation"
C, A = sp.symbols("c a", real=True)
X = sp.symbols("x1:4", real=True)
Wv = sp.symbols("w1:4", real=True)


@functools.cache
def peel_antiderivative() -> sp.Expr:
    r""":math:`F(c; a) = \frac{\log(c-a)}{1-a^2} - \frac{\log(1-c)}{2(1-a)} - \frac{\log(1+c)}{2(1+a)}`
    (partial fractions of :math:`1/((c-a)(1-c^2))`, valid for :math:`-1 < a < c < 1`)."""
    return sp.log(C - A) / (1 - A**2) - sp.log(1 - C) / (2 * (1 - A)) - sp.log(1 + C) / (2 * (1 + A))


def _prove_antiderivative() -> Proof:
    F = peel_antiderivative()
    return prove_zero(sp.diff(F, C) * (C - A) * (1 - C**2) - 1, domains={C: (0.1, 0.9), A: (-0.9, 0.05)})


def _prove_gate_ode() -> Proof:
    # d/dt <w, x> = <w, (<w,x> - a) P_x w> = (<w,x> - a)(|w|^2 - <w,x>^2), |w| = |x| = 1 (d = 3)
    w = sp.Matrix(Wv)
    x = sp.Matrix(X)
    c = (w.T * x)[0]
    Pxw = w - (x.T * w)[0] * x
    lhs = (w.T * ((c - A) * Pxw))[0]
    rhs = (c - A) * (1 - c**2)
    sub = {Wv[2]: sp.sqrt(1 - Wv[0] ** 2 - Wv[1] ** 2), X[2]: sp.sqrt(1 - X[0] ** 2 - X[1] ** 2)}
    dom = {s: (-0.5, 0.5) for s in (*Wv[:2], *X[:2])}
    dom[A] = (-0.9, 0.9)
    return prove_zero((lhs - rhs).subs(sub), domains=dom)


def results() -> list[Result]:
    """The results of the ``interpolation`` document."""
    F = peel_antiderivative()
    src = "arXiv 2411.04551, Lemma B.2 (gate, sign corrected for this project), Theorem 1.2 (peel: derived here)"
    return [
        Result(
            id="interpolation.gate_ode",
            title="On the corrected gate's cap, <w, x> obeys a logistic-type ODE",
            topic=TOPIC,
            statement=r"\dot x = (\langle w,x\rangle - a)_+ P_x w\ \Longrightarrow\ "
                      r"\tfrac{d}{dt}\langle w,x\rangle = (\langle w,x\rangle - a)(1-\langle w,x\rangle^2)"
                      r"\ \text{ on } \{\langle w,x\rangle > a\},\ |w| = |x| = 1",
            source=src,
            prover=_prove_gate_ode,
            steps=(Step("P_x w = w - <x, w> x, so <w, P_x w> = |w|^2 - <w, x>^2 = 1 - <w, x>^2 (checked for d = 3 "
                        "with the unit constraints substituted; the identity is index-free)."),),
        ),
        Result(
            id="interpolation.peel_time",
            title="Travel time of the peel gate (closed form)",
            topic=TOPIC,
            statement=r"t(c_0\to c_1) = F(c_1) - F(c_0),\quad F(c) = " + latex(F)
                      + r",\quad -1 < a < c_0 \le c_1 < 1",
            source=src,
            prover=_prove_antiderivative,
            steps=(Step("Separate variables in dc/dt = (c - a)(1 - c^2) and split into partial fractions:",
                        r"\frac{1}{(c-a)(1-c^2)} = \frac{1}{(1-a^2)(c-a)} + \frac{1}{2(1-a)(1-c)} - "
                        r"\frac{1}{2(1+a)(1+c)}"),
                   Step("The proof checks F'(c) (c - a)(1 - c^2) - 1 = 0; "
                        "attnflow.numerics.interpolation.peel_time evaluates this F (lambdified).")),
        ),
    ]
