r"""The localisation constant of arXiv 2601.21366: its normalisation, its closed form, and the bound.

At a second-order stable critical point of the repulsive attention energy plus a perceptron potential
on the circle (kernel :math:`e^{\beta\cos}`, potential of size :math:`O(1)`), the splitting condition
:math:`\Phi''(\theta_i)\le0` bounds the mass :math:`M` of atoms inside an arc of length
:math:`1/(2\sqrt\beta)` by :math:`(A + e^{-\beta}C)/(A + B)`, with the limits (:math:`\beta\to\infty`,
:math:`\delta = u/\sqrt\beta`) :math:`A = \max_u (u^2-1)e^{-u^2/2} = 2e^{-3/2}` and
:math:`B = \frac34 e^{-1/8}`.  The printed constant :math:`0.5742 = 16/(16+3e^{11/8})` is
:math:`A/(A + B/2)`; the argument gives :math:`A/(A+B) = 8/(8+3e^{11/8})\approx 0.4027`.

Public API
----------
results
    the results of the ``localization`` document.
splitting_limit, A_LIMIT, B_LIMIT, PRINTED_CONSTANT, DERIVED_CONSTANT
    :math:`(u^2-1)e^{-u^2/2}` and the closed-form constants (SymPy).
"""

from __future__ import annotations

import sympy as sp

from attnflow.symbolic.proof import Proof, prove_equal, prove_zero
from attnflow.symbolic.result import Result, Step, latex

__all__ = ["results", "splitting_limit", "A_LIMIT", "B_LIMIT", "PRINTED_CONSTANT", "DERIVED_CONSTANT",
           "PRINTED_DECIMAL", "bound_from_constants"]

TOPIC = "localization"
SRC = ("arXiv 2601.21366 (perceptrons and localisation; constant 0.5742), normalisation recovered from the "
       "authors' code (antonioalvarezl/2026-MLP-Attention-Energy, wgf_circle/plotting.py)")

u = sp.Symbol("u", real=True)
beta = sp.Symbol("beta", positive=True)
delta = sp.Symbol("delta", real=True)
M, A, B, c = sp.symbols("M A B c", positive=True)

#: the splitting kernel g_beta(delta) = (beta sin^2 delta - cos delta) e^{beta(cos delta - 1)}
SPLITTING_KERNEL = (beta * sp.sin(delta) ** 2 - sp.cos(delta)) * sp.exp(beta * (sp.cos(delta) - 1))


def splitting_limit(u_=u) -> sp.Expr:
    r""":math:`\lim_{\beta\to\infty} g_\beta(u/\sqrt\beta) = (u^2-1)e^{-u^2/2}`.

    References
    ----------
    arXiv 2601.21366; ``derivations/localization.md`` (localization.splitting_constants).
    """
    return (u_**2 - 1) * sp.exp(-u_**2 / 2)


#: A = max_u (u^2 - 1) e^{-u^2/2}, attained at u = sqrt(3)
A_LIMIT = 2 * sp.exp(-sp.Rational(3, 2))
#: B = -(u^2 - 1) e^{-u^2/2} at u = 1/2 (the group width 1/(2 sqrt beta))
B_LIMIT = sp.Rational(3, 4) * sp.exp(-sp.Rational(1, 8))
#: the printed constant, as the authors' code writes it
PRINTED_CONSTANT = sp.Integer(16) / (16 + 3 * sp.exp(sp.Rational(11, 8)))
#: the constant of the splitting argument, A/(A+B)
DERIVED_CONSTANT = sp.Integer(8) / (8 + 3 * sp.exp(sp.Rational(11, 8)))
#: the decimal printed in the paper
PRINTED_DECIMAL = sp.Rational(5742, 10000)


def bound_from_constants(A_, B_, c_) -> sp.Expr:
    r"""The mass bound :math:`M \le (A + c)/(A + B)` solved from :math:`-BM + A(1-M) + c \ge 0`.

    References
    ----------
    ``derivations/localization.md`` (localization.mass_bound).
    """
    return (A_ + c_) / (A_ + B_)


def _prove_constants() -> Proof:
    f = splitting_limit(u)
    parts = [
        # the limit of g_beta along delta = u / sqrt(beta)
        prove_zero(sp.limit(SPLITTING_KERNEL.subs(delta, u / sp.sqrt(beta)), beta, sp.oo) - f),
        # critical points of f: f'(u) = u (3 - u^2) e^{-u^2/2}
        prove_zero(sp.diff(f, u) - u * (3 - u**2) * sp.exp(-u**2 / 2)),
        prove_equal(f.subs(u, sp.sqrt(3)), A_LIMIT),
        prove_equal(-f.subs(u, sp.Rational(1, 2)), B_LIMIT),
    ]
    return Proof.combine(parts)


def _prove_constant() -> Proof:
    parts = [
        prove_equal(A_LIMIT / (A_LIMIT + B_LIMIT / 2), PRINTED_CONSTANT),
        prove_equal(A_LIMIT / (A_LIMIT + B_LIMIT), DERIVED_CONSTANT),
        prove_equal((4 + 2 * sp.exp(sp.Rational(3, 2)) * c) / (4 + sp.Rational(3, 4) * sp.exp(sp.Rational(11, 8))),
                    (A_LIMIT + c) / (A_LIMIT + B_LIMIT / 2)),
    ]
    p = Proof.combine(parts)
    printed = sp.N(PRINTED_CONSTANT, 30)
    if abs(printed - PRINTED_DECIMAL) > sp.Rational(1, 20000):
        return Proof("refuted", p.method, f"16/(16+3e^(11/8)) = {sp.N(printed, 10)} does not round to 0.5742")
    return Proof(p.status, p.method + "; 16/(16+3e^(11/8)) = " + str(sp.N(printed, 10)) + " rounds to 0.5742")


def _prove_bound() -> Proof:
    # -B M + A (1 - M) + c = (A + B) (bound - M): the inequality is linear in M
    return prove_zero(-B * M + A * (1 - M) + c - (A + B) * (bound_from_constants(A, B, c) - M))


def results() -> list[Result]:
    """The results of the ``localization`` document."""
    f = splitting_limit(u)
    return [
        Result(
            id="localization.splitting_constants",
            title="limits of the splitting kernel: A = max (u^2-1)e^{-u^2/2} = 2e^{-3/2}, B = (3/4)e^{-1/8}",
            topic=TOPIC,
            statement=(r"\lim_{\beta\to\infty} g_\beta\bigl(u/\sqrt\beta\bigr) = " + latex(f)
                       + r",\qquad A = \max_u " + latex(f) + " = " + latex(A_LIMIT)
                       + r",\qquad B = \min_{|u|\le 1/2}\bigl(-" + latex(f) + r"\bigr) = " + latex(B_LIMIT)),
            source=SRC,
            prover=_prove_constants,
            steps=(
                Step("Splitting kernel: e^{-beta} k''(delta)/beta for k = e^{beta cos}; g_beta(0) = -1",
                     "g_\\beta(\\delta) = " + latex(SPLITTING_KERNEL)),
                Step("Along delta = u/sqrt(beta): beta sin^2 -> u^2, cos -> 1, beta(cos - 1) -> -u^2/2 "
                     "(SymPy limit)"),
                Step("f'(u) = u(3 - u^2)e^{-u^2/2}: the maximum over u >= 0 is at u = sqrt(3); on [0, 1/2] f is "
                     "increasing, so -f is smallest at the group width u = 1/2",
                     r"f'(u) = u(3-u^2)e^{-u^2/2}"),
            ),
            notes=("The finite-beta constants A_beta = sup g_beta and B_beta = min over |delta| <= 1/(2 sqrt beta) of "
                   "-g_beta are computed by `attnflow.numerics.localization_bound.splitting_constants` (beta = 1: "
                   "0.368, 0.573; beta = 32: 0.441, 0.659; beta = 1e5: 0.446259, 0.661872) and converge to these "
                   "limits at rate O(1/beta) (claim `localization.constant`)."),
        ),
        Result(
            id="localization.constant",
            title="the printed constant 0.5742 is 16/(16+3e^{11/8}) = A/(A + B/2); the splitting argument gives "
                  "A/(A+B) = 8/(8+3e^{11/8}) = 0.4027",
            topic=TOPIC,
            statement=(r"0.5742 \approx " + latex(PRINTED_CONSTANT) + r" = \frac{A}{A+B/2},\qquad "
                       r"\frac{A}{A+B} = " + latex(DERIVED_CONSTANT) + r"\approx 0.4027"),
            source=SRC,
            prover=_prove_constant,
            steps=(
                Step("Normalisation (the authors' code): energy (1/(2 beta)) iint e^{beta<x,y>} dmu dmu plus a "
                     "perceptron potential V of size O(1), interaction repulsive (descent of the energy), group = "
                     "atoms inside an arc of length 1/(2 sqrt beta); the printed bound, with C the bound on |V''|, is",
                     r"M \le \frac{4 + 2e^{3/2}Ce^{-\beta}}{4 + \tfrac34 e^{11/8}} = \frac{A + Ce^{-\beta}}{A + B/2}"),
                Step("At C = 0 this is 16/(16 + 3e^{11/8}), which rounds to the printed 0.5742"),
                Step("The splitting inequality (localization.mass_bound) has the full in-group term B, giving the "
                     "smaller constant", r"\frac{A}{A+B} = " + latex(DERIVED_CONSTANT)),
            ),
            notes=("**Confronted.** The printed 0.5742 is reproduced exactly as 16/(16+3e^{11/8}) = 0.57419228 in the "
                   "normalisation above (the kernel e^{beta<x,y>} makes the potential's curvature enter as "
                   "C e^{-beta}, the O(e^{-beta}) of the statement). The bound holds, but it is not what the "
                   "splitting argument gives: with the in-group term counted once per atom the constant is "
                   "8/(8+3e^{11/8}) = 0.40271, a factor 2 on B (the printed form is A/(A + B/2)). Concave "
                   "maximisers of the repulsive functional never exceed the sharper bound (claim "
                   "`localization.mass_bound`)."),
        ),
        Result(
            id="localization.mass_bound",
            title="splitting at an atom of a group of mass M: -B M + A(1-M) + c >= 0, i.e. M <= (A + c)/(A + B)",
            topic=TOPIC,
            statement=(r"\sum_j m_j g_\beta(\theta_i-\theta_j) \ge e^{-\beta}V''(\theta_i)\ \Longrightarrow\ "
                       r"M \le " + latex(bound_from_constants(A, B, c)) + r",\quad c = e^{-\beta}\sup|V''|"),
            source=SRC,
            prover=_prove_bound,
            steps=(
                Step("Maximising F = -(1/(2 beta)) iint e^{beta cos} + int V, an atom theta_i split into two halves "
                     "moving apart changes F by m_i s^2 Phi''(theta_i) to second order, so stability needs "
                     "Phi''(theta_i) <= 0", r"\Phi''(\theta_i) = -e^{\beta}\sum_j m_j g_\beta(\theta_i-\theta_j) "
                     r"+ V''(\theta_i)\le 0"),
                Step("In the group (an arc of length 1/(2 sqrt beta), including j = i) g_beta <= -B_beta; elsewhere "
                     "g_beta <= A_beta; V'' >= -C",
                     r"0 \le -B_\beta M + A_\beta(1-M) + e^{-\beta}C"),
                Step("The inequality is linear in M", r"-BM + A(1-M) + c = (A+B)\Bigl(\frac{A+c}{A+B} - M\Bigr)"),
            ),
            notes=("The functional is concave in mu (e^{beta cos} is a positive-definite kernel), so its maximiser "
                   "is a second-order stable critical point; `attnflow.numerics.localization_bound.concave_maximiser` "
                   "computes it on a grid and the claim `localization.mass_bound` checks its largest arc mass "
                   "against this bound."),
        ),
    ]
