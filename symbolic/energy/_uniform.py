r"""The interaction energy of the uniform measure on the sphere: power series against Bessel series.

For :math:`x, y` independent and uniform on :math:`S^{d-1}`, :math:`t = \langle x, y\rangle` has
density :math:`c_d (1-t^2)^{(d-3)/2}` on :math:`[-1, 1]`, so its even moments are Beta integrals

.. math::

    \mathbb{E}\,t^{2k} = \frac{\Gamma(k+\tfrac12)\,\Gamma(\tfrac d2)}{\sqrt{\pi}\,\Gamma(k+\tfrac d2)}
    = \frac{(2k-1)!!}{d(d+2)\cdots(d+2k-2)},

and :math:`\mathbb{E}\,e^{\beta t} = \sum_k \beta^{2k}\,\mathbb{E}t^{2k}/(2k)!` is compared
coefficient-wise with the series of :math:`\Gamma(d/2)(2/\beta)^{d/2-1}I_{d/2-1}(\beta)`.

References
----------
``derivations/energy.md`` (``energy.uniform``; a standard fact, not from the cited papers);
DLMF 10.25.2 (series of :math:`I_\nu`); arXiv 2312.10794 (the uniform measure minimises
:math:`E_\beta`).
"""

from __future__ import annotations

import mpmath
import sympy as sp

from attnflow.symbolic.proof import Proof, prove_zero

__all__ = [
    "k",
    "d",
    "moment_notes",
    "moment_beta",
    "uniform_energy_closed_form",
    "coefficient_identity",
    "moment_identity",
    "cross_check_d3",
    "cross_check_d2_moments",
    "cross_check_quadrature",
]

k = sp.Symbol("k", integer=True, nonnegative=True)
d = sp.Symbol("d", integer=True, positive=True)
beta = sp.Symbol("beta", positive=True)
t = sp.Symbol("t", real=True)
theta = sp.Symbol("theta", real=True)

#: the stated moment formula (double factorials)
moment_notes = sp.factorial2(2 * k - 1) / (2**k * sp.rf(d / 2, k))  # d(d+2)...(d+2k-2) = 2^k (d/2)_k
#: the Beta-integral value of the moment
moment_beta = sp.gamma(k + sp.Rational(1, 2)) * sp.gamma(d / 2) / (sp.sqrt(sp.pi) * sp.gamma(k + d / 2))


def uniform_energy_closed_form(dim=d, b=beta) -> sp.Expr:
    r""":math:`E_\beta(\sigma) = \frac{1}{2\beta}\Gamma(\tfrac d2)(2/\beta)^{d/2-1}I_{d/2-1}(\beta)`."""
    return sp.gamma(sp.Rational(dim, 2) if isinstance(dim, int) else dim / 2) * (2 / b) ** (dim / sp.Integer(2) - 1) \
        * sp.besseli(dim / sp.Integer(2) - 1, b) / (2 * b)


def moment_identity() -> Proof:
    """Beta-integral moment = the stated double-factorial moment, for general k, d."""
    ratio = sp.gammasimp(sp.combsimp(moment_notes.rewrite(sp.gamma) / moment_beta))
    return prove_zero(ratio - 1)


def coefficient_identity() -> tuple[sp.Expr, sp.Expr, Proof]:
    r"""Coefficient of :math:`\beta^{2k}` on both sides; their ratio reduces to 1 by ``gammasimp``."""
    nu = d / 2 - 1
    lhs = moment_beta / sp.factorial(2 * k)  # E e^{beta t} = sum beta^{2k} m_{2k}/(2k)!
    # Gamma(d/2)(2/beta)^nu I_nu(beta), I_nu(b) = sum_k (b/2)^{2k+nu}/(k! Gamma(k+nu+1))
    rhs = sp.gamma(d / 2) * 2**nu * sp.Rational(1, 2) ** (2 * k + nu) / (sp.factorial(k) * sp.gamma(k + nu + 1))
    p = prove_zero(sp.gammasimp(lhs / rhs) - 1)
    return lhs, rhs, p


def cross_check_d3() -> Proof:
    r"""d = 3: t is uniform on [-1, 1] (Archimedes); :math:`\tfrac12\int_{-1}^1 e^{\beta t}dt` vs the Bessel form."""
    exact = sp.integrate(sp.exp(beta * t), (t, -1, 1)) / 2
    closed = 2 * beta * uniform_energy_closed_form(3, beta)  # the stated closed form, E = (1/2b) E e^{b t}

    def bessel_half(e: sp.Expr) -> sp.Expr:  # I_{1/2}(b) = sqrt(2/(pi b)) sinh b, via J_{1/2}
        e = e.replace(lambda a: isinstance(a, sp.besseli),
                      lambda a: sp.simplify(sp.expand_func(a.rewrite(sp.besselj))))
        return sp.simplify(sp.expand(e.rewrite(sp.exp)))

    steps = (("I_{1/2} written through J_{1/2} = sine, then simplify", bessel_half, 10**6),)
    return prove_zero(closed - exact, domains={beta: (0.1, 10)}, steps=steps)


def cross_check_d2_moments(kmax: int = 6) -> Proof:
    r"""d = 2: :math:`\frac1{2\pi}\int_0^{2\pi}\cos^{2k}\theta\,d\theta` equals the moment formula, k <= kmax."""
    bad = []
    for kk in range(kmax + 1):
        avg = sp.integrate(sp.cos(theta) ** (2 * kk), (theta, 0, 2 * sp.pi)) / (2 * sp.pi)
        if sp.simplify(avg - moment_notes.subs({k: kk, d: 2})) != 0:
            bad.append(kk)
    if bad:
        return Proof("refuted", "exact circle averages", f"moment mismatch for k = {bad}")
    return Proof("proved-for-sizes", "exact circle averages of cos^{2k}", f"k = 0..{kmax}")


def cross_check_quadrature(dims=(2, 4, 5), betas=("0.5", "3", "11"), digits: int = 30) -> Proof:
    r"""Quadrature of :math:`\int_0^\pi e^{\beta\cos\varphi}\sin^{d-2}\varphi\,d\varphi / \int_0^\pi\sin^{d-2}\varphi\,d\varphi`.

    (The polar angle :math:`\varphi` of :math:`y` about :math:`x` has density
    :math:`\propto\sin^{d-2}\varphi`; this is the smooth form of the :math:`t`-integral.)
    """
    worst = mpmath.mpf(0)
    stated = sp.lambdify((d, beta), 2 * beta * uniform_energy_closed_form(d, beta), "mpmath")
    with mpmath.workdps(digits + 10):
        for dim in dims:
            norm = mpmath.quad(lambda p: mpmath.sin(p) ** (dim - 2), [0, mpmath.pi])
            for bs in betas:
                b = mpmath.mpf(bs)
                mean = mpmath.quad(lambda p: mpmath.exp(b * mpmath.cos(p)) * mpmath.sin(p) ** (dim - 2),
                                   [0, mpmath.pi]) / norm
                closed = stated(mpmath.mpf(dim), b)  # the stated closed form times 2 beta
                worst = max(worst, abs(mean / closed - 1))
    ok = worst < mpmath.mpf(10) ** (-digits + 5)
    status = "verified-numerically" if ok else "refuted"
    return Proof(status, f"mpmath quadrature at {digits + 10} digits, d in {list(dims)}, beta in {list(betas)}",
                 f"max relative error {mpmath.nstr(worst, 3)}")
