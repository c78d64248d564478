"""The ``energy.*`` claims (properties/claims/energy.py and its helpers in ``claims/_energy.py``): each under
the ``ci`` profile, plus independent checks of their pieces.

Independent routes: 50-digit mpmath energies (increments, finite differences), direct normalisation
and cos/sin geodesics, the numba kernels' fields against the NumPy rates, sinh(b)/b on S^2 and Monte
Carlo for the uniform energy, negative controls in which a wrong dissipation or second-variation formula
must be flagged.
"""

import math

import mpmath as mp
import numpy as np
import pytest

from attnflow.numerics import fields
from attnflow.properties import registry
from attnflow.properties.claims import _energy, energy
from attnflow.properties.claims import energy as en
from attnflow.properties.registry import Violation


CLAIMS = [
    "energy.dissipation.sa", "energy.dissipation.usa", "energy.dissipation.qkv_symmetric",
    "energy.monotone.sa", "energy.monotone.usa", "energy.monotone.general_qkv",
    "energy.monotone.discrete_step", "energy.variation.first", "energy.variation.second",
]
REAL = ["energy.bounds"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    if c.expect == "holds":
        assert r.examples >= c.max_examples("ci")
        assert r.measurement is not None and r.measurement["n"] >= c.max_examples("ci")
    else:
        assert r.counterexample and r.replay and "counterexample" in r.detail


@pytest.mark.parametrize("claim_id", REAL)
def test_bounds_claim_meets_its_expectation_under_ci(claim_id):
    c = registry.get_claim(claim_id)
    r = registry.run_claim(c, profile="ci", seed=20260101)
    assert r.outcome != "error", r.detail
    assert r.ok, r.detail
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1
    assert c.tolerance and c.source and c.statement


def test_discrete_step_reports_safe_steps():
    r = registry.run_claim(registry.get_claim("energy.monotone.discrete_step"), profile="quick", seed=3)
    assert r.ok
    assert "largest safe h for this start" in r.detail
    assert any(k.startswith("h_safe[") for k in (r.measurement or {}))


# ------------------------------------------------------------------------------------ bounds
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


# ------------------------------------------------------------------------------------ helpers
def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _mp_energy(y, beta, A=None):
    """50-digit energy (1/2b) sum exp(b <y_i, A y_j>) of an mpmath matrix y."""
    n, d = y.rows, y.cols
    A = mp.eye(d) if A is None else mp.matrix(A.tolist())
    tot = mp.mpf(0)
    for i in range(n):
        for j in range(n):
            s = sum(y[i, k] * sum(A[k, l] * y[j, l] for l in range(d)) for k in range(d))
            tot += mp.e ** (beta * s)
    return tot / (2 * beta)


def test_energy_increment_matches_mpmath():
    rng = np.random.default_rng(0)
    with mp.workdps(50):
        for A in (None, rng.standard_normal((3, 3))):
            x = _sphere(rng, 4, 3)
            delta = 1e-6 * rng.standard_normal((4, 3))
            beta = 2.5
            X, Dl = mp.matrix(x.tolist()), mp.matrix(delta.tolist())
            exact = _mp_energy(X + Dl, mp.mpf(beta), A) - _mp_energy(X, mp.mpf(beta), A)
            got = _energy.energy_increment(x, delta, beta, A)
            assert abs(got - float(exact)) <= 1e-13 * abs(float(exact))
            assert _energy.particle_energy(x, beta, A) == pytest.approx(float(_mp_energy(X, mp.mpf(beta), A)), rel=1e-14)


def test_curve_and_geodesic_displacements():
    rng = np.random.default_rng(1)
    x = _sphere(rng, 5, 4)
    v = rng.standard_normal((5, 4))
    v -= np.sum(v * x, axis=1, keepdims=True) * x
    v[2] = 0.0
    for h in (1e-3, 0.3, -2.0):
        y = x + h * v
        direct = y / np.linalg.norm(y, axis=1, keepdims=True)
        np.testing.assert_allclose(x + _energy.sphere_curve_delta(x, v, h), direct, atol=1e-15)
        a = np.linalg.norm(v, axis=1, keepdims=True)
        geo = np.where(a > 0, np.cos(h * a) * x + np.sin(h * a) * v / np.where(a > 0, a, 1), x)
        np.testing.assert_allclose(x + _energy.geodesic_delta(x, v, h), geo, atol=1e-15)
        np.testing.assert_allclose(np.linalg.norm(x + _energy.geodesic_delta(x, v, h), axis=1), 1.0, atol=1e-15)


def test_central_differences_on_exp():
    f = lambda t: math.expm1(1.3 * t)  # noqa: E731  f(0) = 0, f'(0) = 1.3, f''(0) = 1.69
    assert _energy.central_first(f, 1e-3) == pytest.approx(1.3, rel=1e-12)
    assert _energy.central_second(f, 1e-3) == pytest.approx(1.69, rel=1e-9)


def test_dissipation_formula_matches_kernel():
    rng = np.random.default_rng(2)
    x = _sphere(rng, 6, 3)
    for model in ("sa", "usa"):
        xd = fields.velocity(x, model=model, beta=1.7)
        assert en.dissipation_formula(x, xd, 1.7, mean=model == "usa") == pytest.approx(
            fields.dissipation(x, model=model, beta=1.7), rel=1e-13)


def _mp_rate_along(x, xdot, beta, As):
    """d/dh sum_A E_A(normalise(x + h xdot)) at 0 by a 50-digit central difference (h = 1e-15)."""
    with mp.workdps(50):
        h = mp.mpf("1e-15")
        X, V = mp.matrix(x.tolist()), mp.matrix(xdot.tolist())

        def curve(t):
            y = X + t * V
            for i in range(y.rows):
                nrm = mp.sqrt(sum(y[i, k] ** 2 for k in range(y.cols)))
                for k in range(y.cols):
                    y[i, k] /= nrm
            return y

        out = []
        for A in As:
            out.append(float((_mp_energy(curve(h), mp.mpf(beta), A) - _mp_energy(curve(-h), mp.mpf(beta), A)) / (2 * h)))
        return np.array(out)


def test_qkv_energy_rate_against_mpmath_and_identity():
    rng = np.random.default_rng(3)
    d, n, beta = 3, 4, 1.3
    Q, K, V = rng.standard_normal((3, d, d))
    x = _sphere(rng, n, d)
    xdot = fields.velocity(x, model="qkv", beta=beta, Q=Q, K=K, V=V)
    expected = _mp_rate_along(x, xdot, beta, [Q.T @ K])[0]
    assert float(_energy.qkv_energy_rate(x, Q, K, V, beta)) == pytest.approx(expected, rel=1e-10)
    # batched form agrees with single, and Q = K = V = I reduces to the SA dissipation
    xb = np.stack([x, _sphere(rng, n, d)])
    np.testing.assert_allclose(_energy.qkv_energy_rate(xb, Q, K, V, beta)[0], _energy.qkv_energy_rate(x, Q, K, V, beta),
                               rtol=1e-13)
    eye = np.eye(d)
    assert float(_energy.qkv_energy_rate(x, eye, eye, eye, beta)) == pytest.approx(
        fields.dissipation(x, model="sa", beta=beta), rel=1e-12)


def test_second_variation_two_evaluations_and_mpmath():
    rng = np.random.default_rng(5)
    n, d, beta = 4, 3, 1.1
    x = _sphere(rng, n, d)
    v = rng.standard_normal((n, d))
    v -= np.sum(v * x, axis=1, keepdims=True) * x
    printed = en.variation_second_printed(x, v, beta)
    assert _energy.variation_second_corrected(x, v, beta) == pytest.approx(printed, rel=1e-13)
    with mp.workdps(50):
        X, Vm = mp.matrix(x.tolist()), mp.matrix(v.tolist())
        norms = [mp.sqrt(sum(Vm[i, k] ** 2 for k in range(d))) for i in range(n)]

        def E(s):
            y = mp.matrix(n, d)
            for i in range(n):
                for k in range(d):
                    y[i, k] = mp.cos(s * norms[i]) * X[i, k] + mp.sin(s * norms[i]) * Vm[i, k] / norms[i]
            return _mp_energy(y, mp.mpf(beta)) / n**2

        h = mp.mpf("1e-12")
        first = (E(h) - E(-h)) / (2 * h)
        second = (E(h) - 2 * E(0) + E(-h)) / h**2
    assert _energy.variation_first(x, v, beta) == pytest.approx(float(first), rel=1e-12)
    assert printed == pytest.approx(float(second), rel=1e-9)


def test_largest_safe_step_brackets_the_threshold():
    rng = np.random.default_rng(6)
    x = _sphere(rng, 5, 3)
    h = _energy.largest_safe_step(x, 1.0, "sa")
    assert 0.1 < h < 100
    e_safe = _energy.discrete_layer_energies(x, 1.0, h)
    assert np.all(np.diff(e_safe) >= -_energy.round_off_slack(e_safe[:-1]))
    e_bad = _energy.discrete_layer_energies(x, 1.0, h * 1.001)
    assert np.any(np.diff(e_bad) < -_energy.round_off_slack(e_bad[:-1]))
    # the layer itself: one step by hand with the numba SA field
    y = x + 0.7 * fields.velocity(x, model="sa", beta=1.0)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    assert _energy.discrete_layer_energies(x, 1.0, 0.7, steps=1)[1] == pytest.approx(_energy.particle_energy(y, 1.0), rel=1e-13)


def test_dissipation_check_flags_a_wrong_formula(monkeypatch):
    # negative control: replacing Z_i by n in the SA identity must be caught
    rng = np.random.default_rng(7)
    ex = {"x": _sphere(rng, 5, 3), "beta": 2.0}
    en.dissipation_sa.check(ex)  # the right formula passes
    monkeypatch.setattr(en, "dissipation_formula", lambda x, xd, b, A=None, mean=False: float(x.shape[0] * np.sum(xd**2)))
    with pytest.raises(Violation):
        en.dissipation_sa.check(ex)


def test_variation_check_flags_a_wrong_second_variation(monkeypatch):
    rng = np.random.default_rng(8)
    x = _sphere(rng, 4, 3)
    v = rng.standard_normal((4, 3))
    v -= np.sum(v * x, axis=1, keepdims=True) * x
    ex = {"kind": "random", "x": x, "v": v, "beta": 1.5}
    en.variation_second_claim.check(ex)
    # drop the <v(x), v(y)> term: the finite differences must disagree
    orig = en.variation_second_printed
    monkeypatch.setattr(en, "variation_second_printed",
                        lambda x, v, b: orig(x, v, b) - float(np.sum(np.exp(b * x @ x.T) * (v @ v.T))) / len(x) ** 2)
    with pytest.raises(Violation):
        en.variation_second_claim.check(ex)


def test_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="x:"):
        _energy.particle_energy(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="A:"):
        _energy.particle_energy(np.eye(3), 1.0, np.eye(2))
    with pytest.raises(ValueError, match="delta:"):
        _energy.energy_increment(np.eye(3), np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="beta:"):
        _energy.particle_energy(np.eye(3), 0.0)
