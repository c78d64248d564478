r"""One softmax attention layer on equiangular inputs, and its long-context limit beta = gamma log n.

The output directions of one layer (V = I) are computed from the Gram structure of equiangular unit
inputs for general ``n`` and compared with the stated finite-``n`` formula (derived for this project);
the three limits ``n -> infinity`` at ``beta = gamma log n`` are then taken by reducing the ratio to a rational
function of ``p = n^{-kappa}`` and ``m = n^{1-kappa}`` (``kappa = gamma(1-rho)``), continuous at the
limit point (arXiv 2510.05554, arXiv 2512.01868: the long-context transition).

Public API
----------
results
    the results of the ``long_context`` document.
output_cosine_derived, output_cosine_stated
    :math:`\langle\theta_i,\theta_j\rangle` after one layer: from the particles / as stated.
"""

from __future__ import annotations

import functools

import sympy as sp

from attnflow.symbolic._clustering_gram import EquiangularSpan, equiangular_gram
from attnflow.symbolic.proof import Proof, prove_all, prove_equal, prove_zero
from attnflow.symbolic.result import Result, Step, latex

__all__ = ["results", "output_cosine_derived", "output_cosine_stated", "long_context_limit"]

TOPIC = "long_context"
SRC = "arXiv 2510.05554 (long-context attention, beta = gamma log n) and 2512.01868"

n = sp.Symbol("n", positive=True, integer=True)
beta = sp.Symbol("beta", positive=True)
rho = sp.Symbol("rho", positive=True)
gamma = sp.Symbol("gamma", positive=True)
kappa = sp.Symbol("kappa", positive=True)
p = sp.Symbol("p", nonnegative=True)
m = sp.Symbol("m", nonnegative=True)
q = sp.Symbol("q", nonnegative=True)

_DOMAINS = {n: (2, 60), beta: (0.01, 8), rho: (0.01, 0.99)}

#: a single "together/cancel" step without the preliminary expansion
_TOGETHER = (("together/cancel", lambda e: sp.cancel(sp.together(e)), 10**6),)


def output_cosine_stated(n_=n, beta_=beta, rho_=rho) -> sp.Expr:
    r"""Finite-``n`` cosine between two output directions, as stated (derived for this project).

    .. math::

        \langle\theta_i,\theta_j\rangle = \frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a},
        \qquad r = e^{\beta(1-\rho)},\ a = 1 + (n-1)\rho.

    References
    ----------
    arXiv 2510.05554, arXiv 2512.01868 (long context); finite-``n`` form derived in
    ``derivations/long_context.md``.
    """
    r = sp.exp(beta_ * (1 - rho_))
    a = 1 + (n_ - 1) * rho_
    return ((r - 1) ** 2 * rho_ + (2 * (r - 1) + n_) * a) / ((r - 1) ** 2 + (2 * (r - 1) + n_) * a)


@functools.lru_cache(maxsize=None)
def _outputs():
    span = EquiangularSpan(n, rho)
    Z = span.partition(beta)
    yi = span.attention_sum(beta, "i") / Z
    yj = span.attention_sum(beta, "k") / Z
    return span, yi, yj


def output_cosine_derived() -> sp.Expr:
    r"""Cosine between the normalised outputs of one attention layer, from the Gram structure.

    .. math::

        y_i = Z^{-1}\big(e^\beta x_i + e^{\beta\rho}(S-x_i)\big),\qquad
        \langle\theta_i,\theta_j\rangle = \frac{\langle y_i,y_j\rangle}{|y_i|\,|y_j|}
        = \frac{\langle y_i,y_j\rangle}{|y_i|^2}\ \ (|y_i| = |y_j| \text{ by symmetry}).

    References
    ----------
    arXiv 2510.05554 (long-context limits); ``derivations/long_context.md``.
    """
    span, yi, yj = _outputs()
    return span.inner(yi, yj) / span.inner(yi, yi)


def long_context_limit(gamma_, rho_):
    r"""The stated limit of :math:`\langle\theta_i,\theta_j\rangle` as ``n -> infinity``, beta = gamma log n.

    .. math::

        \lim = 1\ (\gamma < \tfrac{1}{1-\rho}),\quad \tfrac{4\rho}{1+3\rho}\ (\gamma = \tfrac{1}{1-\rho}),
        \quad \rho\ (\gamma > \tfrac{1}{1-\rho}).

    References
    ----------
    arXiv 2510.05554, arXiv 2512.01868 (long context); ``derivations/long_context.md``.
    """
    k = sp.nsimplify(gamma_) * (1 - sp.nsimplify(rho_))
    if k < 1:
        return sp.Integer(1)
    if k == 1:
        return 4 * rho_ / (1 + 3 * rho_)
    return rho_


# --------------------------------------------------------------------------------------------
# provers


_EB = sp.Symbol("E_beta", positive=True)  # e^beta
_ER = sp.Symbol("E_rho", positive=True)  # e^{beta rho}


def _rationalise(e: sp.Expr) -> sp.Expr:
    """Replace e^beta, e^{beta rho}, e^{beta(1-rho)} by E_beta, E_rho, E_beta/E_rho (all positive)."""
    e = e.subs(sp.exp(beta * (1 - rho)), _EB / _ER)
    e = e.subs(sp.exp(beta * rho), _ER).subs(sp.exp(beta), _EB)
    e = e.replace(lambda a: isinstance(a, sp.exp), lambda a: sp.exp(sp.expand(a.args[0])))
    return e.subs(sp.exp(beta - beta * rho), _EB / _ER).subs(sp.exp(-beta * rho), 1 / _ER)


_RDOM = {**_DOMAINS, _EB: (1, 50), _ER: (1, 50)}


def _prove_finite_n() -> Proof:
    general = prove_zero(_rationalise(output_cosine_derived() - output_cosine_stated()),
                         domains=_RDOM, steps=_TOGETHER)
    span, yi, yj = _outputs()
    sym = prove_zero(span.inner(yi, yi) - span.inner(yj, yj), domains=_DOMAINS)
    # sizes: explicit Gram matrix of the inputs, outputs y = A X with A the softmax matrix
    cases = {}
    for size in (3, 4):
        G = equiangular_gram(size, rho)
        W = sp.Matrix(size, size, lambda i, j: sp.exp(beta * G[i, j]))
        A = sp.diag(*[1 / sum(W.row(i)) for i in range(size)]) * W
        Gy = A * G * A.T  # Gram matrix of the outputs
        target = output_cosine_stated(n_=sp.Integer(size))
        for i in range(size):
            for j in range(i + 1, size):
                cases[f"n={size}, ({i},{j})"] = _rationalise(Gy[i, j] ** 2 - target**2 * Gy[i, i] * Gy[j, j])
    sized = prove_all(cases, domains=_RDOM, steps=_TOGETHER)
    parts = [general, sym, sized]
    if any(x.status == "refuted" for x in parts):
        return Proof.combine(parts)
    return Proof(
        general.status,
        f"general n in the span of x_i, x_j, S ({general.method}), |y_i| = |y_j| ({sym.method}); "
        f"cross-check with the explicit n x n Gram matrix for n = 3, 4 ({sized.status}; squared form, "
        "both sides positive for rho > 0)",
        sized.detail,
    )


def _reduced_ratio() -> tuple[sp.Expr, sp.Expr]:
    """Numerator and denominator divided by e^{2 beta (1-rho)} as polynomials in p = 1/r, m = n/r."""
    r = sp.Symbol("r", positive=True)
    a = 1 + (n - 1) * rho
    num = (r - 1) ** 2 * rho + (2 * (r - 1) + n) * a
    den = (r - 1) ** 2 + (2 * (r - 1) + n) * a
    # r = 1/p, n = m/p
    nump = sp.expand(sp.cancel(num.subs(n, m * r).subs(r, 1 / p) * p**2))
    denp = sp.expand(sp.cancel(den.subs(n, m * r).subs(r, 1 / p) * p**2))
    return nump, denp


def _prove_limits() -> Proof:
    nump, denp = _reduced_ratio()
    # check the reduction against the stated finite-n formula with r = n^kappa
    # r = e^{beta(1-rho)} = n^kappa enters only through r: check with r a free positive symbol
    R = sp.Symbol("R", positive=True)
    back = (nump / denp).subs({p: 1 / R, m: n / R})
    stated_r = output_cosine_stated().subs(sp.exp(beta * (1 - rho)), R)
    red = prove_zero(back - stated_r, domains={**_DOMAINS, R: (1, 50)}, steps=_TOGETHER)
    checks = {}
    # kappa > 1: p -> 0, m -> 0 ; polynomials continuous, denominator -> 1
    checks["gamma > 1/(1-rho)"] = (nump.subs({p: 0, m: 0}) / denp.subs({p: 0, m: 0}), rho)
    # kappa = 1: p -> 0, m = 1
    checks["gamma = 1/(1-rho)"] = (nump.subs({p: 0, m: 1}) / denp.subs({p: 0, m: 1}), 4 * rho / (1 + 3 * rho))
    # kappa < 1: p -> 0, m -> infinity; with q = 1/m both -> 0 after multiplying by q^2
    numq = sp.expand(nump.subs(m, 1 / q) * q**2)
    denq = sp.expand(denp.subs(m, 1 / q) * q**2)
    checks["gamma < 1/(1-rho)"] = (numq.subs({p: 0, q: 0}) / denq.subs({p: 0, q: 0}), sp.Integer(1))
    proofs = {k: prove_equal(v, w) for k, (v, w) in checks.items()}
    polys_ok = all(e.is_polynomial(p, m) for e in (nump, denp)) and all(e.is_polynomial(p, q) for e in (numq, denq))
    nonzero = [denp.subs({p: 0, m: 0}), denp.subs({p: 0, m: 1}), denq.subs({p: 0, q: 0})]
    nonzero_ok = all(sp.factor(x).is_positive for x in nonzero)
    # independent route: SymPy's own limit at concrete gamma, rho
    direct = {}
    for g_, r_ in ((1, sp.Rational(1, 2)), (2, sp.Rational(1, 2)), (3, sp.Rational(1, 2)),
                   (sp.Rational(3, 2), sp.Rational(1, 3))):
        nsym = sp.Symbol("n", positive=True)
        expr = output_cosine_stated(n_=nsym, rho_=r_).subs(beta, g_ * sp.log(nsym))
        expr = sp.powsimp(sp.expand_log(expr.rewrite(sp.exp), force=True), force=True)
        try:
            lim = sp.limit(expr, nsym, sp.oo)
            direct[f"gamma={g_}, rho={r_}"] = sp.nsimplify(lim - long_context_limit(g_, r_))
        except (NotImplementedError, ValueError) as exc:  # pragma: no cover - reported in detail
            direct[f"gamma={g_}, rho={r_}"] = sp.Symbol(f"limit_failed_{type(exc).__name__}")
    dproof = prove_all(direct)
    parts = [red, *proofs.values(), dproof]
    if any(x.status == "refuted" for x in parts) or not polys_ok or not nonzero_ok:
        bad = [k for k, v in proofs.items() if v.status == "refuted"]
        return Proof("refuted", "reduction to p = n^-kappa, m = n^(1-kappa)",
                     f"failed regimes: {bad}; polynomial: {polys_ok}; denominators nonzero: {nonzero_ok}; "
                     f"direct: {dproof.detail}")
    return Proof(
        "proved",
        "hand-guided asymptotics in SymPy: with kappa = gamma(1-rho), p = n^-kappa -> 0 and "
        "m = n^(1-kappa) -> 0, 1 or infinity, numerator and denominator / r^2 are polynomials in (p, m) "
        f"(in (p, 1/m) for kappa < 1) with nonzero denominator at the limit point ({red.method} for the "
        "reduction); cross-check: sympy.limit at concrete (gamma, rho) "
        f"({dproof.status})",
        dproof.detail,
    )


# --------------------------------------------------------------------------------------------
# results


def results() -> list[Result]:
    """The results of the ``long_context`` document (proofs are computed lazily)."""
    th = r"\langle\theta_i,\theta_j\rangle"
    R = sp.Symbol("r", positive=True)
    derived_r = sp.factor(sp.cancel(_rationalise(output_cosine_derived()).subs(_EB, R * _ER)))
    return [
        Result(
            id="long_context.finite_n",
            title="One attention layer on equiangular inputs: exact output cosine",
            topic=TOPIC,
            statement=th + " = " + r"\frac{(r-1)^2\rho + (2(r-1)+n)a}{(r-1)^2 + (2(r-1)+n)a},"
                      r"\quad r = e^{\beta(1-\rho)},\ a = 1+(n-1)\rho",
            source=SRC + "; finite-n form derived here",
            prover=_prove_finite_n,
            steps=(
                Step("Equiangular unit inputs, V = I: the output of token i is a softmax average.",
                     r"y_i = \frac{e^\beta x_i + e^{\beta\rho}(S-x_i)}{e^\beta+(n-1)e^{\beta\rho}}"
                     r"\ \propto\ (r-1)\,x_i + S"),
                Step("Gram structure: <x_i, S> = a, |S|^2 = n a.",
                     r"\langle (r-1)x_i+S,\,(r-1)x_j+S\rangle = (r-1)^2\rho + 2(r-1)a + na"),
                Step("|y_i| = |y_j| by symmetry, so the cosine is <y_i, y_j>/|y_i|^2; derived (with "
                     "e^beta = r e^{beta rho}):",
                     th + " = " + latex(derived_r)),
            ),
        ),
        Result(
            id="long_context.limits",
            title="Long-context limit at beta = gamma log n",
            topic=TOPIC,
            statement=r"\lim_{n\to\infty}" + th + r"\Big|_{\beta=\gamma\log n} = \begin{cases} 1 & "
                      r"\gamma < \frac{1}{1-\rho}\\ \frac{4\rho}{1+3\rho} & \gamma = \frac{1}{1-\rho}\\ "
                      r"\rho & \gamma > \frac{1}{1-\rho}\end{cases}\qquad (0<\rho<1)",
            source=SRC,
            prover=_prove_limits,
            steps=(
                Step("With beta = gamma log n, r = e^{beta(1-rho)} = n^kappa, kappa = gamma (1-rho). "
                     "Divide numerator and denominator by r^2 and set p = 1/r, m = n/r:",
                     latex(sp.Symbol("N")) + " = " + latex(_reduced_ratio()[0]) + r",\quad "
                     + latex(sp.Symbol("D")) + " = " + latex(_reduced_ratio()[1])),
                Step("p -> 0 always; m = n^{1-kappa} -> 0 (kappa > 1), = 1 (kappa = 1), -> infinity "
                     "(kappa < 1; use q = 1/m and multiply by q^2). N, D are polynomials, hence continuous, "
                     "and D does not vanish at the limit point (it equals 1, 1+3 rho, rho)."),
                Step("Evaluating at the limit points gives rho, 4 rho/(1+3 rho) and 1. Convergence in n is "
                     "only like n^{-min(kappa, |1-kappa|)}, logarithmically slow in beta."),
            ),
        ),
    ]
