r"""Equiangular reduction of SA and USA, and the reduced Pre-LN system.

Everything is derived from the particle system: the velocity of token ``i`` is written in the span
of ``x_i``, ``x_k`` and ``S = \sum_j x_j`` (general ``n``), the inner product
``<x_i, x_k>`` is differentiated, and the result is compared with the stated ODEs
(arXiv 2512.01868, equiangular reduction; arXiv 2510.22026, Pre-LN).  A second route differentiates the
explicit ``n x n`` Gram matrix for ``n = 3, 4``.

Public API
----------
results
    the :class:`~attnflow.symbolic.result.Result` list of the ``equiangular`` document.
rho_dot_derived, rho_dot_stated
    the equiangular right-hand side obtained from the particles and the stated one.
hitting_time_antiderivative
    the Ei formula :math:`F(s)` of the SA hitting time.
"""

from __future__ import annotations

import functools

import sympy as sp

from attnflow.symbolic._clustering_gram import EquiangularSpan, equiangular_gram, gram_velocity
from attnflow.symbolic.models import self_attention_kind
from attnflow.symbolic.proof import (
    DEFAULT_STEPS,
    Proof,
    combine_exponentials,
    prove_all,
    prove_equal,
    prove_zero,
)
from attnflow.symbolic.result import Result, Step, latex

__all__ = [
    "results",
    "rho_dot_derived",
    "rho_dot_stated",
    "hitting_time_antiderivative",
    "closed_form_beta0",
    "preln_r_dot_stated",
]

TOPIC = "equiangular"
SRC = "arXiv 2512.01868 (equiangular reduction; survey section on high-dimensional clustering)"

n = sp.Symbol("n", positive=True, integer=True)
beta = sp.Symbol("beta", positive=True)
rho = sp.Symbol("rho", real=True)
rho0 = sp.Symbol("rho_0", real=True)
t = sp.Symbol("t", nonnegative=True)
s = sp.Symbol("s", real=True)
eps = sp.Symbol("varepsilon", nonnegative=True)
r = sp.Symbol("r", positive=True)
K = sp.Symbol("K", positive=True)

_DOMAINS = {n: (2, 12), beta: (0.1, 6), rho: (-0.05, 0.95), s: (-0.05, 0.95), t: (0, 3),
            rho0: (-0.05, 0.9), eps: (0.01, 1)}


# --------------------------------------------------------------------------------------------
# derivations


def _softmax(kind: str) -> bool:
    """True for SA, False for USA: ``kind`` is the display label (capitals) of a plain self-attention model."""
    if not isinstance(kind, str) or kind != kind.upper():
        raise ValueError(f"kind: expected a model's display label in capitals ('SA' or 'USA'), got {kind!r}")
    return self_attention_kind(kind.lower(), "kind") == "softmax"


#: The papers' models as stated: SA normalises by the softmax, USA by 1/n.  The statements below are
#: keyed by these names, independently of the declarations (which the derivations use), so that a
#: changed declaration makes the derived and stated forms disagree.
_STATED_SOFTMAX = {"SA": True, "USA": False}


def _stated_softmax(kind: str) -> bool:
    if kind not in _STATED_SOFTMAX:
        raise ValueError(f"kind: expected 'SA' or 'USA' (the stated equiangular models), got {kind!r}")
    return _STATED_SOFTMAX[kind]


def rho_dot_stated(kind: str, *, n_=n, beta_=beta, rho_=rho) -> sp.Expr:
    r"""The equiangular ODE right-hand side as stated (arXiv 2512.01868).

    .. math::

        \mathrm{SA}:\ \dot\rho = \frac{2 e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}},
        \qquad \mathrm{USA}:\ \dot\rho = \frac{2}{n} e^{\beta\rho}(1-\rho)((n-1)\rho+1).

    References
    ----------
    arXiv 2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    core = 2 * sp.exp(beta_ * rho_) * (1 - rho_) * ((n_ - 1) * rho_ + 1)
    if _stated_softmax(kind):
        return core / (sp.exp(beta_) + (n_ - 1) * sp.exp(beta_ * rho_))
    return core / n_


@functools.lru_cache(maxsize=None)
def _particle_velocities(kind: str):
    span = EquiangularSpan(n, rho)
    w = 1 / span.partition(beta) if _softmax(kind) else 1 / n
    vi = span.project(span.xi, w * span.attention_sum(beta, "i"))
    vk = span.project(span.xk, w * span.attention_sum(beta, "k"))
    return span, vi, vk


def rho_dot_derived(kind: str) -> sp.Expr:
    r"""The equiangular ODE obtained from the particle field for general ``n``.

    .. math::

        \dot\rho = \langle \dot x_i, x_k\rangle + \langle x_i, \dot x_k\rangle,\quad
        \dot x_i = P_{x_i}\Big(w_i\big(e^\beta x_i + e^{\beta\rho}(S - x_i)\big)\Big),

    with :math:`w_i = 1/(e^\beta + (n-1)e^{\beta\rho})` (SA) or :math:`1/n` (USA).

    References
    ----------
    arXiv 2312.10794, arXiv 2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    _softmax(kind)  # ValueError unless plain self-attention
    span, vi, vk = _particle_velocities(kind)
    return span.inner(vi, span.xk) + span.inner(span.xi, vk)


def consensus_rate_stated(kind: str, beta_=beta) -> sp.Expr:
    r"""The stated linear decay rate of :math:`\varepsilon = 1-\rho` at consensus.

    .. math::

        \mathrm{SA}:\ \dot\varepsilon = -2\varepsilon + O(\varepsilon^2),\qquad
        \mathrm{USA}:\ \dot\varepsilon = -2e^{\beta}\varepsilon + O(\varepsilon^2).

    References
    ----------
    arXiv 2512.01868 (equiangular reduction); ``derivations/equiangular.md``.
    """
    return sp.Integer(2) if _stated_softmax(kind) else 2 * sp.exp(beta_)


def closed_form_beta0(n_=n, rho0_=rho0, t_=t) -> sp.Expr:
    r"""The stated :math:`\beta = 0` solution.

    .. math::

        \rho(t) = \frac{K e^{2t} - 1}{K e^{2t} + n - 1},\qquad K = \frac{1 + (n-1)\rho_0}{1-\rho_0}.

    References
    ----------
    Derived in ``derivations/equiangular.md`` (equiangular ODE of arXiv 2512.01868).
    """
    k = (1 + (n_ - 1) * rho0_) / (1 - rho0_)
    return (k * sp.exp(2 * t_) - 1) / (k * sp.exp(2 * t_) + n_ - 1)


def hitting_time_antiderivative(s_=s, n_=n, beta_=beta) -> sp.Expr:
    r"""The stated antiderivative of :math:`1/\dot\rho` (SA), so that :math:`t = F(\rho)-F(\rho_0)`.

    .. math::

        F(s) = \frac{1}{2n}\Big[-(n-1)\log(1-s) + (n-1)\log(1+(n-1)s) - \mathrm{Ei}(\beta(1-s))
        + e^{\beta n/(n-1)}\,\mathrm{Ei}\big(-\beta(1+(n-1)s)/(n-1)\big)\Big].

    References
    ----------
    Derived in ``derivations/equiangular.md`` (equiangular ODE of arXiv 2512.01868).
    """
    return (
        -(n_ - 1) * sp.log(1 - s_)
        + (n_ - 1) * sp.log(1 + (n_ - 1) * s_)
        - sp.Ei(beta_ * (1 - s_))
        + sp.exp(beta_ * n_ / (n_ - 1)) * sp.Ei(-beta_ * (1 + (n_ - 1) * s_) / (n_ - 1))
    ) / (2 * n_)


def _constant_in(e: sp.Expr, u: sp.Symbol) -> sp.Expr | None:
    """``e`` with ``u`` eliminated if ``de/du`` reduces exactly to 0 (else ``None``)."""
    e = sp.cancel(e)
    if not e.has(u):
        return e
    de = sp.diff(e, u)
    if not any(fn(de) == 0 for _name, fn, _ops in (_TOGETHER[0], DEFAULT_STEPS[2])):
        return None
    return sp.cancel(combine_exponentials(e.subs(u, 0)))


def _integrate_by_substitution(term: sp.Expr, var: sp.Symbol, u_of_var: sp.Expr) -> sp.Expr:
    """Integrate ``term`` in ``var`` after the linear substitution ``u = u_of_var``."""
    u = sp.Symbol("u", positive=True)
    var_of_u = sp.solve(sp.Eq(u, u_of_var), var)[0]
    g = term.subs(var, var_of_u) * sp.diff(var_of_u, u)
    # the two integrable forms: c/u -> c log u, and c e^u/u -> c Ei(u)
    c_log = _constant_in(g * u, u)
    if c_log is not None:
        return c_log * sp.log(u_of_var)
    c_ei = _constant_in(g * u * sp.exp(-u), u)
    if c_ei is not None:
        return c_ei * sp.Ei(u_of_var)
    raise RuntimeError(f"integrand {g} is neither c/u nor c e^u/u")


def _antiderivative(inv: sp.Expr, var: sp.Symbol) -> sp.Expr:
    r"""Antiderivative of ``inv``, a rational function of ``var`` and E = e^{beta(1-var)}.

    ``inv`` is given with the symbol ``E`` in place of the exponential.  Partial fractions in ``var``
    with E kept as a coefficient; every simple fraction c/(a var + b) is integrated by the
    substitution u = a var + b (a logarithm) or, when it carries E, u = -beta(a var + b)/a (then
    E = const * e^u and the integral is an exponential integral).
    """
    total = sp.Integer(0)
    pf = sp.apart(sp.cancel(inv), var)
    for term in sp.Add.make_args(sp.expand(pf)):
        num, den = sp.fraction(sp.factor(term))
        lin = sp.Mul(*[f for f in sp.Mul.make_args(den) if f.has(var)])
        if sp.Poly(lin, var).degree() != 1:
            raise RuntimeError(f"unexpected partial fraction {term}")
        a = sp.Poly(lin, var).all_coeffs()[0]
        carries_e = term.has(_E)
        term = term.subs(_E, sp.exp(beta * (1 - var)))
        u_expr = -beta * lin / a if carries_e else lin
        total += _integrate_by_substitution(term, var, u_expr)
    return total


_E = sp.Symbol("E", positive=True)

#: a single "together/cancel" step without the preliminary expansion (fast on rational functions)
_TOGETHER = (("together/cancel", lambda e: sp.cancel(sp.together(e)), 10**6),)


@functools.lru_cache(maxsize=None)
def _derived_antiderivative() -> sp.Expr:
    # e^{beta s} = e^beta / E with E = e^{beta(1-s)}: 1/f becomes rational in s and E
    f = rho_dot_derived("SA").subs(rho, s).subs(sp.exp(beta * s), sp.exp(beta) / _E)
    return _antiderivative(sp.cancel(1 / f), s)


# --------------------------------------------------------------------------------------------
# provers


def _sized_gram_cases(kind: str) -> dict[str, sp.Expr]:
    cases: dict[str, sp.Expr] = {}
    for size in (3, 4):
        G = equiangular_gram(size, rho)
        Gdot = gram_velocity(G, beta, kind)
        target = rho_dot_stated(kind, n_=sp.Integer(size))
        for i in range(size):
            cases[f"n={size}, dG[{i},{i}]"] = Gdot[i, i]
            for j in range(i + 1, size):
                cases[f"n={size}, dG[{i},{j}]"] = Gdot[i, j] - target
    return cases


def _prove_ode(kind: str) -> Proof:
    general = prove_equal(rho_dot_derived(kind), rho_dot_stated(kind), domains=_DOMAINS)
    sized = prove_all(_sized_gram_cases(kind), domains=_DOMAINS)
    if general.status == "refuted" or sized.status == "refuted":
        return Proof("refuted", "particle field vs stated ODE",
                     f"general n: {general.detail or general.method}; sizes: {sized.detail}")
    return Proof(
        general.status,
        f"general n via the span of x_i, x_k, S ({general.method}); cross-check: explicit Gram "
        f"matrix for n = 3, 4 ({sized.status}: {sized.method})",
        sized.detail,
    )


def _prove_invariance() -> Proof:
    parts = {}
    for kind in ("SA", "USA"):
        span, vi, _ = _particle_velocities(kind)
        parts[f"{kind}: d<x_i,x_i>/dt"] = 2 * span.inner(vi, span.xi)
    general = prove_all(parts)
    cases = {**{f"SA {k}": v for k, v in _sized_gram_cases("SA").items()},
             **{f"USA {k}": v for k, v in _sized_gram_cases("USA").items()}}
    sized = prove_all(cases, domains=_DOMAINS)
    if general.status != "proved-for-sizes" or sized.status != "proved-for-sizes":
        return Proof.combine([general, sized])
    return Proof(
        "proved",
        "general n: |x_i| preserved (projection, exact) and d<x_i,x_k>/dt is one expression of rho "
        "independent of the pair (i, k), so the equiangular set is invariant for the closed Gram "
        "ODE (uniqueness); cross-check: every entry of dG/dt = CG + GC^T for n = 3, 4 is exact",
        sized.detail,
    )


def _roots_and_sign() -> Proof:
    f = sp.factor(rho_dot_stated("SA"))
    fu = sp.factor(rho_dot_stated("USA"))
    checks = []
    m = sp.Symbol("m", positive=True)  # n = m + 1 >= 2 makes the sign of n - 1 explicit
    for expr in (f, fu):
        num, den = sp.fraction(sp.together(expr))
        poly_part = sp.Mul(*[fa for fa in sp.Mul.make_args(num) if not fa.has(sp.exp)])
        roots = sorted(sp.solve(poly_part, rho), key=sp.default_sort_key)
        checks.append(set(roots) == {sp.Integer(1), -1 / (n - 1)})
        # the remaining factor c = f / ((1-rho)((n-1)rho+1)) is positive
        c = sp.cancel(expr / ((1 - rho) * ((n - 1) * rho + 1)))
        cn, cd = sp.fraction(c)
        checks.append(not c.has(rho - 1) and all(
            sp.expand(x.subs(n, m + 1)).is_positive for x in (cn, cd)))
    # Gram matrix (1-rho) I + rho 11^T: eigenvalues 1 + (n-1) rho (on 1) and 1 - rho (on 1-perp)
    eig_cases = {}
    for size in (3, 4):
        G = equiangular_gram(size, rho)
        ev = G.eigenvals()
        eig_cases[f"n={size}"] = sp.Integer(0) if ev == {1 + (size - 1) * rho: 1, 1 - rho: size - 1} else sp.Integer(1)
    eig = prove_all(eig_cases)
    if not all(checks) or eig.status == "refuted":
        return Proof("refuted", "roots/sign of the equiangular right-hand side", str(checks))
    return Proof(
        "proved",
        "SymPy factorisation: the polynomial factor (1-rho)((n-1)rho+1) has roots 1 and -1/(n-1); "
        "the exponential factors and denominators are positive, so rho increases strictly on "
        "(-1/(n-1), 1) and converges to 1; Gram feasibility rho >= -1/(n-1) from the eigenvalues "
        "1+(n-1)rho, 1-rho (checked exactly for n = 3, 4)",
        eig.detail,
    )


def _prove_rate(kind: str, expected: sp.Expr) -> Proof:
    f = rho_dot_derived(kind)
    # eps = 1 - rho: d eps/dt = -f(1 - eps); linear coefficient at eps = 0
    lin = sp.diff(-f.subs(rho, 1 - eps), eps).subs(eps, 0)
    p = prove_equal(lin, -expected, domains=_DOMAINS)
    # the other fixed point is repelling: f'(-1/(n-1)) > 0
    slope = sp.diff(f, rho).subs(rho, -1 / (n - 1))
    slope_s = sp.factor(sp.cancel(combine_exponentials(slope)))
    if p.status == "refuted":
        return p
    return Proof(p.status, f"d/d(eps) of -f(1-eps) at eps = 0 from the derived field ({p.method})",
                 f"slope at rho = -1/(n-1): {sp.sstr(slope_s)} (> 0, repelling)")


def _closed_form_derived() -> tuple[sp.Expr, sp.Expr]:
    """(1/f at beta = 0, and the solution of the separated equation through rho(0) = rho_0)."""
    f0 = rho_dot_derived("SA").subs(beta, 0)
    prim = _antiderivative(sp.cancel(1 / f0), rho)
    # prim = sum_j c_j log(L_j)  ->  Phi = exp(2 prim) = prod_j L_j^(2 c_j)
    coeffs: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(prim)):
        logs = [a for a in sp.Mul.make_args(term) if isinstance(a, sp.log)]
        if len(logs) != 1:
            raise RuntimeError(f"unexpected antiderivative term {term}")
        arg = sp.factor(logs[0].args[0])
        coeffs[arg] = coeffs.get(arg, 0) + term / logs[0]
    phi = sp.Integer(1)
    for arg in sorted(coeffs, key=sp.default_sort_key):
        phi *= arg ** sp.cancel(2 * coeffs[arg])
    phi = sp.cancel(phi)
    sol = sp.solve(sp.Eq(phi, phi.subs(rho, rho0) * sp.exp(2 * t)), rho)
    if len(sol) != 1:
        raise RuntimeError(f"expected one solution branch, got {sol}")
    return phi, sol[0]


def _prove_closed_form() -> Proof:
    f0 = rho_dot_derived("SA").subs(beta, 0)
    same = prove_equal(f0, rho_dot_derived("USA").subs(beta, 0), domains=_DOMAINS)
    _phi, derived = _closed_form_derived()
    stated = closed_form_beta0()
    agree = prove_equal(derived, stated, domains=_DOMAINS)
    w = sp.Symbol("w", positive=True)  # w = e^{2t}: d/dt = 2 w d/dw keeps everything rational
    stated_w = stated.subs(sp.exp(2 * t), w)
    ode = prove_zero(2 * w * sp.diff(stated_w, w) - f0.subs(rho, stated_w),
                     domains={**_DOMAINS, w: (1, 20)}, steps=_TOGETHER)
    init = prove_zero(stated.subs(t, 0) - rho0, domains=_DOMAINS)
    tanh = prove_zero((stated.subs({n: 2, rho0: 0}) - sp.tanh(t)).rewrite(sp.exp), domains=_DOMAINS)
    out = Proof.combine([same, agree, ode, init, tanh])
    if out.status == "refuted":
        return out
    return Proof(out.status,
                 "separation of variables (partial fractions, logarithms, solve) reproduces the stated "
                 f"formula ({agree.method}); substitution into the ODE ({ode.method}) and rho(0) = rho_0 "
                 f"({init.method}); n = 2, rho_0 = 0 gives tanh t ({tanh.method})")


def _prove_hitting_time() -> Proof:
    F = hitting_time_antiderivative()
    f = rho_dot_stated("SA", rho_=s)
    main = prove_zero(sp.diff(F, s) * f - 1, domains=_DOMAINS, steps=DEFAULT_STEPS[2:3])
    derived = _derived_antiderivative()
    agree = prove_zero(sp.diff(derived - F, s), domains=_DOMAINS)
    # the derived rho-dot is the one whose reciprocal was integrated
    if main.status == "refuted" or agree.status == "refuted":
        return Proof.combine([main, agree])
    return Proof(main.status,
                 f"F'(s) f(s) - 1 ({main.method}); independent antiderivative of 1/f from the particle "
                 f"ODE by partial fractions and the substitutions u = beta(1-s), "
                 f"v = -beta(1+(n-1)s)/(n-1), differs from F by a constant ({agree.method})")


def _bound_rate_identity() -> sp.Expr:
    """Residual of  d eps/dt = -2 eps ((n-1) rho + 1)/(e^{beta eps} + n - 1)  with rho = 1 - eps."""
    f = rho_dot_derived("SA").subs(rho, 1 - eps)
    return -f + 2 * eps * ((n - 1) * (1 - eps) + 1) / (sp.exp(beta * eps) + n - 1)


def _prove_bound() -> Proof:
    ident = prove_zero(_bound_rate_identity(), domains=_DOMAINS)
    if ident.status == "refuted":
        return ident
    return Proof(
        ident.status,
        f"identity d(eps)/dt = -2 eps ((n-1)rho+1)/(e^(beta eps)+n-1) from the derived field "
        f"({ident.method}); monotonicity of rho (equiangular.fixed_points) gives "
        f"(n-1)rho+1 >= q and eps <= 1-rho_0 <= C, hence d(eps)/dt <= -2 lambda eps and "
        f"eps(t) <= (1-rho_0) e^(-2 lambda t) <= C e^(-lambda t) (Gronwall)",
        "the bound holds with room to spare: the proof gives rate 2 lambda",
    )


@functools.lru_cache(maxsize=None)
def _preln():
    span = EquiangularSpan(n, rho)
    Z = span.partition(beta)
    Ai = span.attention_sum(beta, "i") / Z
    Ak = span.attention_sum(beta, "k") / Z
    r_dot = span.inner(span.xi, Ai)
    rho_dot = (span.inner(span.project(span.xi, Ai), span.xk)
               + span.inner(span.xi, span.project(span.xk, Ak))) / r
    return r_dot, rho_dot


def preln_r_dot_stated() -> sp.Expr:
    r"""Stated common-radius velocity of the reduced Pre-LN system.

    .. math:: \dot r = \frac{e^\beta + (n-1)\rho e^{\beta\rho}}{e^\beta + (n-1)e^{\beta\rho}}.

    References
    ----------
    arXiv 2510.22026 (Pre-LN); reduced system derived in ``derivations/equiangular.md``.
    """
    return (sp.exp(beta) + (n - 1) * rho * sp.exp(beta * rho)) / (sp.exp(beta) + (n - 1) * sp.exp(beta * rho))


def _prove_preln() -> Proof:
    r_dot, rho_dot = _preln()
    a = prove_equal(r_dot, preln_r_dot_stated(), domains={**_DOMAINS, r: (0.5, 5)})
    b = prove_equal(rho_dot, rho_dot_stated("SA") / r, domains={**_DOMAINS, r: (0.5, 5)})
    out = Proof.combine([a, b])
    if out.status == "refuted":
        return out
    return Proof(out.status, f"dr/dt = <theta_i, A_i> ({a.method}); d rho/dt = (1/r)(<P A_i, theta_k> + "
                 f"<theta_i, P A_k>) ({b.method}); both are the same for every i, so a common radius "
                 "and equiangularity persist")


def _preln_g_h():
    r_dot, rho_dot = _preln()
    g = sp.cancel(combine_exponentials((rho_dot * r).subs(rho, 1 - eps) / eps))
    h = sp.cancel(combine_exponentials((1 - r_dot).subs(rho, 1 - eps) / eps))
    return g, h


def _prove_preln_rate() -> Proof:
    g, h = _preln_g_h()
    g0 = prove_zero(g.subs(eps, 0) - 2)
    h_pos = sp.factor(h)
    k = (2 - g - 2 * eps * h) / eps
    k0 = sp.limit(k, eps, 0)
    finite = k0.is_finite is not False and not k0.has(sp.oo, sp.zoo, sp.nan)
    ansatz = prove_zero(sp.diff(K / t**2, t) + 2 * (K / t**2) / t)
    ok = g0.status == "proved" and ansatz.status == "proved" and finite
    if not ok:
        return Proof("refuted", "asymptotic balance", f"g(0) - 2: {g0.detail}; k(0) = {k0}")
    return Proof(
        "proved",
        "SymPy: g(0) = 2 for d eps/dt = -g(eps) eps / r, dr/dt = 1 - h(eps) eps with h > 0 bounded, "
        "k(eps) = (2 - g - 2 eps h)/eps has the finite limit k(0); with these, the comparison "
        "argument of the derivation steps gives log(eps r^2) convergent and r/t -> 1",
        f"k(0) = {sp.sstr(sp.factor(k0))}; h = {sp.sstr(h_pos)}",
    )


# --------------------------------------------------------------------------------------------
# results


def _eq(lhs, rhs) -> str:
    return latex(lhs) + " = " + latex(rhs)


def results() -> list[Result]:
    """The results of the ``equiangular`` document (proofs are computed lazily)."""
    rd = sp.Symbol(r"\dot\rho")
    S = sp.Symbol("S")
    span_steps = (
        Step("Equiangular unit tokens: the attention sum of token i splits into its own term and the "
             "n-1 others, all at inner product rho; S is the sum of all tokens.",
             r"\sum_j e^{\beta\langle x_i,x_j\rangle}x_j = e^{\beta}x_i + e^{\beta\rho}(S - x_i),\quad "
             r"Z_i = e^\beta + (n-1)e^{\beta\rho}"),
        Step("Counting inner products gives the Gram matrix of (x_i, x_k, S).",
             r"\langle S, x_k\rangle = 1+(n-1)\rho,\qquad |S|^2 = n + n(n-1)\rho"),
        Step("Project onto the tangent space and differentiate the inner product.",
             r"\dot\rho = \langle P_{x_i} f_i, x_k\rangle + \langle x_i, P_{x_k} f_k\rangle"),
    )
    f_sa = rho_dot_stated("SA")
    f_usa = rho_dot_stated("USA")
    out = [
        Result(
            id="equiangular.invariance",
            title="Equiangular configurations stay equiangular",
            topic=TOPIC,
            statement=r"\langle x_i(0),x_j(0)\rangle=\rho_0\ (i\neq j)\ \Longrightarrow\ "
                      r"\langle x_i(t),x_j(t)\rangle=\rho(t)\ \text{for all } i\neq j,\ \text{SA and USA}",
            source=SRC,
            prover=_prove_invariance,
            steps=span_steps + (
                Step("The Gram matrix obeys a closed ODE: each velocity is a combination of the tokens "
                     "with coefficients that depend on the Gram matrix only.",
                     r"\dot x_i = \sum_j C_{ij}(G)\,x_j,\qquad \dot G = CG + GC^{\mathsf T}"),
                Step("At an equiangular G the diagonal of dG/dt vanishes and every off-diagonal entry "
                     "is the same function of rho, so the vector field of the Gram ODE is tangent to "
                     "the equiangular family; uniqueness keeps the solution in it."),
            ),
        ),
        Result(
            id="equiangular.ode.sa",
            title="Equiangular ODE, SA",
            topic=TOPIC,
            statement=_eq(rd, f_sa),
            source=SRC,
            prover=lambda: _prove_ode("SA"),
            steps=span_steps + (
                Step("Derived from the particle field (general n), after cancelling:",
                     _eq(rd, sp.factor(sp.cancel(rho_dot_derived("SA"))))),
            ),
        ),
        Result(
            id="equiangular.ode.usa",
            title="Equiangular ODE, USA",
            topic=TOPIC,
            statement=_eq(rd, f_usa),
            source=SRC,
            prover=lambda: _prove_ode("USA"),
            steps=span_steps + (
                Step("Same computation with the weight 1/n instead of 1/Z_i:",
                     _eq(rd, sp.factor(sp.cancel(rho_dot_derived("USA"))))),
            ),
        ),
        Result(
            id="equiangular.fixed_points",
            title="Fixed points and basin of consensus",
            topic=TOPIC,
            statement=r"\dot\rho = 0 \iff \rho\in\{1,\,-\tfrac{1}{n-1}\};\qquad (n-1)\rho_0+1>0,\ "
                      r"\rho_0<1\ \Longrightarrow\ \rho(t)\uparrow 1",
            source=SRC,
            prover=_roots_and_sign,
            steps=(
                Step("Factor the right-hand side (SA shown; USA has the constant denominator n).",
                     _eq(rd, sp.factor(f_sa))),
                Step("An equiangular Gram matrix is positive semidefinite iff -1/(n-1) <= rho <= 1 "
                     "(eigenvalues on the all-ones vector and its complement).",
                     r"\operatorname{spec}\big((1-\rho)I+\rho\mathbf 1\mathbf 1^{\mathsf T}\big)"
                     r"=\{1+(n-1)\rho,\ 1-\rho\}"),
            ),
        ),
        Result(
            id="equiangular.rate.sa",
            title="Linearisation at consensus, SA: rate 2",
            topic=TOPIC,
            statement=r"\varepsilon = 1-\rho:\quad \dot\varepsilon = -2\varepsilon + O(\varepsilon^2)",
            source=SRC,
            prover=lambda: _prove_rate("SA", consensus_rate_stated("SA")),
            steps=(Step("Differentiate the derived right-hand side at rho = 1; the factor e^beta n "
                        "cancels between numerator and Z = n e^beta.",
                        r"\frac{d}{d\varepsilon}\Big[-\dot\rho(1-\varepsilon)\Big]_{\varepsilon=0}"
                        r" = -\frac{2 e^\beta n}{n e^\beta} = -2"),),
        ),
        Result(
            id="equiangular.rate.usa",
            title="Linearisation at consensus, USA: rate 2 e^beta",
            topic=TOPIC,
            statement=r"\varepsilon = 1-\rho:\quad \dot\varepsilon = -2e^{\beta}\varepsilon + O(\varepsilon^2)",
            source=SRC,
            prover=lambda: _prove_rate("USA", consensus_rate_stated("USA")),
            steps=(Step("Differentiate the derived right-hand side at rho = 1.",
                        r"\frac{d}{d\varepsilon}\Big[-\dot\rho(1-\varepsilon)\Big]_{\varepsilon=0}"
                        r" = -\frac{2}{n}e^{\beta}n"),),
        ),
        Result(
            id="equiangular.closed_form.beta0",
            title="Closed form at beta = 0",
            topic=TOPIC,
            statement=r"\rho(t) = \frac{K e^{2t}-1}{K e^{2t}+n-1},\qquad K = \frac{1+(n-1)\rho_0}{1-\rho_0}",
            source=SRC + "; closed form derived here; SA = USA at beta = 0",
            prover=_prove_closed_form,
            steps=(
                Step("At beta = 0 both derived ODEs coincide; partial fractions:",
                     r"\frac{1}{\dot\rho} = \frac{n}{2(1-\rho)(1+(n-1)\rho)} = \frac12\Big[\frac{1}{1-\rho}"
                     r"+\frac{n-1}{1+(n-1)\rho}\Big]"),
                Step("Integrate and exponentiate; rho(0) = rho_0 fixes the constant.",
                     r"\frac{1+(n-1)\rho}{1-\rho} = K e^{2t}"),
                Step("Solve for rho; n = 2, rho_0 = 0 gives tanh t."),
            ),
        ),
        Result(
            id="equiangular.hitting_time",
            title="SA hitting time through the exponential integral",
            topic=TOPIC,
            statement=r"t(\rho_0\to\rho) = F(\rho)-F(\rho_0),\quad F(s) = " + latex(hitting_time_antiderivative()),
            source=SRC + "; Ei formula derived here",
            prover=_prove_hitting_time,
            steps=(
                Step("Partial fractions of 1/rho-dot with E = e^{beta(1-s)} kept as a coefficient:",
                     r"\frac{1}{\dot\rho} = \frac{E+n-1}{2n}\Big[\frac{1}{1-s}+\frac{n-1}{1+(n-1)s}\Big]"),
                Step("The E-terms integrate by u = beta(1-s) and v = -beta(1+(n-1)s)/(n-1); note "
                     "E = e^{beta n/(n-1)} e^{v}.",
                     r"\int\frac{E\,ds}{1-s} = -\operatorname{Ei}(u),\qquad "
                     r"\int\frac{(n-1)E\,ds}{1+(n-1)s} = e^{\beta n/(n-1)}\operatorname{Ei}(v)"),
                Step("Branches: for -1/(n-1) < s < 1 and beta > 0, u > 0 and v < 0; both Ei values are "
                     "real (Ei(v) = -E_1(-v)); F(s) -> +infinity as s -> 1 (Ei(u) ~ log u, so "
                     "consensus is reached only as t -> infinity). At beta = 0 the formula degenerates "
                     "(Ei(0) = -infinity); use equiangular.closed_form.beta0."),
                Step("Along the ODE dF(rho(t))/dt = F'(rho) rho-dot = 1, hence the hitting time."),
            ),
            notes="SymPy's plain `simplify` does not reduce F'·f − 1 to 0; the exponentials "
                  "e^{βn/(n−1)}·e^{−β(1+(n−1)s)/(n−1)} must first be merged into e^{β(1−s)} "
                  "(the *combine exponentials* step).",
        ),
        Result(
            id="equiangular.bound",
            title="Explicit exponential bound for SA",
            topic=TOPIC,
            statement=r"1-\rho(t)\le C e^{-\lambda t},\quad C=\max(1-\rho_0,1),\ "
                      r"\lambda=\frac{q}{e^{\beta C}+n-1},\ q=\min((n-1)\rho_0+1,1),\ "
                      r"\text{for } -\tfrac{1}{n-1}<\rho_0<1",
            source="arXiv 2512.01868 (explicit equiangular bound)",
            prover=_prove_bound,
            steps=(
                Step("With eps = 1 - rho the derived SA field reads",
                     r"\dot\varepsilon = -\frac{2\varepsilon\,((n-1)\rho+1)}{e^{\beta\varepsilon}+n-1}"),
                Step("rho is non-decreasing (equiangular.fixed_points), so (n-1)rho+1 >= (n-1)rho_0+1 >= q "
                     "and 0 <= eps <= 1-rho_0 <= C, hence e^{beta eps} <= e^{beta C}.",
                     r"\dot\varepsilon \le -2\lambda\varepsilon"),
                Step("Gronwall: eps(t) <= (1-rho_0) e^{-2 lambda t} <= C e^{-lambda t}."),
            ),
            notes="The stated bound is true but not sharp: the same argument gives the rate 2λ. The "
                  "tests integrate the ODE (scipy, rtol 1e-11) on drawn (n, β, ρ₀) and check "
                  "1 − ρ(t) ≤ C e^{−λt} on a time grid.",
        ),
        Result(
            id="normalization.preln_reduced",
            title="Reduced Pre-LN system for equiangular starts with a common radius",
            topic=TOPIC,
            statement=r"\dot\rho = \frac{F_{SA}(\rho)}{r},\qquad \dot r = " + latex(preln_r_dot_stated()),
            source="arXiv 2510.22026 (Pre-LN dynamics); reduced system derived here",
            prover=_prove_preln,
            steps=(
                Step("Pre-LN in polar form (arXiv 2510.22026): x_i = r_i theta_i with",
                     r"\dot\theta_i = r_i^{-1}P_{\theta_i}A_i,\quad \dot r_i = \langle\theta_i, A_i\rangle,\quad "
                     r"A_i = Z_i^{-1}\sum_j e^{\beta\langle\theta_i,\theta_j\rangle}\theta_j"),
                Step("For equiangular directions A_i is computed in the span of theta_i, theta_k, S as "
                     "for SA; the radial part is the same for every i, so equal radii stay equal.",
                     _eq(sp.Symbol(r"\dot r"), sp.factor(sp.cancel(_preln()[0])))),
            ),
        ),
        Result(
            id="normalization.preln_rate",
            title="Pre-LN consensus is algebraic: 1 - rho ~ C/t^2 (Post-LN: C e^{-2t})",
            topic=TOPIC,
            statement=r"-\tfrac{1}{n-1}<\rho_0<1,\ r_0>0:\quad t^2\,(1-\rho(t))\to L\in(0,\infty),\quad "
                      r"r(t)/t\to 1",
            source="arXiv 2510.22026 (normalisation and clustering speed)",
            prover=_prove_preln_rate,
            steps=(
                Step("Write the reduced system with eps = 1 - rho:",
                     r"\dot\varepsilon = -\frac{g(\varepsilon)\,\varepsilon}{r},\quad "
                     r"\dot r = 1 - h(\varepsilon)\,\varepsilon,\quad g(0)=2,\ "
                     r"h = \frac{(n-1)e^{\beta\rho}}{e^\beta+(n-1)e^{\beta\rho}}\in(0,1)"),
                Step("dr/dt > 0 (since e^beta + (n-1) rho e^{beta rho} >= e^beta - e^{beta rho} > 0) and "
                     "dr/dt <= 1, so r <= r_0 + t; as F_SA > 0 on the basin and the integral of 1/(r_0+t) "
                     "diverges, rho -> 1. Then dr/dt -> 1, so r/t -> 1."),
                Step("Eventually g >= 1, so eps <= C'/(r_0+t) and eps/r = O(t^{-2}) is integrable."),
                Step("Leading-order balance: with r ~ t, d eps/dt ~ -2 eps/t, solved by C/t^2; exactly,",
                     r"\frac{d}{dt}\log(\varepsilon r^2) = \frac{2-g(\varepsilon)-2h(\varepsilon)\varepsilon}{r}"
                     r" = k(\varepsilon)\frac{\varepsilon}{r},\quad k\ \text{bounded}"),
                Step("Hence log(eps r^2) converges, eps r^2 -> L in (0, infinity) and t^2 eps -> L. For "
                     "Post-LN (= SA) the rate is exponential, see equiangular.rate.sa."),
            ),
            notes="The numerical constant t²(1−ρ) → 3.736 (n = 8, β = 2, ρ₀ = 0, r₀ = 1), quoted from a "
                  "numerical run made for this project, is re-measured in the tests by integrating the reduced "
                  "system (scipy).",
        ),
    ]
    return out
