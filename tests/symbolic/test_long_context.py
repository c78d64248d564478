"""Long context: statuses, the finite-n formula against an explicit NumPy softmax layer, and the
three limits against high-precision (mpmath) evaluation at astronomically large n."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from attnflow.symbolic import long_context as lc
from attnflow.symbolic.documents import render_topic, topic_results


def test_statuses():
    res = {r.id: r for r in topic_results("long_context")}
    assert list(res) == ["long_context.finite_n", "long_context.limits"]
    for r in res.values():
        assert r.status == "proved", (r.id, r.proof)


def _equiangular_inputs(n, rho, d, seed):
    G = (1 - rho) * np.eye(n) + rho * np.ones((n, n))
    L = np.linalg.cholesky(G)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return np.hstack([L, np.zeros((n, d - n))]) @ Q.T


def _softmax_layer_cosines(X, beta):
    logits = beta * X @ X.T
    W = np.exp(logits - logits.max(axis=1, keepdims=True))
    Y = (W / W.sum(axis=1, keepdims=True)) @ X
    T = Y / np.linalg.norm(Y, axis=1, keepdims=True)
    return (T @ T.T)[np.triu_indices(len(X), 1)]


def test_finite_n_against_explicit_layer():
    rng = np.random.default_rng(11)
    f = sp.lambdify((lc.n, lc.beta, lc.rho), lc.output_cosine_stated(), "numpy")
    for _ in range(30):
        n = int(rng.integers(2, 40))
        rho = float(rng.uniform(0.01, 0.99))
        beta = float(rng.uniform(0, 30))
        cos = _softmax_layer_cosines(_equiangular_inputs(n, rho, n + 2, int(rng.integers(1 << 30))), beta)
        assert np.max(np.abs(cos - f(n, beta, rho))) < 1e-12, (n, rho, beta)


@pytest.mark.parametrize("gamma_factor,expected", [(0.5, "one"), (1.0, "critical"), (1.6, "rho")])
def test_limits_by_high_precision_evaluation(gamma_factor, expected):
    with mpmath.workdps(80):
        rho = mpmath.mpf(1) / 3
        gamma = mpmath.mpf(gamma_factor) / (1 - rho)
        kappa = gamma * (1 - rho)
        target = {"one": 1, "critical": 4 * rho / (1 + 3 * rho), "rho": rho}[expected]
        errs = []
        for k in (20, 40, 80):
            n = mpmath.mpf(10) ** k
            r = mpmath.exp(gamma * mpmath.log(n) * (1 - rho))
            a = 1 + (n - 1) * rho
            val = ((r - 1) ** 2 * rho + (2 * (r - 1) + n) * a) / ((r - 1) ** 2 + (2 * (r - 1) + n) * a)
            errs.append(abs(val - target))
        # algebraic convergence n^(-min(kappa, |1 - kappa|)) (at kappa = 1: n^-1)
        rate = min(kappa, abs(1 - kappa)) or 1
        for k, err in zip((20, 40, 80), errs):
            assert err < 10 * mpmath.mpf(10) ** (-k * rate)
    # the module's regime classifier gives the same limit
    assert float(lc.long_context_limit(sp.Rational(str(round(float(gamma), 12))), sp.Rational(1, 3))) \
        == pytest.approx(float(target), rel=1e-9)


def test_document_renders():
    md = render_topic("long_context")
    assert "## long_context.limits" in md and "REFUTED" not in md
