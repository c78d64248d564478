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

Time budgets
------------
Every rewrite step runs under a time budget (``step_budget`` seconds, default
:data:`STEP_BUDGET`) and all steps together under ``budget`` (default :data:`BUDGET`).  A step that
runs out of time is abandoned, named in :attr:`Proof.attempts` and in the proof's detail, and the
routine moves on -- in the end to the numerical check -- instead of hanging.  In the main thread
the step is interrupted by ``SIGALRM`` (``signal.setitimer``; SymPy is pure Python, so the
interruption lands between two bytecodes).  In any other thread (a Dask worker, a thread pool) and
on platforms without ``setitimer`` no signal can be used: the budgets are then checked *between*
steps only (a step that has started runs to its end; the steps after an exhausted budget are
skipped).  An interrupted step leaves no state behind: SymPy caches results only on return.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import mpmath
import sympy as sp

from attnflow._base.display import html_table, short

__all__ = [
    "STATUSES",
    "Proof",
    "prove_zero",
    "prove_equal",
    "prove_all",
    "combine_exponentials",
    "DEFAULT_STEPS",
    "Attempt",
    "STEP_BUDGET",
    "BUDGET",
]

#: Default time budget of one rewrite step of :func:`prove_zero`, in seconds.
STEP_BUDGET = 60.0
#: Default time budget of all rewrite steps of one :func:`prove_zero` call, in seconds.
BUDGET = 180.0

#: Proof statuses from strongest to weakest.
STATUSES = ("proved", "proved-for-sizes", "verified-numerically", "refuted")


@dataclasses.dataclass(frozen=True)
class Attempt:
    """What one rewrite step of :func:`prove_zero` did.

    Attributes
    ----------
    step : str
        The step's name (e.g. ``"expand"``).
    outcome : str
        ``"zero"`` (closed the identity), ``"nonzero"`` (finished without reaching 0),
        ``"skipped: too large"`` (more operations than the step's limit), ``"error"`` (SymPy
        raised), ``"timeout"`` (ran out of its time budget), ``"skipped: budget exhausted"``.
    seconds : float
        Wall time spent in the step (not part of equality; never printed into documents).
    """

    step: str
    outcome: str
    seconds: float = dataclasses.field(default=0.0, compare=False)


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
    attempts : tuple of Attempt
        The rewrite steps :func:`prove_zero` ran and their outcomes (a step that ran out of its
        time budget has outcome ``"timeout"``); not part of equality.
    """

    status: str
    method: str
    detail: str = ""
    attempts: tuple[Attempt, ...] = dataclasses.field(default=(), compare=False, repr=False)

    @property
    def timed_out(self) -> tuple[str, ...]:
        """Names of the rewrite steps that ran out of their time budget (or were skipped because the
        overall budget was exhausted)."""
        return tuple(a.step for a in self.attempts if a.outcome in ("timeout", "skipped: budget exhausted"))

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def ok(self) -> bool:
        """True unless the identity was refuted."""
        return self.status != "refuted"

    # -- notebook display --
    def __repr__(self) -> str:
        steps = f", {len(self.attempts)} rewrite steps" if self.attempts else ""
        return f"Proof({self.status}, {short(self.method)!r}{steps})"

    def _repr_html_(self) -> str:
        """A short table: status, method, detail and the rewrite steps with their outcomes."""
        steps = ", ".join(f"{a.step}: {a.outcome}" for a in self.attempts)
        return html_table([("status", self.status), ("method", self.method), ("detail", self.detail),
                           ("rewrite steps", steps)], "Proof")

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
        attempts = tuple(a for p in proofs for a in p.attempts)
        return Proof(worst.status, methods, details, attempts)


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
    expand_seconds: float = STEP_BUDGET,
) -> Proof:
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    missing = [s for s in symbols if s not in domains]
    if missing:
        raise ValueError(
            f"domains: no sampling range for symbol(s) {', '.join(map(str, missing))}; "
            "pass domains={symbol: (lo, hi)} for every free symbol"
        )
    terms = (expr,)
    if expr.is_Add:  # the scale is the largest expanded term; the top-level terms if expanding runs out of time
        outcome, expanded = _run_step(sp.expand, expr, expand_seconds)
        terms = sp.Add.make_args(expanded if outcome in ("zero", "nonzero") else expr)
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


class _StepTimeout(BaseException):
    """Raised by the ``SIGALRM`` handler inside a rewrite step (a BaseException, so that SymPy's own
    ``except Exception`` clauses cannot swallow it)."""


def _can_interrupt() -> bool:
    return (hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
            and threading.current_thread() is threading.main_thread())


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[object | None]:
    """Raise :class:`_StepTimeout` in the block after ``seconds`` (main thread; no-op elsewhere).

    Yields the token the exception will carry (``None`` when no timer was installed).  An alarm
    timer already running (an outer step's, or someone else's) is left in charge when it fires
    first, and is re-armed with its remaining time afterwards; so nested calls each catch only
    their own timeout.
    """
    if not _can_interrupt():
        yield None
        return
    old_handler = signal.getsignal(signal.SIGALRM)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_REAL)
    if old_delay > 0 and old_delay <= seconds:  # an outer alarm fires first: leave it alone
        yield None
        return
    token = object()
    armed = [True]

    def handler(signum, frame):
        if armed[0]:
            raise _StepTimeout(token)

    t0 = time.monotonic()
    signal.signal(signal.SIGALRM, handler)
    # the alarm repeats every 50 ms until the block is left: a handler that happens to run inside a
    # finaliser (``__del__``, a gc callback) has its exception swallowed ("Exception ignored in ..."),
    # and a one-shot alarm would then never interrupt the step
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3), 0.05)
    try:
        yield token
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - (time.monotonic() - t0), 1e-3), old_interval)


def _run_step(fn: Callable[[sp.Expr], sp.Expr], expr: sp.Expr, seconds: float) -> tuple[str, sp.Expr | None]:
    """``(outcome, result)`` of one rewrite step under a time limit."""
    token = None
    try:
        with _deadline(seconds) as token:
            try:
                reduced = fn(expr)
                return ("zero" if _is_exact_zero(reduced) else "nonzero"), reduced
            except (NotImplementedError, RecursionError, TypeError, ValueError):
                return "error", None
    except _StepTimeout as exc:
        if token is None or exc.args[0] is not token:  # an outer budget ran out: not ours to handle
            raise
        return "timeout", None


def _as_expr(expr, what: str = "expr") -> sp.Basic:
    """A SymPy object from ``expr`` without ever parsing text (numbers are converted, strings refused)."""
    if isinstance(expr, str):
        raise ValueError(f"{what}: expected a SymPy expression, got the string {expr[:40]!r}; strings are never "
                         "parsed (sympify would execute them) -- build the expression with SymPy objects")
    if isinstance(expr, sp.Basic):
        return expr
    try:
        return sp.sympify(expr, strict=True)
    except sp.SympifyError:
        raise ValueError(f"{what}: expected a SymPy expression or a number, got {type(expr).__name__}") from None


def _budget(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value != value:
        raise ValueError(f"{what}: a time budget is a positive number of seconds, got {value!r}")
    return float(value)


def prove_zero(
    expr: sp.Expr,
    *,
    domains: Mapping[sp.Symbol, Domain] | None = None,
    steps: Iterable[tuple[str, Callable[[sp.Expr], sp.Expr], int]] = DEFAULT_STEPS,
    digits: int = 50,
    points: int = 20,
    seed: int = 0,
    step_budget: float = STEP_BUDGET,
    budget: float = BUDGET,
) -> Proof:
    r"""Establish :math:`\mathrm{expr} \equiv 0`, by rewriting or by high-precision sampling.

    The rewrite steps are tried in order, each on the original expression; the first one whose
    result is structurally zero gives ``status="proved"`` and ``method="<step name> -> 0"``.
    If none does, the expression is evaluated with mpmath at ``digits`` significant digits on
    ``points`` random points drawn from ``domains`` (``random.Random(seed)``): a residual below
    ``10**-(digits-15)`` relative to the largest term at every point gives
    ``"verified-numerically"``; otherwise ``"refuted"`` with the offending point.

    Each step runs under a time budget (see the module docstring): a step that runs out of time
    is abandoned and recorded (:attr:`Proof.attempts`, :attr:`Proof.timed_out`, and the detail
    ``"step 'expand' exceeded its time budget (2 s)"``), so the call returns after about
    ``budget`` seconds plus the numerical check instead of hanging.

    Parameters
    ----------
    expr : sympy.Expr
        The residual (left side minus right side); a number is accepted, a ``str`` is refused with
        ``ValueError`` (text is never parsed).
    domains : mapping, optional
        ``{symbol: (lo, hi)}`` (uniform draw) or ``{symbol: callable(rng) -> float}`` for each
        free symbol; required only if the numerical fallback is reached.
    steps : iterable
        ``(name, rewrite, max_ops)`` triples; a step is skipped when the expression has more
        than ``max_ops`` operations (keeps ``simplify`` from running for minutes).
    digits, points, seed : int
        Numerical fallback protocol (defaults: 50 digits, 20 points, seed 0).
    step_budget : float
        Seconds one rewrite step may run (default :data:`STEP_BUDGET`).  Interrupted by
        ``SIGALRM`` in the main thread; elsewhere checked between steps only.
    budget : float
        Seconds all rewrite steps together may run (default :data:`BUDGET`); a step never gets
        more than what is left of it, and the steps after it is exhausted are skipped.

    Returns
    -------
    Proof
    """
    expr = _as_expr(expr)
    step_budget = _budget(step_budget, "step_budget")
    budget = _budget(budget, "budget")
    if _is_exact_zero(expr):
        return Proof("proved", "identically 0 as constructed")
    t_start = time.monotonic()
    ops = sp.count_ops(expr)
    attempts: list[Attempt] = []
    for name, fn, max_ops in steps:
        if ops > max_ops:
            attempts.append(Attempt(name, "skipped: too large"))
            continue
        left = budget - (time.monotonic() - t_start)
        if left <= 0:
            attempts.append(Attempt(name, "skipped: budget exhausted"))
            continue
        limit = min(step_budget, left)
        t0 = time.monotonic()
        outcome, _reduced = _run_step(fn, expr, limit)
        attempts.append(Attempt(name, outcome, time.monotonic() - t0))
        if outcome == "zero":
            return Proof("proved", f"{name} -> 0", attempts=tuple(attempts))
    if domains is None:
        domains = {}
    p = _numeric_check(expr, domains, digits=digits, points=points, seed=seed, expand_seconds=step_budget)
    notes = [f"step {a.step!r} ran out of time (budgets: {_seconds(step_budget)} per step, {_seconds(budget)} in all)"
             for a in attempts if a.outcome == "timeout"]
    skipped = [a.step for a in attempts if a.outcome == "skipped: budget exhausted"]
    if skipped:
        notes.append(f"overall budget ({_seconds(budget)}) exhausted before step(s) "
                     + ", ".join(repr(s) for s in skipped))
    detail = "; ".join([p.detail, *notes]) if p.detail else "; ".join(notes)
    return Proof(p.status, p.method, detail, tuple(attempts))


def _seconds(x: float) -> str:
    return f"{x:g} s"


def prove_equal(lhs: sp.Expr, rhs: sp.Expr, **kwargs) -> Proof:
    """:func:`prove_zero` applied to ``lhs - rhs`` (strings are refused, as by :func:`prove_zero`)."""
    return prove_zero(_as_expr(lhs, "lhs") - _as_expr(rhs, "rhs"), **kwargs)


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
