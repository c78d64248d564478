"""Tests of attnflow.numerics.lowtemp (arXiv:2605.10931).

Independent routes: the low-temperature distance by scipy's solve_ivp on a plain-NumPy SA field and
POT's exact transport; the fitted exponent by NumPy's polyfit.
"""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
from scipy.integrate import solve_ivp

from attnflow.numerics.lowtemp import lowtemp_distance, lowtemp_exponent, reference_exponent


def _sa_plain(t, y, beta, n, d):
    x = y.reshape(n, d)
    s = beta * x @ x.T
    w = np.exp(s - s.max(axis=1, keepdims=True))
    a = (w @ x) / w.sum(axis=1, keepdims=True)
    return (a - np.sum(a * x, axis=1, keepdims=True) * x).ravel()


def test_lowtemp_distance_against_solve_ivp_and_pot():
    rng = np.random.default_rng(5)
    n, d, t = 6, 3, 1.0
    x0 = rng.standard_normal((n, d))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    ends = []
    for b in (2.0, 8.0):
        sol = solve_ivp(_sa_plain, (0, t), x0.ravel(), args=(b, n, d), rtol=1e-11, atol=1e-12, method="DOP853")
        y = sol.y[:, -1].reshape(n, d)
        ends.append(y / np.linalg.norm(y, axis=1, keepdims=True))
    ref = math.sqrt(ot.emd2(np.full(n, 1 / n), np.full(n, 1 / n), ot.dist(ends[0], ends[1])))
    assert lowtemp_distance(x0, 2.0, t, dt=0.005) == pytest.approx(ref, abs=1e-7)


def test_reference_exponent_and_fit():
    b = np.array([2.0, 4.0, 8.0, 16.0])
    y = np.log(np.sqrt(np.log(b + 1) / b))
    assert reference_exponent(b) == pytest.approx(np.polyfit(np.log(b), y, 1)[0], rel=1e-12)
    assert -0.5 < reference_exponent(b) < 0
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((8, 3))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    fit = lowtemp_exponent(x0, [2.0, 4.0, 8.0], 1.0)
    assert fit.distances.shape == (3,) and np.all(fit.distances > 0)
    assert fit.exponent == pytest.approx(np.polyfit(np.log(fit.betas), np.log(fit.distances), 1)[0], rel=1e-10)
    with pytest.raises(ValueError, match="model"):
        lowtemp_distance(x0, 1.0, 1.0, model="kuramoto")
    with pytest.raises(ValueError, match="betas"):
        lowtemp_exponent(x0, [2.0], 1.0)
