"""The ``cluster.*`` claims (properties/claims/cluster.py and its helpers in ``claims/_clustering.py``):
each under the ``ci`` profile, plus independent checks of their pieces.

Independent routes: classical special cases (Wendel on the circle), Gordan certificates, perturbations
that must break stationarity, brute-force geometry, and negative controls (a reversed flow, a rate
bound above the true rate, a wrong Wendel formula, an antipodal pair) that must be caught.
"""

import math

import numpy as np
import pytest

from attnflow.properties.claims import _clustering, cluster
from attnflow.properties.registry import Violation


CLAIMS = ["cluster.wendel", "cluster.stationary", "cluster.hemisphere.monotone", "cluster.hemisphere.rate", "cluster.d3.single"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1


# -------------------------------------------------------------------------------- cluster.wendel
def test_wendel_special_cases():
    for n in range(1, 12):
        assert cluster.wendel_probability(n, 2) == pytest.approx(n / 2 ** (n - 1))  # circle: n/2^(n-1)
        for d in range(n, n + 3):
            assert cluster.wendel_probability(n, d) == 1.0
    assert cluster.wendel_probability(8, 3) == pytest.approx(29 / 128)


def test_hemisphere_decision():
    rng = np.random.default_rng(1)
    w = np.array([0.0, 0.0, 1.0])
    x = rng.standard_normal((6, 3))
    x[:, 2] = np.abs(x[:, 2]) + 0.05
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert cluster.in_open_hemisphere(x) and np.all(x @ w > 0)
    assert not cluster.in_open_hemisphere(np.vstack([x, -x[:1]]))  # an antipodal pair: no open hemisphere
    from attnflow.properties.strategies import regular_simplex

    assert not cluster.in_open_hemisphere(regular_simplex(4, 3))  # 0 is the centroid


def test_wendel_check_rejects_a_wrong_formula(monkeypatch):
    # negative control: with the sum cut one term short the binomial test must flag the claim
    monkeypatch.setattr(cluster, "wendel_probability",
                        lambda n, d: sum(math.comb(n - 1, k) for k in range(d - 1)) / 2 ** (n - 1))
    with pytest.raises(Violation):
        cluster.wendel.check({"n": 6, "d": 3, "seed": 0})


# -------------------------------------------------------------------------------- cluster.stationary
@pytest.mark.parametrize("model", ["sa", "usa"])
def test_perturbed_stationary_configurations_move(model):
    for kind, n, d in [("antipodal", 2, 3), ("simplex", 4, 3)]:
        x = cluster.stationary_configuration(kind, n, d, seed=3)
        assert cluster.relative_speed(x, model, 2.0) < 1e-14
        y = x + 1e-3 * np.random.default_rng(0).standard_normal(x.shape)
        y /= np.linalg.norm(y, axis=1, keepdims=True)
        assert cluster.relative_speed(y, model, 2.0) > 1e-7  # 7+ orders above round-off


# -------------------------------------------------------------------------------- hemisphere
def _hemisphere_example(model="sa", beta=1.0, n=5, d=3, seed=0):
    rng = np.random.default_rng(seed)
    w = np.zeros(d)
    w[-1] = 1.0
    x = rng.standard_normal((n, d))
    x[:, -1] = np.abs(x[:, -1]) + 0.1
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return {"model": model, "x0": x, "w": w, "beta": beta, "seed": seed}


def test_hemisphere_monotone_catches_a_reversed_flow(monkeypatch):
    # negative control: the time-reversed SA flow pushes the lowest token down, the check must see it
    ex = _hemisphere_example()
    cluster.hemisphere_monotone.check(ex)  # forward flow passes
    real = cluster.make_field
    monkeypatch.setattr(cluster, "make_field", lambda *a, **k: (lambda t, x, f=real(*a, **k): -f(t, x)))
    with pytest.raises(Violation):
        cluster.hemisphere_monotone.check(ex)


def test_diameter_and_min_inner_brute_force():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    brute = max(np.linalg.norm(a - b) for a in x for b in x)
    assert _clustering.diameter(x) == pytest.approx(brute, rel=1e-14)
    assert _clustering.min_inner(x) == pytest.approx(min(a @ b for a in x for b in x), abs=1e-15)
    assert _clustering.diameter(np.stack([x, x[::-1]])).shape == (2,)


def test_hemisphere_rate_bound_and_negative_control(monkeypatch):
    assert cluster.hemisphere_rate_bound(2, 0.0) == 0.25
    assert cluster.hemisphere_rate_bound(4, 1.0) == pytest.approx(1 / (8 * math.e**2))
    ex = _hemisphere_example(beta=0.5)
    m = cluster.hemisphere_rate.check(ex)
    assert m.fitted == pytest.approx(1.0, rel=1e-3)  # SA linearisation at consensus: rate 1 for the diameter
    monkeypatch.setattr(cluster, "hemisphere_rate_bound", lambda n, beta: 1.5)  # a bound above the true rate
    with pytest.raises(Violation):
        cluster.hemisphere_rate.check(ex)


def test_d3_single_negative_control_antipodal_pair():
    # an antipodal pair is stationary at beta = 0 (the field vanishes exactly): never one cluster
    x = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])
    with pytest.raises(Violation):
        cluster.d3_single.check({"model": "sa", "x0": x, "beta": 0.0})
    y = np.array([[0.0, 0.6, 0.8], [0.0, 0.0, -1.0]])
    m = cluster.d3_single.check({"model": "usa", "x0": y, "beta": 0.0})
    assert 0 < m.value < 1


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="states"):
        _clustering.diameter(np.zeros(3))
    with pytest.raises(ValueError, match="model"):
        _clustering.hemisphere_speed_scale("gpt", 1.0)
    with pytest.raises(ValueError, match="q, k"):
        _clustering.hemisphere_speed_scale("qkv", 1.0)
    with pytest.raises(ValueError, match="first_chunk"):
        _clustering.integrate_until(lambda t, x: x, np.ones((2, 2)), lambda t, s: None, rtol=1e-6,
                                   first_chunk=0.0, t_max=1.0)
