"""The registered claims: each one under the ``ci`` profile, plus independent checks of their pieces.

Independent routes: classical special cases (Wendel on the circle, tanh at n = 2, sinh(b)/b on S^2),
finite differences of the Ei antiderivative, Gordan certificates, perturbations that must break
stationarity.
"""

import math

import numpy as np
import pytest

from attnflow.properties import registry
from attnflow.properties.claims import _energy, cluster, energy, equiangular, long_context
from attnflow.properties.registry import Violation

REAL = ["energy.bounds", "cluster.wendel", "cluster.stationary", "equiangular.closed_form.beta0",
        "equiangular.hitting_time", "equiangular.bound", "long_context.finite_n"]


@pytest.mark.parametrize("claim_id", REAL)
def test_claim_meets_its_expectation_under_ci(claim_id):
    c = registry.get_claim(claim_id)
    r = registry.run_claim(c, profile="ci", seed=20260101)
    assert r.outcome != "error", r.detail
    assert r.ok, r.detail
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1
    assert c.tolerance and c.source and c.statement


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


# -------------------------------------------------------------------------------- equiangular
def test_beta0_closed_form_special_case_tanh():
    t = np.linspace(0, 3, 7)
    assert np.max(np.abs(equiangular.rho_beta0(t, 2, 0.0) - np.tanh(t))) < 1e-15


def test_hitting_F_is_an_antiderivative_of_one_over_rho_dot():
    # central differences, independent of the ODE solver
    for n, beta, s in [(2, 0.5, 0.1), (6, 3.0, 0.4), (20, 8.0, -0.02), (5, 1.0, 0.9)]:
        h = 1e-5
        dF = (equiangular.hitting_F(s + h, n, beta) - equiangular.hitting_F(s - h, n, beta)) / (2 * h)
        assert dF == pytest.approx(1.0 / equiangular.rho_dot_sa(s, n, beta), rel=1e-7)


def test_hitting_time_reference_value_from_the_notes():
    # value quoted when the Ei formula was derived (derivations/equiangular.md): "hitting time 2.000000000000 for n = 6, beta = 3 over t in [0, 2]" from an orthonormal start
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda t, y: [equiangular.rho_dot_sa(y[0], 6, 3.0)], (0, 2), [0.0], method="DOP853",
                    rtol=1e-13, atol=1e-15)
    rho2 = sol.y[0, -1]
    t = equiangular.hitting_F(rho2, 6, 3.0) - equiangular.hitting_F(0.0, 6, 3.0)
    assert t == pytest.approx(2.0, abs=1e-9)


def test_bound_constants():
    c, lam = equiangular.bound_constants(5, 0.0, 0.5)
    assert (c, lam) == (1.0, pytest.approx(1.0 / 5))
    c, lam = equiangular.bound_constants(3, 1.0, -0.25)
    assert c == 1.25 and lam == pytest.approx(0.5 / (math.exp(1.25) + 2))


# -------------------------------------------------------------------------------- long context
def test_finite_n_limits_of_the_formula():
    assert long_context.finite_n_overlap(7, 0.3, 0.0) == pytest.approx(1.0, abs=1e-15)  # beta = 0: equal outputs
    assert long_context.finite_n_overlap(7, 0.3, 300.0) == pytest.approx(0.3, abs=1e-12)  # beta -> inf: identity


def test_explicit_layer_is_equiangular_and_matches():
    g = long_context.explicit_overlaps(9, 0.4, 2.5, 11, seed=4)
    off = g[~np.eye(9, dtype=bool)]
    assert np.ptp(off) < 1e-13
    assert off[0] == pytest.approx(long_context.finite_n_overlap(9, 0.4, 2.5), abs=1e-13)


# -------------------------------------------------------------------------------- energy
def test_uniform_energy_on_s2_is_sinh():
    # d = 3: <x,y> is uniform on [-1, 1], so E e^{b<x,y>} = sinh(b)/b
    for b in (0.1, 1.0, 7.0):
        assert _energy.log_uniform_mean_bessel(b, 3) == pytest.approx(math.log(math.sinh(b) / b), rel=1e-13)
        assert _energy.log_uniform_mean_quad(b, 3) == pytest.approx(math.log(math.sinh(b) / b), rel=1e-12)


def test_uniform_energy_by_monte_carlo():
    rng = np.random.default_rng(0)
    d, b, m = 4, 2.0, 200_000
    x = rng.standard_normal((m, d))
    y = rng.standard_normal((m, d))
    u = np.sum(x * y, axis=1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    vals = np.exp(b * u)
    assert abs(vals.mean() - math.exp(_energy.log_uniform_mean_bessel(b, d))) < 5 * vals.std() / math.sqrt(m)


def test_empirical_energy_never_below_uniform_on_polygons():
    # regular polygons kill all harmonics below n: the gap is 2 sum_k a_{kn} > 0 but below rounding
    for n in (3, 8, 40):
        ex = {"kind": "polygon", "n": n, "d": 2, "beta": 1.0, "seed": 0}
        m = energy.bounds.check(ex)
        assert m.value > -1e-12


@pytest.mark.parametrize("kind", ["iid", "cap", "polygon", "simplex", "cross"])
def test_energy_bounds_single_point_measures(kind):
    # n = 1 (a Dirac mass) attains the upper bound e^beta/(2 beta); regression: simplex with n = 1 used to raise
    m = energy.bounds.check({"kind": kind, "n": 1, "d": 3, "beta": 2.0, "seed": 0})
    if kind in ("iid", "cap"):
        assert m.extra["E(mu)/E_max"] == pytest.approx(1.0, abs=1e-15)
    assert m.value > 0
