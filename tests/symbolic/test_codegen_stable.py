"""Stable forms of the generated code: any declared weight and energy, evaluated at extreme arguments.

The expected values come from the declaration's own SymPy expressions -- the small-n oracle
:func:`attnflow.symbolic.models.velocity_matrix` / :func:`energy_expr` and the raw pattern
expressions -- evaluated with mpmath at high precision (enough digits to resolve
:math:`1 + e^{-800}`), never from the printed code.  Negative controls: the same checks on the
literal (naive) printing fail, so the checks can fail.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from attnflow import models as public
from attnflow.numerics import fields
from attnflow.symbolic import models
from attnflow.symbolic.codegen.backends.numba import _generate, printer, render_model
from attnflow.symbolic.codegen.backends.numba.printer import NumbaPrinter, numba_code
from attnflow.symbolic.codegen.backends.numba.stable import stable_form

x, y = sp.symbols("x y", real=True)
b = sp.Symbol("b", real=True)
s, beta = public.s, public.beta
DPS = 400  # 1 + e^(-800) needs ~350 digits; the oracle is exact to far below float64 there

# (expression, arguments x, whether the literal printing fails at one of them) -- every pattern the
# printer rewrites, at ordinary and extreme arguments.  The literal logistic 1/(1 + e^(-x)) survives
# numba's float semantics (1/inf = 0) although it forms inf; its stable form forms none.
PATTERNS = [
    (sp.log(1 + sp.exp(x)), (-800.0, -700.0, -30.0, -1e-12, 0.0, 0.3, 40.0, 800.0, 1e5), True),
    (sp.log(sp.exp(x) + 1) / 3, (-800.0, -700.0, 1e-12, 800.0), True),
    (sp.log(1 + sp.exp(-x)), (-1e5, -800.0, 0.5, 700.0, 800.0), True),
    (x + sp.log(1 + sp.exp(-x)), (-800.0, -700.0, 0.5, 800.0), True),
    (1 / (1 + sp.exp(-x)), (-1e5, -800.0, -700.0, -3.0, 0.0, 2.0, 800.0, 1e5), False),
    (sp.exp(x) / (1 + sp.exp(x)), (-800.0, -700.0, 0.0, 800.0), True),
    (sp.log(sp.exp(x) + sp.exp(2 * x)), (-800.0, -1.0, 1e-9, 800.0), True),
    (sp.log(sp.exp(x) + sp.exp(-x) + 2), (-800.0, 1e-9, 0.5, 800.0), True),
    (sp.log(1 + x), (1e-17, -0.5, 3.0), True),
    (sp.exp(x) - 1, (-800.0, -1e-13, 1e-13, 0.7), True),
    (2 - 2 * sp.exp(x), (-1e-14, 1e-10), True),
    ((1 + sp.exp(x)) ** -2, (-800.0, 0.0, 800.0), False),
    (sp.sqrt(1 + sp.exp(x)), (-800.0, 0.0, 800.0), True),
    (sp.log(sp.cosh(x)), (-800.0, -3.0, 0.7, 800.0), True),  # near 0: absolute accuracy only (LSE ~ 0)
    (sp.sinh(x) / sp.cosh(x), (-30.0, 0.2, 30.0), False),
]


def _eval(code: str, value: float) -> float:
    """Evaluate printed code with float64 NumPy semantics (overflow gives inf, as in the kernels'
    ``error_model="numpy"``) rather than Python's OverflowError."""
    with np.errstate(all="ignore"):
        return float(eval(code, {"math": np, "x": np.float64(value)}))  # noqa: S307 - our own printed code


def _oracle(expr, value: float):
    with mpmath.workdps(DPS):
        return sp.lambdify([x], expr, "mpmath")(mpmath.mpf(value))


def _close(got: float, want, rtol: float) -> bool:
    if not math.isfinite(got):
        return False
    want_f = float(want)  # the correctly rounded float64 value (0.0 below the subnormal range)
    return abs(got - want_f) <= rtol * abs(want_f) or got == want_f


@pytest.mark.parametrize("expr, values, naive_fails", PATTERNS, ids=[str(p[0]) for p in PATTERNS])
def test_stable_printing_matches_mpmath_where_naive_printing_fails(expr, values, naive_fails):
    code = numba_code(expr)
    naive = NumbaPrinter().doprint(expr)
    bad_naive = []
    for v in values:
        want = _oracle(expr, v)
        got = _eval(code, v)
        assert _close(got, want, 4e-16 * max(1.0, abs(v))), (code, v, got, want)
        if not _close(_eval(naive, v), want, 1e-8):
            bad_naive.append(v)
    assert bool(bad_naive) == naive_fails, (naive, bad_naive)


def test_every_declarable_function_prints():
    """The functions a declaration may use (attnflow.symbolic.models._consistency.FUNCTIONS) are
    exactly those the printer can evaluate: each prints and gives the SymPy value."""
    from attnflow.symbolic.models._consistency import FUNCTIONS

    for f in FUNCTIONS:
        expr = f(x, y) if f is sp.Max else f(x)
        code = numba_code(expr)
        want = float(expr.subs({x: 0.3, y: -0.2}).evalf(30))
        got = float(eval(code, {"math": math, "x": 0.3, "y": -0.2}))  # noqa: S307 - our own printed code
        assert got == pytest.approx(want, rel=1e-15), (f, code)
    assert set(printer.SUPPORTED_FUNCTIONS) <= set(FUNCTIONS)


def test_exact_limits_and_rewrites():
    """The logistic and softplus reach their limits exactly (no nan from inf/inf or inf*0)."""
    sig, sp_code = numba_code(1 / (1 + sp.exp(-x))), numba_code(sp.log(1 + sp.exp(x)))
    assert [_eval(sig, v) for v in (-1e308, -800.0, 800.0, 1e308)] == [0.0, 0.0, 1.0, 1.0]
    assert [_eval(sp_code, v) for v in (-800.0, 800.0, 1e308)] == [0.0, 800.0, 1e308]
    assert numba_code(sp.log(1 + x)) == "math.log1p(x)"
    assert numba_code(sp.exp(x) - 1) == "math.expm1(x)"
    assert sp_code == "math.log1p(math.exp(-abs(x))) + max(0.0, x)"
    assert numba_code(sp.exp(beta * s)) == "math.exp(beta*s)"  # exponential weights are left to the shift
    for expr, *_ in PATTERNS:
        once = stable_form(expr)
        assert stable_form(once) == once  # applied before CSE and again by the printer


# -- generated kernels of declarations against the mpmath oracle ------------------------------------

def _sigmoid(name="sigmoid", **kw):
    """The declaration of the README / issue, verbatim (arXiv 2409.04431)."""
    decl = dict(weight=1 / (1 + sp.exp(-(beta * s + b))), normalization="mean",
                energy=sp.log(1 + sp.exp(beta * s + b)) / beta, params={b: 0.0}, source="arXiv 2409.04431")
    decl.update(kw)
    return public.SphereModel(name=name, **decl)


def _points(n=5, d=3, seed=1):
    p = np.random.default_rng(seed).standard_normal((n, d))
    return p / np.linalg.norm(p, axis=1, keepdims=True)


class _Oracle:
    """velocity_matrix / energy_expr of a declaration, lambdified for mpmath."""

    def __init__(self, decl, n, d):
        syms, V = models.velocity_matrix(decl, n, d)
        self.args = [syms["x"][i, k] for i in range(n) for k in range(d)] + [syms["beta"]] + \
            [syms[p.name] for p in decl.real_params]
        self.v = sp.lambdify(self.args, V, "mpmath")
        self.e = None if decl.energy is None else sp.lambdify(self.args, models.energy_expr(decl, n, d)[1], "mpmath")

    def __call__(self, pts, B, *params):
        with mpmath.workdps(DPS):
            a = [mpmath.mpf(float(c)) for c in pts.ravel()] + [mpmath.mpf(B)] + [mpmath.mpf(p) for p in params]
            exact = self.v(*a)
            v = np.array([[float(c) for c in row] for row in exact.tolist()])
            return v, max(abs(c) for c in exact), (self.e(*a) if self.e is not None else None)


# beta s + b from -1e5 to 1e5, and +-800 (1 + e^800 overflows, e^-800 underflows)
CASES = [(1e3, 0.0), (1e5, 0.0), (1e5, 3e4), (1.0, 800.0), (1.0, -700.0), (1.0, -800.0), (1e-3, 0.0)]


def _check(decl, pts, oracle, B, bb, rtol=1e-13):
    v = fields.velocity(pts, model=decl, beta=B, b=bb)
    want, scale, e_want = oracle(pts, B, bb)
    assert np.all(np.isfinite(v)), (B, bb, v)
    if float(scale) == 0.0:  # the field itself is below the float64 range: exactly 0, never nan
        assert np.array_equal(v, want) and not v.any(), (B, bb, v)
    else:
        assert np.max(np.abs(v - want)) <= rtol * float(scale), (B, bb, np.max(np.abs(v - want)) / float(scale))
    if e_want is not None:
        e = fields.energy(pts, model=decl, beta=B, b=bb)
        assert math.isfinite(e) and (e == float(e_want) or abs(e - float(e_want)) <= rtol * abs(float(e_want))), \
            (B, bb, e, e_want)


def test_sigmoid_kernel_matches_the_mpmath_oracle_at_extreme_beta(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    decl = _sigmoid()
    pts = _points()
    oracle = _Oracle(decl, *pts.shape)
    for B, bb in CASES:
        _check(decl, pts, oracle, B, bb)
    text = render_model(decl)
    assert "math.log1p(math.exp(-abs(_w_0)))" in text and "math.log(" not in text.split('"""', 2)[2]
    assert "_w0_0 = b + beta*s0" in text  # CSE: beta*s + b computed once per pair for both exp and abs


def test_softmax_logistic_and_softplus_written_otherwise(tmp_path, monkeypatch):
    """The logistic written e^x/(1+e^x), softmax-normalised (unshifted: the weight is bounded), and the
    softplus energy written log(e^(-x) + 1) + x: the same limits, no inf/inf."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    arg = beta * s + b
    decl = _sigmoid("logistic_softmax", weight=sp.exp(arg) / (1 + sp.exp(arg)), normalization="softmax",
                    energy=(sp.log(sp.exp(-arg) + 1) + arg) / beta)
    assert decl.pair_weight() is None  # evaluated directly, no shift
    pts = _points(seed=4)
    oracle = _Oracle(decl, *pts.shape)
    for B, bb in [c for c in CASES if c[1] != -800.0]:  # -800: every weight underflows, 0/0 (see report)
        _check(decl, pts, oracle, B, bb)


def test_expm1_weight_at_tiny_beta(tmp_path, monkeypatch):
    r""":math:`w = (e^{\beta s}-1)/\beta \to s` as :math:`\beta\to 0`: printed with expm1, exact to
    rounding at :math:`\beta = 10^{-12}` (the literal form loses 4 digits there)."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    decl = public.SphereModel(name="expm1_weight", weight=(sp.exp(beta * s) - 1) / beta, normalization="mean")
    pts = _points(seed=2)
    oracle = _Oracle(decl, *pts.shape)
    for B in (1e-12, 1e-6, 1.0, 30.0):
        v = fields.velocity(pts, model=decl, beta=B)
        want, scale, _ = oracle(pts, B)
        assert np.max(np.abs(v - want)) <= 1e-13 * float(scale), B


def test_naive_printing_fails_the_kernel_check(tmp_path, monkeypatch):
    """Negative control: with the stable forms switched off the sigmoid's softplus energy prints as
    ``math.log(math.exp(b + beta*s) + 1.0)/beta`` and the kernel check above fails (inf at
    beta s + b = 800, reported as an overflow of the energy)."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setattr(printer, "stable_form", sp.sympify)
    monkeypatch.setattr(_generate, "stable_form", sp.sympify)
    decl = _sigmoid("sigmoid_naive")
    assert "math.log(math.exp(b + beta*s) + 1.0)/beta" in render_model(decl)
    pts = _points()
    _, _, want = _Oracle(decl, *pts.shape)(pts, 1.0, 800.0)
    with pytest.raises(OverflowError, match="exceeds the float64 range"):  # the true energy is 1.0e4
        fields.energy(pts, model=decl, beta=1.0, b=800.0)
    assert 1e4 < float(want) < 1.1e4


def test_exponential_times_a_function_of_s_is_shifted(tmp_path, monkeypatch):
    r""":math:`w = (1+s)e^{\beta s}` is not of the pure form :math:`Ce^{L}` but is still evaluated as
    :math:`(1+s)e^{l-m}`: finite at :math:`\beta = 10^3` where :math:`e^{\beta s}` overflows (the
    unshifted kernel gives inf/inf = nan).  Clustered points keep the field well-conditioned: each
    weight carries the inherent relative error :math:`\beta\varepsilon` of the score."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    decl = public.SphereModel(name="linexp", weight=(1 + s) * sp.exp(beta * s), normalization="softmax")
    p = np.array([1.0, 0.0, 0.0]) + 0.03 * np.random.default_rng(5).standard_normal((5, 3))
    pts = p / np.linalg.norm(p, axis=1, keepdims=True)
    oracle = _Oracle(decl, *pts.shape)
    for B in (3.0, 1e3, 1e4):
        v = fields.velocity(pts, model=decl, beta=B)
        want, scale, _ = oracle(pts, B)
        assert np.all(np.isfinite(v)) and np.max(np.abs(v - want)) <= 10 * B * 2.2e-16 * float(scale), B
    exprs = models.kernel_expressions(decl)
    assert exprs["l"] == beta * s and exprs["w"] == (1 + s) * sp.exp(models.l - models.m)


def test_circle_templates_print_the_stable_forms(tmp_path, monkeypatch):
    """The sigmoid declaration on the circle (circle and circle-energy templates) against its oracle."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    decl = public.CircleModel(name="sigmoid_circle", weight=1 / (1 + sp.exp(-(beta * s + b))), normalization="mean",
                              energy=sp.log(1 + sp.exp(beta * s + b)) / beta, params={b: 0.0})
    theta = np.random.default_rng(0).uniform(0.0, 2 * np.pi, 5)
    syms, V = models.velocity_matrix(decl, 5)
    args = syms["theta"] + [syms["beta"], syms["b"]]
    fv, fe = sp.lambdify(args, V, "mpmath"), sp.lambdify(args, models.energy_expr(decl, 5)[1], "mpmath")
    for B, bb in [(1e3, 0.0), (1e5, 0.0), (1.0, 800.0), (1.0, -700.0)]:
        v, e = fields.velocity(theta, model=decl, beta=B, b=bb), fields.energy(theta, model=decl, beta=B, b=bb)
        with mpmath.workdps(DPS):
            a = [mpmath.mpf(float(c)) for c in theta] + [mpmath.mpf(B), mpmath.mpf(bb)]
            want, e_want = np.array([float(c) for c in fv(*a)]), float(fe(*a))
        assert np.max(np.abs(v - want)) <= 1e-13 * np.max(np.abs(want)), (B, bb)
        assert abs(e - e_want) <= 1e-13 * abs(e_want), (B, bb, e, e_want)
