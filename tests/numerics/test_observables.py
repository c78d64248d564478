"""attnflow.numerics.observables against brute-force loops and independent routes (SymPy ranks,
scipy's connected components, the closed-form energy, complex exponentials)."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from attnflow.numerics import observables as ob
from attnflow.numerics import random_sphere, simulate
from attnflow.numerics.trajectory import cluster_labels


def _clustered(rng, n, d, k, spread):
    """n unit vectors in k tight groups (angular spread ~ spread) plus exact duplicates."""
    centers = rng.standard_normal((k, d))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    x = centers[rng.integers(0, k, n)] + spread * rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x[1] = x[0]
    return x


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    # (T=3, B=4, n=9, d=3): a mix of spreads so that every threshold sees both sides
    return np.stack([np.stack([_clustered(rng, 9, 3, 1 + (b % 3), s) for b in range(4)])
                     for s in (0.0, 0.02, 0.5)])


def _pairs_loop(x):
    n = x.shape[0]
    return [float(np.dot(x[i], x[j])) for i in range(n) for j in range(i + 1, n)]


def _components_loop(x, delta):
    """Union-find over pairs with <x_i, x_j> >= 1 - delta (written independently of the module)."""
    n = x.shape[0]
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for i, j in itertools.combinations(range(n), 2):
        if np.dot(x[i], x[j]) >= 1 - delta:
            parent[find(i)] = find(j)
    return len({find(i) for i in range(n)})


def _each(batch):
    for idx in np.ndindex(batch.shape[:-2]):
        yield idx, batch[idx]


def test_pair_fraction_gram_mean_min_match_loops(batch):
    for delta in (1e-3, 1e-1, 0.9):
        pf = ob.pair_fraction(batch, delta)
        assert pf.shape == batch.shape[:-2]
        for idx, x in _each(batch):
            g = _pairs_loop(x)
            assert pf[idx] == sum(v >= 1 - delta for v in g) / len(g)
    gm, gn = ob.gram_mean(batch), ob.gram_min(batch)
    for idx, x in _each(batch):
        g = _pairs_loop(x)
        assert math.isclose(gm[idx], sum(g) / len(g), rel_tol=1e-12, abs_tol=1e-14)
        assert math.isclose(gn[idx], min(g), rel_tol=1e-12, abs_tol=1e-14)
    # the statistic is not trivial on this batch: both 0, 1 and values in between occur
    vals = set(np.round(ob.pair_fraction(batch, 1e-3).ravel(), 6))
    assert 1.0 in vals and any(0 < v < 1 for v in vals)


def test_pair_fraction_equals_the_authors_ordered_pair_count(batch):
    # phase-diagrams.py: mask the diagonal, count IP > 0.999 over ordered pairs i != j
    for idx, x in _each(batch):
        ip = x @ x.T
        mask = ~np.eye(len(x), dtype=bool)
        authors = (ip[mask] > 0.999).sum() / mask.sum()
        assert math.isclose(ob.pair_fraction(x, 1e-3), authors, rel_tol=0, abs_tol=1e-15)


def test_cluster_count_matches_union_find_and_scipy(batch):
    for delta in (1e-3, 1e-1, 0.9):
        cc = ob.cluster_count(batch, delta)
        for idx, x in _each(batch):
            assert cc[idx] == _components_loop(x, delta)
            assert cc[idx] == cluster_labels(x, delta).max() + 1  # Trajectory's criterion (scipy)


def test_cluster_count_and_rank_differ_on_a_chain():
    # a ~ b ~ c with a !~ c: one single-linkage cluster; the thresholded Gram matrix
    # [[1,1,0],[1,1,1],[0,1,1]] has rank 3
    ang = np.array([0.0, 0.012, 0.024])
    x = np.stack([np.cos(ang), np.sin(ang), 0 * ang], axis=1)
    assert ob.cluster_count(x, 1e-4) == 1
    a = (x @ x.T > 1 - 1e-4).astype(int)
    assert a.tolist() == [[1, 1, 0], [1, 1, 1], [0, 1, 1]]
    assert ob.cluster_rank(x) == sp.Matrix(a).rank() == 3


def test_cluster_rank_matches_exact_rank(batch):
    for eps in (1e-4, 1e-2):
        cr = ob.cluster_rank(batch, eps)
        for idx, x in _each(batch):
            a = (x @ x.T > 1 - eps).astype(int)
            assert cr[idx] == sp.Matrix(a).rank()


def test_time_to_cluster_matches_trajectory_and_loop():
    x0 = random_sphere(6, 3, seed=1)
    traj = simulate("sa", x0, beta=1.0, t_final=12.0, dt=0.05, save_every=10)
    t_star = ob.time_to_cluster(traj.states, traj.times, 1e-3)
    assert t_star == traj.time_to_cluster(1e-3)
    assert t_star is not None and 0 < t_star < 12
    k = next(k for k in range(len(traj.times)) if min(_pairs_loop(traj.states[k])) >= 1 - 1e-3)
    assert t_star == traj.times[k]
    # never reached -> NaN; batched over a second axis
    both = np.stack([traj.states, np.repeat(traj.states[:1], len(traj.times), axis=0)], axis=1)
    out = ob.time_to_cluster(both, traj.times, 1e-3)
    assert out[0] == t_star and np.isnan(out[1])


def test_energy_matches_closed_form():
    rng = np.random.default_rng(3)
    x = np.stack([random_sphere(5, 4, seed=s) for s in range(6)]).reshape(2, 3, 5, 4)
    beta = 1.7
    e = ob.energy(x, model="sa", beta=beta)
    assert e.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        xi = x[idx]
        ref = sum(math.exp(beta * float(np.dot(xi[i], xi[j]))) for i in range(5) for j in range(5)) / (2 * beta)
        assert math.isclose(e[idx], ref, rel_tol=1e-12)
    th = rng.uniform(0, 2 * np.pi, (3, 7))
    ek = ob.energy(th, model="kuramoto", beta=beta)
    for b in range(3):
        ref = sum(math.exp(beta * math.cos(th[b, i] - th[b, j])) for i in range(7) for j in range(7)) / (2 * beta * 49)
        assert math.isclose(ek[b], ref, rel_tol=1e-12)


def test_order_parameter_and_circle_directions():
    rng = np.random.default_rng(5)
    th = rng.uniform(-10, 10, (4, 2, 11))
    r = ob.order_parameter(th)
    assert np.allclose(r, np.abs(np.exp(1j * th).mean(axis=-1)), rtol=0, atol=1e-15)
    assert ob.order_parameter(np.full(5, 2.0)) == pytest.approx(1.0, abs=1e-15)
    u = ob.directions(th, "angles")
    g = ob.gram(u)
    assert np.allclose(g, np.cos(th[..., :, None] - th[..., None, :]), atol=1e-15)


def test_ensemble_mean_uses_per_system_statistics():
    rng = np.random.default_rng(11)
    s = rng.uniform(0, 1, (10, 3))
    mean, se = ob.ensemble_mean(s, axis=0)
    for j in range(3):
        col = list(s[:, j])
        m = sum(col) / 10
        assert math.isclose(mean[j], m, rel_tol=1e-14)
        assert math.isclose(se[j], math.sqrt(sum((v - m) ** 2 for v in col) / 9 / 10), rel_tol=1e-12)
    s[2, 1] = np.nan
    mean, se = ob.ensemble_mean(s, axis=0, skipna=True)
    col = [v for v in s[:, 1] if not math.isnan(v)]
    m = sum(col) / 9
    assert math.isclose(mean[1], m, rel_tol=1e-14)
    assert math.isclose(se[1], math.sqrt(sum((v - m) ** 2 for v in col) / 8 / 9), rel_tol=1e-12)
    assert np.isnan(ob.ensemble_mean(s, axis=0)[0][1])
    assert np.isnan(ob.ensemble_mean(s[:1], axis=0)[1]).all()


def test_pooled_pairs_would_understate_the_error():
    # a whole system clusters or not: per-system SE reflects that, a pooled-Bernoulli SE does not
    per_system = np.array([1.0, 0.0] * 8)  # 16 systems, half clustered
    _, se = ob.ensemble_mean(per_system)
    pairs = 16 * math.comb(32, 2)
    pooled = math.sqrt(0.25 / pairs)
    assert se > 10 * pooled


@pytest.mark.parametrize("call, name", [
    (lambda: ob.pair_fraction(np.eye(3), 0.0), "delta"),
    (lambda: ob.pair_fraction(np.eye(3), 2.5), "delta"),
    (lambda: ob.cluster_count(np.eye(3), float("nan")), "delta"),
    (lambda: ob.cluster_rank(np.eye(3), -1), "eps"),
    (lambda: ob.pair_fraction(np.ones(3)), "x"),
    (lambda: ob.gram_min(np.ones((1, 3))), "x"),
    (lambda: ob.time_to_cluster(np.ones((2, 3, 2)) / math.sqrt(2), [0.0]), "times"),
    (lambda: ob.directions(np.eye(2), "torus"), "manifold"),
])
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        call()


def test_thresholds_at_the_boundary():
    # <x_0, x_1> = 0.5 exactly: counted by pair_fraction / cluster_count at delta = 0.5 (>=), not by
    # the authors' strict rank test at eps = 0.5 (>)
    x = np.array([[1.0, 0.0], [0.5, math.sqrt(0.75)]])
    assert float(x[0] @ x[1]) == 0.5
    assert ob.pair_fraction(x, 0.5) == 1.0 and ob.cluster_count(x, 0.5) == 1
    assert ob.cluster_rank(x, 0.5) == 2
    assert ob.time_to_cluster(x[None], [3.0], 0.5) == 3.0
