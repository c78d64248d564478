"""The strategies' guarantees, checked against independent computations (explicit loops, eigvalsh)."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from attnflow.properties import strategies as afs


def _loop_pairs(x):
    n = x.shape[0]
    return [(i, j) for i, j in itertools.combinations(range(n), 2)]


@given(afs.sphere_points(n=afs.sizes(2, 7), d=afs.sizes(2, 5), min_separation=0.3, avoid_stationary=0.05))
def test_sphere_points_guarantees(x):
    n, d = x.shape
    assert 2 <= n <= 7 and 2 <= d <= 5
    assert np.max(np.abs(np.sqrt((x * x).sum(axis=1)) - 1.0)) < 1e-12
    pairs = _loop_pairs(x)
    assert min(math.dist(x[i], x[j]) for i, j in pairs) >= 0.3
    assert min(math.dist(x[i], -x[j]) for i, j in pairs) >= 0.05
    if n <= d + 1:
        assert max(abs(float(np.dot(x[i], x[j])) + 1.0 / (n - 1)) for i, j in pairs) >= 0.05


def test_gap_helpers_vanish_on_stationary_sets():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    x /= np.linalg.norm(x)
    assert afs.antipodal_gap(np.stack([x, -x])) < 1e-7
    s = afs.regular_simplex(4, 5, rng=rng)
    assert afs.simplex_gap(s) < 1e-12
    assert afs.pairwise_separation(s) == pytest.approx(math.sqrt(2 + 2 / 3), abs=1e-12)


def test_sphere_points_shrink_to_the_smallest_size():
    # shrinking acts on the drawn sizes: the minimal example with n >= 4 has exactly 4 points
    x = find(afs.sphere_points(n=afs.sizes(2, 12), d=3), lambda x: x.shape[0] >= 4)
    assert x.shape == (4, 3)


@given(afs.hemisphere_points(n=afs.sizes(1, 9), d=afs.sizes(2, 6), margin=0.2))
def test_hemisphere_points(xw):
    x, w = xw
    assert abs(np.linalg.norm(w) - 1) < 1e-12
    assert np.max(np.abs(np.linalg.norm(x, axis=1) - 1)) < 1e-12
    assert all(float(np.dot(xi, w)) > 0.2 for xi in x)


@given(afs.equiangular_points(n=afs.sizes(2, 9), margin=1e-3))
def test_equiangular_points(xr):
    x, rho = xr
    n = x.shape[0]
    assert -1.0 / (n - 1) < rho < 1.0
    for i, j in _loop_pairs(x):
        assert abs(float(np.dot(x[i], x[j])) - rho) < 1e-12
    assert np.max(np.abs(np.linalg.norm(x, axis=1) - 1)) < 1e-12


@given(st.data())
def test_equiangular_points_in_higher_dimension(data):
    x, rho = data.draw(afs.equiangular_points(n=4, d=7, rho=0.25))
    assert x.shape == (4, 7) and rho == 0.25
    g = x @ x.T
    assert np.max(np.abs(g - (0.75 * np.eye(4) + 0.25))) < 1e-12


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=6).flatmap(
    lambda lam: st.tuples(st.just(lam), afs.symmetric_matrices(lam))))
def test_symmetric_matrices_have_the_prescribed_spectrum(pair):
    lam, v = pair
    assert np.array_equal(v, v.T)
    assert np.max(np.abs(np.linalg.eigvalsh(v) - np.sort(lam))) < 1e-12 * max(1.0, max(map(abs, lam))) * 10


@given(afs.symmetric_matrices(st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=5))
       .flatmap(lambda v: st.tuples(st.just(v), afs.qk_pairs(v, condition=9.0))))
def test_qk_pairs_reproduce_v(pair):
    v, (q, k) = pair
    assert np.max(np.abs(q.T @ k - v)) < 1e-10
    s = np.linalg.svd(q, compute_uv=False)
    assert s.max() / s.min() <= 9.0 * (1 + 1e-9)


@given(afs.orthogonal_matrices(d=afs.sizes(1, 6)))
def test_orthogonal(o):
    assert np.max(np.abs(o.T @ o - np.eye(o.shape[0]))) < 1e-12


@given(afs.betas(0.5, 7.0), afs.step_sizes(1e-4, 0.5))
def test_scalar_ranges(beta, h):
    assert 0.5 <= beta <= 7.0
    assert 1e-4 <= h <= 0.5


def test_regular_simplex_gram():
    for n, d in [(2, 1), (3, 2), (4, 3), (5, 9)]:
        s = afs.regular_simplex(n, d, rng=np.random.default_rng(n))
        g = s @ s.T
        want = np.full((n, n), -1.0 / (n - 1))
        np.fill_diagonal(want, 1.0)
        assert np.max(np.abs(g - want)) < 1e-12
        assert np.max(np.abs(s.sum(axis=0))) < 1e-12


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: afs.sphere_points(min_separation=2.5), "min_separation"),
        (lambda: afs.hemisphere_points(margin=1.0), "margin"),
        (lambda: afs.equiangular_points(n=3, rho=-0.6), "rho"),
        (lambda: afs.equiangular_points(n=5, d=3), "d"),
        (lambda: afs.symmetric_matrices([1.0, float("nan")]), "spectrum"),
        (lambda: afs.qk_pairs(np.ones((2, 3))), "v"),
        (lambda: afs.betas(-1.0, 2.0), "min_value"),
        (lambda: afs.step_sizes(0.0, 1.0), "min_value"),
        (lambda: afs.regular_simplex(5, 3), "n"),
        (lambda: afs.sphere_points(n=0), "n"),
    ],
)
def test_bad_input_names_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        made = make()
        find(made, lambda _: True)  # composite strategies validate when drawing
