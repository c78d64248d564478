"""Clustering, equiangular-dynamics, long-context, normalisation, spectral and metastability claims.

Each claim runs under the ``ci`` profile and must meet its expectation.  The pieces are checked by
independent routes: negative controls (a perturbed theory or a reversed flow must be caught),
brute-force geometry, the explicit finite-n formula, and the derived eigenvalues of
``attnflow.symbolic.spectral`` against finite-difference Jacobians.
"""

import math

import numpy as np
import pytest

from attnflow.numerics import equiangular, make_field, single_thread
from attnflow.properties import registry
from attnflow.properties.claims import _clustering, _equiangular, _long_context, _preln, _spectral, cluster, long_context
from attnflow.properties.claims import equiangular as equiangular_claims
from attnflow.properties.claims.long_context import finite_n_overlap
from attnflow.properties.registry import Violation

HOLDS = ["cluster.hemisphere.monotone", "cluster.hemisphere.rate", "cluster.d3.single", "equiangular.invariance",
         "equiangular.rate.sa", "equiangular.rate.usa", "long_context.limits", "normalization.preln_rate",
         "spectral.consensus", "metastability.escape"]
SEED = 20260101


@pytest.mark.parametrize("claim_id", HOLDS)
def test_claim_meets_its_expectation_under_ci(claim_id):
    c = registry.get_claim(claim_id)
    r = registry.run_claim(c, profile="ci", seed=SEED)
    assert r.outcome != "error", r.detail
    assert r.ok, r.detail
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1
    assert c.tolerance and c.source and c.statement


def test_spectral_polarization_as_printed_is_refuted_under_ci():
    # FINDING: the printed unbalanced-polarisation criterion (derivations/spectral.md) is wrong when one group is a
    # single token and lambda_p > 0; the claim is registered with expect="fails" and a finding text.
    c = registry.get_claim("spectral.polarization")
    assert c.expect == "fails" and "single token" in c.finding
    r = registry.run_claim(c, profile="ci", seed=SEED)
    assert r.outcome == "fails" and r.ok, r.detail


def test_spectral_polarization_counterexample_is_the_singleton_group():
    r = registry.run_claim(registry.get_claim("spectral.polarization"), profile="quick", seed=SEED)
    assert r.outcome == "fails"
    assert "n_+ = 1" in r.detail and "stated criterion says unstable" in r.detail


def test_spectral_polarization_corrected_criterion_holds_under_ci():
    r = registry.run_claim(registry.get_claim("spectral.polarization.corrected"), profile="ci", seed=SEED)
    assert r.outcome == "holds" and r.ok, r.detail


# ------------------------------------------------------------------------------ hemisphere
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


def test_cap_configuration_geometry():
    for k, theta in [(2, 1.2), (3, 1.5)]:
        x, w, lab = _clustering.cap_configuration(k, 4, 3, theta, 0.02, seed=1)
        assert np.allclose(np.linalg.norm(w, axis=1), 1) and np.allclose(np.linalg.norm(x, axis=1), 1)
        g = w @ w.T
        assert np.allclose(g[~np.eye(k, dtype=bool)], math.cos(theta), atol=1e-14)
        assert np.all(np.sum(x * w[lab], axis=1) >= 1 - 0.02 - 1e-15)
    # alpha: brute force over points on the two cap boundaries in the plane of the centres
    theta, eps = 1.2, 0.02
    a = math.acos(1 - 2 * eps)
    phis = np.linspace(-a, a, 2001)
    best = max(math.cos(theta + p - q) for p in phis[::50] for q in phis[::50])
    assert _clustering.cap_alpha(theta, eps) == pytest.approx(best, abs=1e-12)
    with pytest.raises(ValueError):
        _clustering.cap_configuration(3, 3, 2, 2.5, 0.02, seed=0)  # three caps cannot be pairwise 143 deg apart


def test_escape_time_grows_with_beta():
    x, w, lab = _clustering.cap_configuration(2, 3, 2, 1.3, 0.02, seed=2)
    with single_thread():
        t = [_clustering.escape_time(x, w, lab, b, 0.02) for b in (3.0, 5.0, 7.0)]
    assert t[0] < t[1] < t[2]


def test_single_thread_restores_the_thread_count():
    import numba

    before = numba.get_num_threads()
    with single_thread():
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


# ------------------------------------------------------------------------------ equiangular
def test_pair_eps_matches_the_gram_matrix():
    x = equiangular(5, 6, 0.3, seed=1)
    mean, spread = _equiangular.pair_eps(x[None])
    assert mean[0] == pytest.approx(0.7, abs=1e-14) and spread[0] < 1e-14
    mean, _ = _equiangular.pair_eps(3.0 * x[None])  # directions only
    assert mean[0] == pytest.approx(0.7, abs=1e-14)


def test_invariance_catches_a_wrong_ode(monkeypatch):
    ex = {"model": "sa", "n": 4, "d": 5, "beta": 1.5, "rho0": 0.1, "seed": 0}
    assert equiangular_claims.invariance.check(ex).value < 1e-10
    real = _equiangular.rho_dot_sa
    monkeypatch.setattr(_equiangular, "rho_dot_sa", lambda rho, n, beta: 1.001 * real(rho, n, beta))
    with pytest.raises(Violation):
        equiangular_claims.invariance.check(ex)


def test_equiangular_rates_discriminate_sa_from_usa():
    ex = {"n": 4, "d": 4, "beta": 1.0, "rho0": 0.2, "seed": 0}
    sa = equiangular_claims.rate_sa.check(ex)
    usa = equiangular_claims.rate_usa.check(ex)
    assert sa.fitted == pytest.approx(2.0, rel=1e-4)
    assert usa.fitted == pytest.approx(2 * math.e, rel=1e-4)  # so the SA theory value would be rejected


# ------------------------------------------------------------------------------ long context
def test_overlap_expression_matches_the_float_formula():
    import sympy as sp

    n, beta, rho = sp.symbols("n beta rho", positive=True)
    expr = _long_context.overlap_expression(n, beta, rho)
    for nv, bv, rv in [(5, 1.3, 0.4), (40, 6.0, 0.2), (2, 0.1, 0.9)]:
        val = float(expr.subs({n: nv, beta: bv, rho: rv}))
        assert val == pytest.approx(finite_n_overlap(nv, rv, bv), rel=1e-13)


def test_stated_limit_values():
    import sympy as sp

    rho = sp.Rational(1, 3)
    assert long_context.stated_limit(sp.Rational(1, 2) / (1 - rho), rho) == 1
    assert long_context.stated_limit(1 / (1 - rho), rho) == sp.Rational(2, 3)  # 4 rho/(1 + 3 rho)
    assert long_context.stated_limit(2 / (1 - rho), rho) == rho


def test_limits_check_catches_a_wrong_limit(monkeypatch):
    import sympy as sp

    ex = {"rho": (1, 3), "kappa_below": (1, 2), "kappa_above": (3, 2)}
    long_context.limits.check(ex)
    real = long_context.stated_limit

    def wrong(gamma, rho):
        k = sp.nsimplify(gamma) * (1 - rho)
        return 4 * rho / (1 + 2 * rho) if k == 1 else real(gamma, rho)

    monkeypatch.setattr(long_context, "stated_limit", wrong)
    with pytest.raises(Violation):
        long_context.limits.check(ex)


# ------------------------------------------------------------------------------ Pre-LN
def test_preln_reduced_rhs_limits():
    # at rho = 1 (eps = 0): no angular motion and dr/dt = 1; at beta = 0: dr/dt = (1 + (n-1) rho)/n
    assert _preln.preln_reduced_rhs(0.0, [0.0, 2.0], 5, 3.0) == [-0.0, 1.0]
    de, dr = _preln.preln_reduced_rhs(0.0, [0.6, 2.0], 5, 0.0)
    assert dr == pytest.approx((1 + 4 * 0.4) / 5)
    assert de == pytest.approx(-2 * 0.6 * (4 * 0.4 + 1) / 5 / 2.0)


def test_preln_reference_constant():
    # FINDING (Pre-LN, arXiv:2510.22026): lim t^2 (1 - rho) is 3.73495 for n = 8, beta = 2, rho0 = 0, r0 = 1; the quoted 3.736 is
    # the value of t^2 (1 - rho) near t = 1e4.  Two routes for the limit (r^2 eps and t^2 eps at 1e7) agree, and the
    # particles reproduce the reduced ODE at t = 1e4.
    ref = _preln.preln_reference()
    c = ref["C = lim r^2 (1 - rho)"]
    assert c == pytest.approx(ref["t^2 (1 - rho) at t = 1e7"], abs=2e-5)
    assert ref["t^2 (1 - rho) at t = 1e4, particles"] == pytest.approx(ref["t^2 (1 - rho) at t = 1e4"], rel=1e-7)
    assert abs(c - 3.73495) < 1e-4
    assert abs(c - 3.736) > 1e-3 and abs(ref["t^2 (1 - rho) at t = 1e4"] - 3.736) < 5e-4


# ------------------------------------------------------------------------------ spectral
def test_stated_stability_branches():
    assert _spectral.stated_stability(3, 0, 1.0, 1.0, [0.5])[0]
    assert not _spectral.stated_stability(3, 0, 1.0, 1.0, [1.5])[0]
    assert not _spectral.stated_stability(3, 0, 1.0, -1.0, [-2.0])[0]
    t = math.tanh(2.0)
    assert _spectral.stated_stability(2, 2, 2.0, 1.0, [t - 0.1])[0]
    assert not _spectral.stated_stability(2, 2, 2.0, 1.0, [t + 0.1])[0]
    assert _spectral.stated_stability(2, 2, 2.0, -1.0, [0.0])[0]
    assert not _spectral.stated_stability(2, 2, 2.0, -1.0, [-1.1])[0]
    stable, margin = _spectral.stated_stability(3, 0, 1.0, 1.0, [0.5, -2.0])
    assert stable and margin == pytest.approx(0.5)
    with pytest.raises(ValueError):
        _spectral.stated_stability(1, 0, 1.0, 1.0, [0.0])


def test_fd_jacobian_reproduces_the_singleton_counterexample():
    # independent route (symbolic.spectral notes): n = 3, s = (+,+,-), beta = 1, V = diag(0.1, -5, -5), p = 1
    # has linearised eigenvalues ~ -0.042, -0.44, -5.02 (each twice), although the stated criterion says unstable
    v = np.diag([0.1, -5.0, -5.0])
    x = np.array([[1.0, 0, 0], [1.0, 0, 0], [-1.0, 0, 0]])
    with single_thread():
        f = make_field("qkv", beta=1.0, Q=np.eye(3), K=v, V=v)
        ev = np.sort(np.linalg.eigvals(_spectral.tangent_jacobian(f, x, np.eye(3)[:, 1:])).real)
    assert np.allclose(ev, [-5.02, -5.02, -0.44, -0.44, -0.042, -0.042], atol=6e-3)
    assert not _spectral.stated_stability(2, 1, 1.0, 0.1, [-5.0, -5.0])[0]


def test_fd_stability_agrees_with_the_derived_eigenvalues():
    sym = pytest.importorskip("attnflow.symbolic.spectral")
    rng = np.random.default_rng(5)
    checked = 0
    with single_thread():
        for _ in range(12):
            n_plus, n_minus = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            beta, lam_p, lam_k = rng.uniform(0.3, 3), rng.uniform(-3, 3), rng.uniform(-4, 4)
            derived = sym.linear_stable(n_plus, n_minus, beta, lam_p, lam_k, margin=1e-3)
            if derived is None:
                continue
            v = np.diag([lam_p, lam_k])
            x = np.array([[1.0, 0.0]] * n_plus + [[-1.0, 0.0]] * n_minus)
            f = make_field("qkv", beta=beta, Q=np.eye(2), K=v, V=v)
            top = np.linalg.eigvals(_spectral.tangent_jacobian(f, x, np.array([[0.0], [1.0]]))).real.max()
            assert (top < 0) == derived, (n_plus, n_minus, beta, lam_p, lam_k, top)
            checked += 1
    assert checked >= 8


def test_pure_mode_cases_cover_every_branch():
    cases = _spectral.pure_mode_cases(5, 1.0, np.random.default_rng(0), 3, consensus=False)
    branches = {(c["n_plus"], c["branch"]) for c in cases}
    assert (1, (1.0, False, "inside")) in branches  # the singleton branch that exposes the finding
    assert all(c["margin"] >= _spectral.MARGIN / 2 for c in cases)
    assert any(c["stated"] for c in cases) and any(not c["stated"] for c in cases)


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
    x, w, lab = _clustering.cap_configuration(2, 3, 1, 1.0, 0.02, seed=0)
    with pytest.raises(ValueError, match="labels"):
        _clustering.escape_time(x, w, lab[:1], 2.0, 0.02)
    with pytest.raises(ValueError, match="model"):
        _equiangular.equiangular_ode("preln", 4, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="rho0"):
        _equiangular.equiangular_ode("sa", 4, 1.0, -0.5, 1.0)
    with pytest.raises(ValueError):
        _preln.solve_preln_reduced(4, 1.0, 0.0, -1.0, 10.0)
    with pytest.raises(ValueError, match="states"):
        _equiangular.pair_eps(np.ones((1, 3)))
    with pytest.raises(ValueError, match="basis"):
        _spectral.tangent_jacobian(lambda t, x: x, np.ones((2, 3)), np.ones((2, 2)))
