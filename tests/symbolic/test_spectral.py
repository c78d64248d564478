"""Spectral selection: statuses, and the derived linearisation re-checked by finite-difference
Jacobians of a plain NumPy particle field (independent of SymPy), plus a particle simulation of the
consensus rate and a numerical check of the small-beta expansion."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from attnflow.symbolic import spectral as spc
from attnflow.symbolic.documents import render_topic, topic_results


def test_statuses():
    res = {r.id: r for r in topic_results("spectral")}
    assert res["spectral.equilibria"].status == "proved"
    assert res["spectral.small_beta"].status == "proved"
    for rid in ("spectral.linearization", "spectral.consensus", "spectral.polarization.balanced_positive",
                "spectral.polarization.balanced_negative", "spectral.polarization.unbalanced_corrected"):
        assert res[rid].status == "proved-for-sizes", (rid, res[rid].proof)
    bad = res["spectral.polarization.unbalanced"]
    assert bad.status == "refuted"
    assert "n_minus': 1" in bad.proof.detail or "n_plus': 1" in bad.proof.detail


def test_bad_input():
    with pytest.raises(ValueError, match="signs"):
        spc.particle_jacobian((1, 0, -1))
    with pytest.raises(ValueError, match="d"):
        spc.particle_jacobian((1, -1), d=7)
    with pytest.raises(ValueError, match="n_plus"):
        spc.stated_stable(1, 0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="n_plus"):
        spc.linear_stable(-1, 3, 1.0, 1.0, 0.0)


# ------------------------------------------------------------------------------------------
# NumPy field and finite-difference Jacobian on the product of tangent spaces


def field(X, V, beta):
    L = beta * X @ V @ X.T
    K = np.exp(L - L.max(axis=1, keepdims=True))
    K /= K.sum(axis=1, keepdims=True)
    F = K @ (X @ V.T)
    return F - np.sum(F * X, axis=1, keepdims=True) * X


def fd_eigenvalues(signs, lams, beta, p, h=1e-6):
    n, d = len(signs), len(lams)
    V = np.diag(lams)
    X = np.zeros((n, d))
    X[:, p] = signs
    ks = [k for k in range(d) if k != p]
    J = np.zeros((n * len(ks), n * len(ks)))
    for a in range(n):
        for bi, k in enumerate(ks):
            cols = []
            for sgn in (1, -1):
                Y = X.copy()
                Y[a, k] += sgn * h
                Y /= np.linalg.norm(Y, axis=1, keepdims=True)
                cols.append(field(Y, V, beta)[:, ks])
            J[:, a * len(ks) + bi] = ((cols[0] - cols[1]) / (2 * h)).ravel()
    return np.sort_complex(np.linalg.eigvals(J))


def predicted_eigenvalues(signs, lams, beta, p):
    lp = lams[p]
    n_p, n_m = signs.count(1), signs.count(-1)
    out = []
    for k, lk in enumerate(lams):
        if k == p:
            continue
        if n_m == 0 or n_p == 0:
            out += [lk - lp] + [-lp] * (len(signs) - 1)
        elif n_p == n_m:
            T = math.tanh(beta * lp)
            out += [lk - lp * T, T * (lk - lp)] + [-lp * T] * (len(signs) - 2)
        else:
            block, mp, mm = spc.polarization_block()
            sub = {spc.A: n_p, spc.B: n_m, spc.e: math.exp(beta * lp), spc.lp: lp, spc.lk: lk}
            B2 = np.array(block.subs(sub).evalf(), dtype=float)
            out += list(np.linalg.eigvals(B2))
            out += [-float(mp.subs(sub))] * (n_p - 1) + [-float(mm.subs(sub))] * (n_m - 1)
    return np.sort_complex(np.array(out, dtype=complex))


CASES = [
    ((1, 1, 1, 1), (3.0, 1.0, -2.0), 1.0, 0),  # consensus on the top mode (the check quoted when the criteria were derived)
    ((1, 1, 1, 1), (3.0, 1.0, -2.0), 1.0, 1),  # consensus on a middle mode (unstable)
    ((1, 1, -1, -1), (3.0, 1.0, -2.0), 1.0, 0),  # balanced, lambda_p > 0
    ((1, 1, -1, -1), (3.0, 1.0, -2.0), 1.0, 2),  # balanced, lambda_p < 0
    ((1, -1), (0.5, 2.0, -1.0), 0.7, 2),
    ((1, 1, 1, -1), (3.0, 1.0, -2.0), 1.0, 0),  # unbalanced 3:1
    ((1, 1, 1, -1, -1), (1.5, -0.5, 0.8), 2.0, 0),  # unbalanced 3:2
    ((1, 1, -1), (0.1, -5.0, -5.0), 1.0, 0),  # the counterexample
]


@pytest.mark.parametrize("signs,lams,beta,p", CASES)
def test_derived_eigenvalues_match_finite_differences(signs, lams, beta, p):
    fd = fd_eigenvalues(signs, lams, beta, p)
    pred = predicted_eigenvalues(signs, lams, beta, p)
    assert np.max(np.abs(fd - pred)) < 1e-6


@pytest.mark.parametrize("signs", [(1, 1, 1), (1, -1, 1, -1), (1, 1, 1, -1)])
def test_symbolic_jacobian_matches_finite_differences(signs):
    lams, beta = (1.3, -0.4, 0.9), 0.8
    J = spc.particle_jacobian(tuple(signs))
    sub = {spc.lam[0]: lams[0], spc.lam[1]: lams[1], spc.lam[2]: lams[2], spc.beta: beta,
           spc.e: math.exp(beta * lams[0])}
    Jn = np.array(J.subs(sub).evalf(), dtype=float)
    # reorder the symbolic (k, i) ordering to the finite-difference (i, k) ordering
    n = len(signs)
    perm = [k * n + i for i in range(n) for k in range(2)]
    Jn = Jn[np.ix_(perm, perm)]
    fd_eigs = fd_eigenvalues(signs, lams, beta, 0)
    assert np.max(np.abs(np.sort_complex(np.linalg.eigvals(Jn)) - fd_eigs)) < 1e-6


def test_counterexample_to_stated_unbalanced_criterion():
    signs, lams, beta = (1, 1, -1), (0.1, -5.0, -5.0), 1.0
    eig = fd_eigenvalues(signs, lams, beta, 0)
    assert np.max(eig.real) < -0.04  # linearly stable
    assert not spc.stated_stable(2, 1, beta, 0.1, -5.0)  # but the stated criterion says unstable
    assert spc.corrected_stable(2, 1, beta, 0.1, -5.0)
    assert spc.linear_stable(2, 1, beta, 0.1, -5.0)


def test_linear_stable_against_finite_differences():
    rng = np.random.default_rng(5)
    checked = 0
    while checked < 40:
        n_p, n_m = int(rng.integers(0, 4)), int(rng.integers(1, 4))
        if n_p + n_m < 2:
            continue
        beta = float(rng.uniform(0.2, 2.5))
        lp, lk = float(rng.uniform(-2, 2)), float(rng.uniform(-3, 3))
        expected = spc.linear_stable(n_p, n_m, beta, lp, lk, margin=1e-3)
        if expected is None:
            continue
        signs = (1,) * n_p + (-1,) * n_m
        if n_p == 0:
            signs = (1,) * n_m  # consensus (global sign is irrelevant)
            expected = spc.linear_stable(n_m, 0, beta, lp, lk, margin=1e-3)
            if expected is None:
                continue
        eig = fd_eigenvalues(signs, (lp, lk), beta, 0)
        assert (np.max(eig.real) < 0) == expected, (n_p, n_m, beta, lp, lk)
        if n_p != n_m and n_p > 0:
            assert spc.corrected_stable(n_p, n_m, beta, lp, lk) == expected
        checked += 1


def test_consensus_contraction_rate_by_simulation():
    lams, beta, n = (3.0, 1.0, -2.0), 1.0, 4
    V = np.diag(lams)
    rng = np.random.default_rng(2)
    X0 = np.zeros((n, 3))
    X0[:, 0] = 1
    X0 += 0.05 * rng.standard_normal((n, 3))
    X0 /= np.linalg.norm(X0, axis=1, keepdims=True)
    ts = [2.0, 3.0]
    sol = solve_ivp(lambda t, y: field(y.reshape(n, 3), V, beta).ravel(), (0, 3.0), X0.ravel(),
                    method="DOP853", rtol=1e-12, atol=1e-14, t_eval=ts)
    gaps = [np.sum((sol.y[:, k].reshape(n, 3)[0] - sol.y[:, k].reshape(n, 3)[1]) ** 2) / 2 for k in range(2)]
    slope = math.log(gaps[1] / gaps[0])
    assert slope == pytest.approx(-2 * lams[0], rel=0.02)


def test_small_beta_expansion_numerically():
    rng = np.random.default_rng(4)
    n, d = 5, 3
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    M = rng.standard_normal((d, d))
    V = (M + M.T) / 2
    A = X @ V @ X.T
    S = X.sum(axis=0)

    def err(b):
        E = np.exp(b * A).sum() / (2 * b)
        approx = n**2 / (2 * b) + 0.5 * S @ V @ S + b / 4 * np.sum(A**2)
        return abs(E - approx)

    # O(beta^2): halving beta divides the error by about 4 (the beta^2 coefficient is sum A^3 / 12)
    e1, e2 = err(1e-2), err(5e-3)
    assert e1 / e2 == pytest.approx(4, rel=0.05)
    assert e1 == pytest.approx(abs(np.sum(A**3)) / 12 * 1e-4, rel=0.05)


def test_document_renders():
    md = render_topic("spectral")
    assert "**REFUTED**" in md and "## spectral.polarization.unbalanced_corrected" in md
