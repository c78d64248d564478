"""Proof status and a reusable "prove this expression is zero" routine.

Every symbolic result in attnflow carries an honest :class:`Proof`:

``proved``
    SymPy reduces the identity to exactly 0 for general symbols (general n, d, beta).
``proved-for-sizes``
    exact SymPy reduction to 0 for every listed concrete size (e.g. all n <= 4, d <= 3).
``verified-numerically``
    mpmath evaluation at >= 50 significant digits on >= 20 random points (seed recorded)
    gives residuals below the precision floor; not a proof.
``refuted``
    the stated formula is wrong; the detail names a counterexample.

:func:`prove_zero` tries a fixed sequence of rewrites (each one is a named *step*) and, if none
closes the identity, falls back to high-precision random evaluation.  It reports which step
succeeded, so documents can say *how* an identity was established.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Mapping, Sequence

import mpmath
import sympy as sp

__all__ = [
    "STATUSES",
    "Proof",
    "prove_zero",
    "prove_equal",
    "prove_all",
    "combine_exponentials",
    "DEFAULT_STEPS",
]

#: Proof statuses from strongest to weakest.
STATUSES = ("proved", "proved-for-sizes", "verified-numerically", "refuted")


@dataclasses.dataclass(frozen=True)
class Proof:
    """Outcome of establishing (or refuting) one symbolic identity.

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    method : str
        Human-readable account of how the status was obtained (the rewrite step that reduced the
        residual to zero, or the numerical protocol with its seed).
    detail : str
        Extra information: residual size, counterexample point, sizes covered.
    """

    status: str
    method: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def ok(self) -> bool:
        """True unless the identity was refuted."""
        return self.status != "refuted"

    @staticmethod
    def combine(proofs: Sequence["Proof"], *, method: str | None = None) -> "Proof":
        """Combine the proofs of the parts of one result: the weakest status wins.

        Methods are joined with ``"; "`` unless ``method`` is given.
        """
        if not proofs:
            raise ValueError("combine needs at least one proof")
        worst = max(proofs, key=lambda p: STATUSES.index(p.status))
        methods = method if method is not None else "; ".join(dict.fromkeys(p.method for p in proofs))
        details = "; ".join(d for d in dict.fromkeys(p.detail for p in proofs) if d)
        if worst.status == "refuted":
            details = worst.detail
        return Proof(worst.status, methods, details)


# --------------------------------------------------------------------------------------------
# rewrite steps


def _canonical_exponents(e: sp.Expr) -> sp.Expr:
    return e.replace(lambda a: isinstance(a, sp.exp), lambda a: sp.exp(sp.cancel(a.args[0])))


def combine_exponentials(expr: sp.Expr) -> sp.Expr:
    """Merge products of exponentials and put every exponent in canonical rational form.

    Products ``exp(a) * exp(b)`` become ``exp(a + b)`` with the exponent brought to the normal
    form of :func:`sympy.cancel`, so e.g. ``exp(b n/(n-1)) exp(-b (1 + (n-1) s)/(n-1))`` becomes
    ``exp(b - b s)``.  The expression is then put over a common denominator and the numerator is
    expanded *without* splitting exponentials again, and merged once more, so that equal
    exponential atoms cancel.  Returns ``numerator / denominator``.
    """
    e = sp.expand(expr, power_exp=False)
    e = _canonical_exponents(sp.powsimp(e, combine="exp"))
    num, den = sp.fraction(sp.together(e))
    num = sp.expand(num, power_exp=False)
    num = _canonical_exponents(sp.powsimp(num, combine="exp"))
    num = sp.expand(num, power_exp=False)
    return num / den


def _expand(e: sp.Expr) -> sp.Expr:
    return sp.expand(e)


def _cancel(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(sp.expand(e)))


def _trig(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.trigsimp(sp.expand_trig(sp.expand(e))))


def _special(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(sp.expand(sp.expand_func(sp.hyperexpand(e)))))


def _simplify(e: sp.Expr) -> sp.Expr:
    return sp.simplify(e)


#: The default rewrite sequence: (name, function, max operation count the step is tried on).
DEFAULT_STEPS: tuple[tuple[str, Callable[[sp.Expr], sp.Expr], int], ...] = (
    ("expand", _expand, 10**9),
    ("together/cancel", _cancel, 20000),
    ("combine exponentials", combine_exponentials, 20000),
    ("trigonometric rewrite", _trig, 5000),
    ("special-function expansion", _special, 5000),
    ("simplify", _simplify, 1500),
)


def _is_exact_zero(e: sp.Expr) -> bool:
    return e == 0 or e.is_zero is True


# --------------------------------------------------------------------------------------------
# numerical fallback

Domain = tuple[float, float] | Sequence[float] | Callable[[random.Random], float]


def _draw(domain: Domain, rng: random.Random) -> mpmath.mpf:
    if callable(domain):
        return mpmath.mpf(domain(rng))
    lo, hi = domain  # type: ignore[misc]
    return mpmath.mpf(lo) + (mpmath.mpf(hi) - mpmath.mpf(lo)) * mpmath.mpf(rng.random())


def _numeric_check(
    expr: sp.Expr,
    domains: Mapping[sp.Symbol, Domain],
    *,
    digits: int,
    points: int,
    seed: int,
) -> Proof:
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    missing = [s for s in symbols if s not in domains]
    if missing:
        raise ValueError(
            f"domains: no sampling range for symbol(s) {', '.join(map(str, missing))}; "
            "pass domains={symbol: (lo, hi)} for every free symbol"
        )
    terms = sp.Add.make_args(sp.expand(expr)) if expr.is_Add else (expr,)
    f_total = sp.lambdify(symbols, expr, modules="mpmath")
    f_terms = [sp.lambdify(symbols, t, modules="mpmath") for t in terms]
    rng = random.Random(seed)
    worst_rel = mpmath.mpf(0)
    worst_point: dict[str, str] = {}
    with mpmath.workdps(digits):
        floor = mpmath.mpf(10) ** (-(digits - 15))
        for _ in range(points):
            vals = [_draw(domains[s], rng) for s in symbols]
            r = f_total(*vals)
            scale = max([mpmath.mpf(1)] + [abs(g(*vals)) for g in f_terms])
            rel = abs(r) / scale
            if rel > worst_rel:
                worst_rel = rel
                worst_point = {s.name: mpmath.nstr(v, 8) for s, v in zip(symbols, vals)}
            if rel > floor:
                pt = ", ".join(f"{k}={v}" for k, v in worst_point.items())
                return Proof(
                    "refuted",
                    f"mpmath evaluation at {digits} digits (seed {seed})",
                    f"residual/scale = {mpmath.nstr(rel, 3)} at {pt}",
                )
    return Proof(
        "verified-numerically",
        f"mpmath at {digits} digits on {points} random points (seed {seed})",
        f"max residual/scale = {mpmath.nstr(worst_rel, 3)}",
    )


def prove_zero(
    expr: sp.Expr,
    *,
    domains: Mapping[sp.Symbol, Domain] | None = None,
    steps: Iterable[tuple[str, Callable[[sp.Expr], sp.Expr], int]] = DEFAULT_STEPS,
    digits: int = 50,
    points: int = 20,
    seed: int = 0,
) -> Proof:
    r"""Establish :math:`\mathrm{expr} \equiv 0`, by rewriting or by high-precision sampling.

    The rewrite steps are tried in order, each on the original expression; the first one whose
    result is structurally zero gives ``status="proved"`` and ``method="<step name> -> 0"``.
    If none does, the expression is evaluated with mpmath at ``digits`` significant digits on
    ``points`` random points drawn from ``domains`` (``random.Random(seed)``): a residual below
    ``10**-(digits-15)`` relative to the largest term at every point gives
    ``"verified-numerically"``; otherwise ``"refuted"`` with the offending point.

    Parameters
    ----------
    expr : sympy.Expr
        The residual (left side minus right side).
    domains : mapping, optional
        ``{symbol: (lo, hi)}`` (uniform draw) or ``{symbol: callable(rng) -> float}`` for each
        free symbol; required only if the numerical fallback is reached.
    steps : iterable
        ``(name, rewrite, max_ops)`` triples; a step is skipped when the expression has more
        than ``max_ops`` operations (keeps ``simplify`` from running for minutes).
    digits, points, seed : int
        Numerical fallback protocol (defaults: 50 digits, 20 points, seed 0).

    Returns
    -------
    Proof
    """
    expr = sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr
    if _is_exact_zero(expr):
        return Proof("proved", "identically 0 as constructed")
    ops = sp.count_ops(expr)
    for name, fn, max_ops in steps:
        if ops > max_ops:
            continue
        try:
            reduced = fn(expr)
        except (NotImplementedError, RecursionError, TypeError, ValueError):
            continue
        if _is_exact_zero(reduced):
            return Proof("proved", f"{name} -> 0")
    if domains is None:
        domains = {}
    return _numeric_check(expr, domains, digits=digits, points=points, seed=seed)


def prove_equal(lhs: sp.Expr, rhs: sp.Expr, **kwargs) -> Proof:
    """:func:`prove_zero` applied to ``lhs - rhs``."""
    return prove_zero(sp.sympify(lhs) - sp.sympify(rhs), **kwargs)


def prove_all(cases: Mapping[str, sp.Expr], **kwargs) -> Proof:
    """Prove every residual in ``cases`` (label -> residual) is zero.

    If all are proved exactly the status is ``proved-for-sizes`` (the labels name the sizes);
    otherwise the weakest status wins (see :meth:`Proof.combine`).
    """
    proofs = {label: prove_zero(e, **kwargs) for label, e in cases.items()}
    labels = ", ".join(proofs)
    if all(p.status == "proved" for p in proofs.values()):
        methods = sorted(set(p.method for p in proofs.values()))
        return Proof("proved-for-sizes", "exact reduction for each size (" + "; ".join(methods) + ")",
                     f"sizes: {labels}")
    bad = [f"{k}: {p.detail}" for k, p in proofs.items() if p.status == "refuted"]
    combined = Proof.combine(list(proofs.values()))
    if bad:
        return Proof("refuted", combined.method, "; ".join(bad))
    return Proof(combined.status, combined.method, f"sizes: {labels}; {combined.detail}")
