"""Tests of attnflow.numerics.localization_bound (arXiv 2601.21366, the constant 0.5742).

Independent routes: the splitting constants by mpmath root finding at 30 digits; the FFT/FISTA grid
maximiser against scipy's SLSQP on the dense quadratic programme; the printed constant against the
decimal printed in the paper.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from attnflow.numerics.localization_bound import (
    concave_maximiser,
    mass_bound,
    printed_mass_bound,
    splitting_constants,
    splitting_kernel,
)


def _mp_constants(beta):
    mpmath.mp.dps = 30
    b = mpmath.mpf(beta)
    g = lambda d: (b * mpmath.sin(d) ** 2 - mpmath.cos(d)) * mpmath.exp(b * (mpmath.cos(d) - 1))  # noqa: E731
    # g' = sin(d) e^{b(cos d - 1)} (3 b cos d + 1 - b^2 sin^2 d): the maximiser solves the bracket's root
    d_star = mpmath.findroot(lambda d: 3 * b * mpmath.cos(d) + 1 - b**2 * mpmath.sin(d) ** 2,
                             (mpmath.sqrt(1 / b), mpmath.sqrt(6 / b)), solver="anderson")
    return float(g(d_star)), float(-g(mpmath.mpf(1) / (2 * mpmath.sqrt(b))))


@pytest.mark.parametrize("beta", [8.0, 50.0, 400.0])
def test_splitting_constants_against_mpmath(beta):
    A, B = splitting_constants(beta)
    A_mp, B_mp = _mp_constants(beta)
    assert A == pytest.approx(A_mp, rel=1e-10)
    assert B == pytest.approx(B_mp, rel=1e-10)
    assert splitting_kernel(0.0, beta) == -1.0


def test_printed_bound_is_the_printed_decimal_and_exceeds_the_derived_one():
    assert round(printed_mass_bound(30.0, 0.0), 4) == 0.5742
    assert mass_bound(1e5, 0.0) == pytest.approx(8 / (8 + 3 * math.exp(11 / 8)), abs=1e-6)
    for beta in (4.0, 16.0, 64.0):
        for C in (0.0, 1.0, math.exp(beta)):
            assert mass_bound(beta, C) < printed_mass_bound(beta, C)


def test_grid_maximiser_against_scipy_slsqp():
    from scipy.optimize import minimize

    beta, a, b, N = 9.0, 0.4 * math.exp(9.0), 0.1, 32
    mx = concave_maximiser(beta, a, b, grid=N, iters=20000)
    th = np.arange(N) * 2 * np.pi / N
    G = np.exp(beta * (np.cos(th[:, None] - th[None, :]) - 1))  # dense, not the FFT route
    c = beta * math.exp(-beta) * np.maximum(a * np.cos(th) + b, 0)
    f = lambda m: 0.5 * m @ G @ m - c @ m  # noqa: E731
    res = minimize(f, np.full(N, 1 / N), jac=lambda m: G @ m - c, method="SLSQP", bounds=[(0, None)] * N,
                   constraints=[{"type": "eq", "fun": lambda m: m.sum() - 1, "jac": lambda m: np.ones(N)}],
                   options={"ftol": 1e-14, "maxiter": 1000})
    assert f(mx.m) <= res.fun + 1e-10  # at least as good as SLSQP's point
    assert abs(f(mx.m) - res.fun) <= 1e-4 * abs(res.fun)
    # KKT with the dense matrix: the first variation c - G m is maximal (and constant) on the support
    phi = c - G @ mx.m
    sup = mx.m > 0
    assert phi.max() - phi[sup].min() <= 1e-6 * np.abs(G @ mx.m).max()


def test_localization_bound_bad_input():
    with pytest.raises(ValueError, match="beta"):
        splitting_constants(-1.0)
    with pytest.raises(ValueError, match="curvature"):
        mass_bound(4.0, -1.0)
    with pytest.raises(ValueError, match="grid"):
        concave_maximiser(4.0, 1.0, grid=3)
    with pytest.raises(ValueError, match="beta"):
        concave_maximiser(700.0, 1.0)
