"""Tests of attnflow.numerics.wasserstein against independent routes.

Independent routes: POT's network simplex on an independently built cost matrix, brute force over
permutations, replication of rational weights into uniform clouds, the Dirac identity
W_2^2(mu, delta_z) = 2(1 - <m_mu, z>), metric inequalities, and the coupling inequality
W_2(S#mu, psi#mu) <= ||S - psi||_{L^2(mu)} (arXiv:2411.04551, Lemma 5.2).
"""

from __future__ import annotations

import itertools

import numpy as np
import ot
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from attnflow.numerics.wasserstein import (
    _random_directions,
    cost_matrix,
    sliced_wasserstein,
    wasserstein,
    wasserstein_circle,
)


def _unit(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@st.composite
def clouds(draw, n_max=10, same_size=True, min_n=1):
    d = draw(st.integers(2, 5))
    n = draw(st.integers(min_n, n_max))
    m = n if same_size else draw(st.integers(min_n, n_max))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x, y = _unit(rng, n, d), _unit(rng, m, d)
    if draw(st.booleans()) and n == m:  # near-coincident clouds, a precision corner
        y = x + 1e-9 * rng.standard_normal(x.shape)
        y /= np.linalg.norm(y, axis=1, keepdims=True)
    return x, y


def _pot_chordal(x, y, p, a=None, b=None):
    """W_p^p by POT's network simplex on a cost built by direct differences (not our cdist)."""
    n, m = len(x), len(y)
    a = np.full(n, 1.0 / n) if a is None else a
    b = np.full(m, 1.0 / m) if b is None else b
    M = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2) ** p
    return float(ot.emd2(a, b, M, numItermax=10**7))


# -------------------------------------------------------------------------------------------------
# agreement with POT
# -------------------------------------------------------------------------------------------------
@given(clouds(), st.sampled_from([1.0, 2.0, 3.0]))
def test_equal_size_agrees_with_pot_chordal(xy, p):
    x, y = xy
    ours = wasserstein(x, y, p=p)
    ref = _pot_chordal(x, y, p)
    assert abs(ours**p - ref) <= 1e-9
    assert abs(ours - max(ref, 0.0) ** (1 / p)) <= 1e-9 + 1e-9 ** (1 / p)


@given(clouds(), st.sampled_from([1.0, 2.0, 3.0]), st.sampled_from(["chordal", "geodesic"]))
def test_assignment_equals_pot_on_same_cost(xy, p, metric):
    x, y = xy
    n = len(x)
    M = cost_matrix(x, y, p=p, metric=metric)
    ref = float(ot.emd2(np.full(n, 1 / n), np.full(n, 1 / n), M, numItermax=10**7))
    assert abs(wasserstein(x, y, p=p, metric=metric) ** p - ref) <= 1e-9


@given(clouds(same_size=False), st.sampled_from([1.0, 2.0]), st.integers(0, 2**32 - 1))
def test_weighted_agrees_with_pot(xy, p, seed):
    x, y = xy
    rng = np.random.default_rng(seed)
    a = rng.dirichlet(np.ones(len(x)))
    b = rng.dirichlet(np.ones(len(y)))
    ours = wasserstein(x, y, p=p, a=a, b=b)
    assert abs(ours**p - _pot_chordal(x, y, p, a, b)) <= 1e-9


def test_geodesic_cost_matches_arccos():
    rng = np.random.default_rng(0)
    x, y = _unit(rng, 40, 4), _unit(rng, 30, 4)
    ref = np.arccos(np.clip(x @ y.T, -1.0, 1.0))
    np.testing.assert_allclose(cost_matrix(x, y, p=1, metric="geodesic"), ref, atol=1e-12)
    # coincident / antipodal points: the atan2 form is exact, arccos(clip) is not
    np.testing.assert_array_equal(np.diag(cost_matrix(x, x, p=1, metric="geodesic")), 0.0)
    np.testing.assert_allclose(np.diag(cost_matrix(x, -x, p=1, metric="geodesic")), np.pi, rtol=1e-15)


def test_chordal_cost_matches_direct_differences():
    rng = np.random.default_rng(1)
    x, y = _unit(rng, 20, 3), _unit(rng, 25, 3)
    direct = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2)
    for p in (1.0, 2.0, 3.5):
        np.testing.assert_allclose(cost_matrix(x, y, p=p), direct**p, rtol=1e-13, atol=1e-15)


# -------------------------------------------------------------------------------------------------
# exactness by brute force
# -------------------------------------------------------------------------------------------------
@given(clouds(n_max=6), st.sampled_from([1.0, 2.0, 3.0]), st.sampled_from(["chordal", "geodesic"]))
def test_brute_force_permutations(xy, p, metric):
    x, y = xy
    n = len(x)
    if metric == "chordal":
        dist = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2)
    else:
        dist = np.arccos(np.clip(x @ y.T, -1.0, 1.0))
    C = dist**p
    best = min(sum(C[i, s[i]] for i in range(n)) / n for s in itertools.permutations(range(n)))
    assert abs(wasserstein(x, y, p=p, metric=metric) ** p - best) <= 1e-7  # arccos route: ~1e-8 error


@given(st.integers(2, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_rational_weights_by_replication(d, n, m, seed):
    """Weights k_i/K: the weighted problem equals a uniform assignment problem of size K."""
    rng = np.random.default_rng(seed)
    x, y = _unit(rng, n, d), _unit(rng, m, d)
    K = 6
    ka = rng.multinomial(K - n, np.ones(n) / n) + 1 if K >= n else None
    kb = rng.multinomial(K - m, np.ones(m) / m) + 1 if K >= m else None
    assume(ka is not None and kb is not None)
    xr, yr = np.repeat(x, ka, axis=0), np.repeat(y, kb, axis=0)
    C = np.linalg.norm(xr[:, None, :] - yr[None, :, :], axis=2) ** 2
    r, c = linear_sum_assignment(C)
    ref = C[r, c].sum() / K
    ours = wasserstein(x, y, p=2, a=ka / K, b=kb / K)
    assert abs(ours**2 - ref) <= 1e-9


# -------------------------------------------------------------------------------------------------
# Dirac, metric inequalities, sliced, coupling
# -------------------------------------------------------------------------------------------------
@given(clouds(same_size=False), st.integers(0, 2**32 - 1))
def test_dirac_identity(xy, seed):
    x, y = xy
    z = y[:1]
    a = np.random.default_rng(seed).dirichlet(np.ones(len(x)))
    mean = a @ x
    w = wasserstein(x, z, p=2, a=a)
    assert abs(w**2 - 2.0 * (1.0 - mean @ z[0])) <= 1e-12
    assert w == wasserstein(z, x, p=2, b=a)  # symmetric
    # the general solver agrees with the closed form
    assert abs(wasserstein(x, z, p=2, a=a, method="emd") ** 2 - w**2) <= 1e-12
    # geodesic, p = 1: W_1 = sum_i a_i arccos <x_i, z>
    g = np.arccos(np.clip(x @ z[0], -1, 1))
    assert abs(wasserstein(x, z, p=1, a=a, metric="geodesic") - a @ g) <= 1e-7


@given(st.integers(2, 4), st.integers(1, 7), st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1),
       st.sampled_from([1.0, 2.0]), st.sampled_from(["chordal", "geodesic"]))
def test_triangle_inequality(d, n1, n2, n3, seed, p, metric):
    rng = np.random.default_rng(seed)
    x, y, z = _unit(rng, n1, d), _unit(rng, n2, d), _unit(rng, n3, d)
    wxy = wasserstein(x, y, p=p, metric=metric)
    wyz = wasserstein(y, z, p=p, metric=metric)
    wxz = wasserstein(x, z, p=p, metric=metric)
    assert wxz <= wxy + wyz + 1e-9


@given(clouds(same_size=False), st.sampled_from([1.0, 2.0, 3.0]))
def test_chordal_geodesic_sandwich(xy, p):
    x, y = xy
    wc = wasserstein(x, y, p=p, metric="chordal")
    wg = wasserstein(x, y, p=p, metric="geodesic")
    assert wc <= wg + 1e-9
    assert wg <= np.pi / 2 * wc + 1e-9


@given(clouds(same_size=False, n_max=12), st.sampled_from([1.0, 2.0]), st.integers(0, 2**32 - 1))
def test_sliced_below_w_and_matches_pot(xy, p, seed):
    x, y = xy
    sw = sliced_wasserstein(x, y, p=p, n_projections=64, seed=seed)
    assert sw <= wasserstein(x, y, p=p) + 1e-9
    proj = _random_directions(x.shape[1], 64, seed)
    ref = float(ot.sliced_wasserstein_distance(x, y, p=p, projections=proj))
    assert abs(sw - ref) <= 1e-9


def test_sliced_reproducible_and_converges():
    rng = np.random.default_rng(3)
    x, y = _unit(rng, 50, 3), _unit(rng, 50, 3)
    assert sliced_wasserstein(x, y, seed=5) == sliced_wasserstein(x, y, seed=5)
    # Monte-Carlo spread shrinks with the number of projections
    few = np.std([sliced_wasserstein(x, y, n_projections=10, seed=s) for s in range(20)])
    many = np.std([sliced_wasserstein(x, y, n_projections=640, seed=s) for s in range(20)])
    assert many < few / 3


@given(st.integers(2, 5), st.integers(1, 12), st.integers(0, 2**32 - 1), st.booleans())
def test_coupling_inequality(d, n, seed, weighted):
    """W_2(S#mu, psi#mu) <= ||S - psi||_{L^2(mu)} (2411.04551 Lemma 5.2)."""
    rng = np.random.default_rng(seed)
    x = _unit(rng, n, d)
    a = rng.dirichlet(np.ones(n)) if weighted else None
    A, B = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    sx = x @ A.T + 0.3 * rng.standard_normal(d)
    px = x @ B.T
    sx /= np.linalg.norm(sx, axis=1, keepdims=True)
    px /= np.linalg.norm(px, axis=1, keepdims=True)
    w = np.full(n, 1 / n) if a is None else a
    l2 = np.sqrt(w @ np.sum((sx - px) ** 2, axis=1))
    assert wasserstein(sx, px, p=2, a=a, b=a) <= l2 + 1e-9
    # equality for a map close to S (identity pairing optimal)
    assert abs(wasserstein(sx, sx, p=2, a=a, b=a)) <= 1e-7


# -------------------------------------------------------------------------------------------------
# circle
# -------------------------------------------------------------------------------------------------
def _arc(t, s):
    dd = np.abs(t[:, None] - s[None, :]) % (2 * np.pi)
    return np.minimum(dd, 2 * np.pi - dd)


@given(st.integers(1, 12), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 2.0, 3.0]))
def test_circle_equal_size_against_assignment(n, seed, p):
    rng = np.random.default_rng(seed)
    th, ph = rng.uniform(-10, 10, n), rng.uniform(0, 2 * np.pi, n)
    C = _arc(th, ph) ** p
    r, c = linear_sum_assignment(C)
    ref = C[r, c].mean()
    assert abs(wasserstein_circle(th, ph, p=p) ** p - ref) <= 1e-9
    # same as the geodesic W_p of the embedded points of S^1
    emb = lambda t: np.stack([np.cos(t), np.sin(t)], axis=1)  # noqa: E731
    assert abs(wasserstein(emb(th), emb(ph), p=p, metric="geodesic") ** p - ref) <= 1e-7


@given(st.integers(1, 10), st.integers(1, 10), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 2.0]))
def test_circle_weighted_against_pot_emd(n, m, seed, p):
    rng = np.random.default_rng(seed)
    th, ph = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, m)
    a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m))
    ref = float(ot.emd2(a, b, _arc(th, ph) ** p, numItermax=10**7))
    assert abs(wasserstein_circle(th, ph, p=p, a=a, b=b) ** p - ref) <= 1e-9
    # invariance under a common rotation and under shifts by 2 pi k
    rot = wasserstein_circle(th + 1.234, ph + 1.234 + 4 * np.pi, p=p, a=a, b=b)
    assert abs(rot**p - ref) <= 1e-9


# -------------------------------------------------------------------------------------------------
# errors
# -------------------------------------------------------------------------------------------------
def test_iteration_cap_raises():
    rng = np.random.default_rng(0)
    x, y = _unit(rng, 200, 3), _unit(rng, 210, 3)
    with pytest.raises(RuntimeError, match="numItermax"):
        wasserstein(x, y, num_iter_max=10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=np.ones((3, 3)) / np.sqrt(3) * 1.1), "unit vectors"),
        (dict(x=np.full((3, 3), np.nan)), "NaN"),
        (dict(x=np.array([1.0, 0.0, 0.0])), "shape"),
        (dict(y=np.eye(2)), "dimension"),
        (dict(p=0.5), "p:"),
        (dict(metric="cosine"), "metric"),
        (dict(method="sinkhorn"), "method"),
        (dict(a=np.array([0.5, 0.6, -0.1])), "nonnegative"),
        (dict(a=np.array([0.5, 0.6, 0.1])), "sum to 1"),
        (dict(a=np.array([0.5, 0.5])), "shape"),
        (dict(method="assignment", a=np.array([0.2, 0.3, 0.5])), "assignment"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(x=np.eye(3), y=np.eye(3)[::-1])
    args.update(kwargs)
    x, y = args.pop("x"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        wasserstein(x, y, **args)


def test_euclidean_metric_accepts_any_points():
    rng = np.random.default_rng(2)
    x, y = 3 * rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    with pytest.raises(ValueError, match="unit vectors"):
        wasserstein(x, y)
    ref = _pot_chordal(x, y, 2.0)
    assert abs(wasserstein(x, y, metric="euclidean") ** 2 - ref) <= 1e-9


def test_circle_bad_input():
    with pytest.raises(ValueError, match="theta"):
        wasserstein_circle(np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="phi"):
        wasserstein_circle(np.zeros(2), np.array([np.inf]))
    with pytest.raises(ValueError, match="p:"):
        wasserstein_circle(np.zeros(2), np.zeros(2), p=0.2)


def test_circle_weight_rounding_regression():
    """POT 0.9.7's circle solver returned ~0.94 turn here (cumulative weights ending at 1 - ulp)."""
    rng = np.random.default_rng(233299)
    th, ph = rng.uniform(0, 2 * np.pi, 9), rng.uniform(0, 2 * np.pi, 9)
    a, b = rng.dirichlet(np.ones(9)), rng.dirichlet(np.ones(9))
    ref = float(ot.emd2(a, b, _arc(th, ph)))
    got = wasserstein_circle(th + 1.234, ph + 1.234 + 4 * np.pi, p=1, a=a, b=b)
    assert abs(got - ref) <= 1e-9
