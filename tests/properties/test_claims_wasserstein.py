"""Wasserstein, propagation-of-chaos, mean-field and noise claims: outcomes and their pieces.

Independent routes: the package integrator ``attnflow.numerics.simulate`` for the weighted RK4 kernel,
closed-form vMF moments, scipy's unscaled Bessel functions and the small-r expansion for the Kuramoto
root, a brute-force grid for lambda_bar', the library SDE for the noise-only stepper, synthetic data
with known slopes for the statistics, and wrong formulas that the checks must reject.
"""

import math

import numpy as np
import pytest
from scipy.special import iv

from attnflow.numerics import meanfield as M
from attnflow.numerics.noise import euler_maruyama_common_noise, lambda_constants
from attnflow.numerics.simulate import simulate
from attnflow.properties import registry
from attnflow.properties.claims import _experiments as X
from attnflow.properties.claims import _stats as S
from attnflow.properties.claims import chaos as C
from attnflow.properties.claims import _noise as NH
from attnflow.properties.claims import noise as N
from attnflow.properties.claims import wasserstein as W
from attnflow.properties.registry import Violation

EXPECTED = {
    "wasserstein.coupling": "holds",
    "wasserstein.dirac": "holds",
    "wasserstein.empirical_rate": "holds",
    "chaos.attention_rate": "holds",
    "meanfield.clustering_rate": "holds",
    "noise.kuramoto_threshold": "holds",
    "noise.relu_constants": "holds",
    "noise.sync_energy": "holds",
    "noise.sync_energy.odd_collapse": "fails",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id):
    c = registry.get_claim(claim_id)
    assert c.expect == EXPECTED[claim_id]
    r = registry.run_claim(c, profile="quick", seed=20260101)
    assert r.outcome != "error", r.detail
    assert r.ok, r.detail
    assert c.tolerance and c.source and c.statement


def test_rate_claims_report_fit_and_theory():
    for cid, theory in [("chaos.attention_rate", -0.5), ("meanfield.clustering_rate", 0.01)]:
        r = registry.run_claim(registry.get_claim(cid), profile="quick", seed=1)
        assert r.fitted is not None and r.fitted["theory_min"] == theory
        assert "CI low" in r.measurement and "CI high" in r.measurement
        assert r.measurement["CI low"]["min"] <= r.fitted["min"] <= r.measurement["CI high"]["max"]


# --------------------------------------------------------------------------------------- kernel
@pytest.mark.parametrize("model", ["sa", "usa"])
def test_weighted_flow_field_and_convergence_against_package(model):
    from attnflow.numerics.fields import make_field

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((9, 3))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    out = np.empty_like(x0)
    M._weighted_field(x0, np.full(9, 1 / 9), 1.3, model == "usa", out)
    assert np.max(np.abs(out - make_field(model, beta=1.3)(0.0, x0))) < 1e-13
    ref = simulate(model, x0, beta=1.3, t_final=1.0, rtol=1e-12, atol=1e-14, method="adaptive").final
    errs = [np.max(np.abs(M.weighted_attention_flow(x0, np.full(9, 1 / 9), beta=1.3, model=model, dt=1.0 / k,
                                                    steps=k)[-1] - ref)) for k in (10, 20)]
    assert errs[1] < 1e-6 and errs[0] / errs[1] > 8  # fourth order: ratio ~ 16


def test_weight_zero_token_is_a_test_particle():
    rng = np.random.default_rng(1)
    ctx = rng.standard_normal((12, 3))
    ctx /= np.linalg.norm(ctx, axis=1, keepdims=True)
    tok = X.CHAOS_TOKEN[None, :]
    a = M.weighted_attention_flow(ctx, np.full(12, 1 / 12), beta=1.0, model="sa", dt=0.1, steps=10)[-1]
    b = M.weighted_attention_flow(np.vstack([tok, ctx]), np.r_[0.0, np.full(12, 1 / 12)], beta=1.0, model="sa",
                                  dt=0.1, steps=10)[-1]
    assert np.max(np.abs(a - b[1:])) < 1e-14  # the context does not feel the test particle
    assert np.linalg.norm(b[0] - tok[0]) > 1e-2  # but the test particle moves


def test_vmf_sampler_and_quadrature_moments():
    kappa, axis = 2.0, np.array([0.0, 0.6, 0.8])
    mean_w = 1 / math.tanh(kappa) - 1 / kappa  # E<a, y> for vMF on S^2
    y, w = M.vmf_quadrature(24, 48, kappa, axis)
    assert abs(w.sum() - 1) < 1e-14 and abs(w @ (y @ axis) - mean_w) < 1e-13
    assert np.max(np.abs(w @ y - mean_w * axis)) < 1e-13
    s = M.vmf_sample(np.random.default_rng(2), 20000, kappa, axis)
    h = s @ axis
    assert abs(h.mean() - mean_w) < 5 * h.std() / math.sqrt(h.size)


# --------------------------------------------------------------------------------------- statistics
def test_slope_ci_recovers_known_slope():
    rng = np.random.default_rng(3)
    n = np.array([64, 128, 256, 512, 1024])
    y = 2.0 * n ** (-0.3) * np.exp(0.02 * rng.standard_normal((40, 5)))
    p, lo, hi = S.slope_ci(n, y)
    assert lo < -0.3 < hi and hi - lo < 0.05


def test_rms_bootstrap_recovers_half_slope():
    rng = np.random.default_rng(4)
    n = np.array(X.CHAOS_SIZES)
    err = np.abs(rng.standard_normal((400, 5))) * n ** (-0.5)
    s, lo, hi = S.rms_slope_bootstrap(n, err, rng)
    assert lo < -0.5 < hi and hi - lo < 0.15


def test_bounded_difference_replicates_formula():
    assert S.bounded_difference_replicates(100, 0.5, rel=0.1, delta=0.05) == math.ceil(16 * math.log(40) / (100 * 0.05**2))
    assert W.empirical_theory_slope(1) == -0.5 and W.empirical_theory_slope(4) == -0.25
    assert -0.5 < W.empirical_theory_slope(2) < -0.4  # log factor flattens the local slope


# --------------------------------------------------------------------------------------- wrong formulas are rejected
def test_dirac_check_rejects_wrong_sign(monkeypatch):
    import attnflow.properties.claims.wasserstein as mod

    real = mod.wasserstein
    monkeypatch.setattr(mod, "wasserstein", lambda *a, **k: real(*a, **k) * 1.001)
    with pytest.raises(Violation):
        W.dirac.check({"n": 5, "d": 3, "weighted": True, "seed": 0})


def test_chaos_check_rejects_a_slower_rate(monkeypatch):
    rng = np.random.default_rng(5)
    n = np.array(X.CHAOS_SIZES)
    fake = np.abs(rng.standard_normal((X.CHAOS_REPLICATES, 5))) * n ** (-1 / 4)
    monkeypatch.setattr(C, "chaos_experiment", lambda seed: fake)
    with pytest.raises(Violation):
        C.attention_rate.check({"seed": 0})


def test_empirical_rate_check_rejects_wrong_dimension_law(monkeypatch):
    # theory -1/(k+1) instead of -1/k for k >= 3 must be rejected
    monkeypatch.setattr(W, "empirical_theory_slope", lambda k, sizes=W.EMPIRICAL_SIZES: -1.0 / (k + 1.5))
    data = {k: np.tile(np.array(W.EMPIRICAL_SIZES, float) ** (-1.0 / max(k, 2)), (4, 1))
            * (1 + 0.01 * np.random.default_rng(k).standard_normal((4, 5))) for k in X.EMPIRICAL_DIMS}
    monkeypatch.setattr(W, "empirical_rate_experiment", lambda seed, r: data)
    with pytest.raises(Violation):
        W.empirical_rate.check({"seed": 0})


# --------------------------------------------------------------------------------------- Kuramoto
def test_kuramoto_root_independent():
    for kappa in (2.5, 3.0, 4.0, 8.0):
        r = NH.kuramoto_r_star(kappa)
        assert abs(iv(1, kappa * r) / iv(0, kappa * r) - r) < 1e-12 and 0 < r < 1
    # pitchfork: I1(x)/I0(x) = x/2 - x^3/16 + O(x^5)  =>  r^2 ~ 8 (kappa - 2) / kappa^3
    k = 2.001
    assert NH.kuramoto_r_star(k) == pytest.approx(math.sqrt(8 * (k - 2) / k**3), rel=2e-3)
    assert NH.kuramoto_r_star(2.0) == 0.0 and NH.kuramoto_r_star(1.0) == 0.0


def test_kuramoto_check_rejects_wrong_root(monkeypatch):
    monkeypatch.setattr(N, "kuramoto_r_star", lambda kappa: NH.__dict__["brentq"](
        lambda r: iv(1, 0.8 * kappa * r) / iv(0, 0.8 * kappa * r) - r, 1e-9, 1.0))
    with pytest.raises(Violation):
        N.kuramoto_threshold.check({"seed": 3})


# --------------------------------------------------------------------------------------- constants, energy
def test_relu_table_and_limit_of_F():
    lam1, lbar = NH.relu_closed_forms(64, 0.1, 0.1)
    assert round(lam1, 3) == -0.480 and round(lbar, 3) == -0.899
    c = lambda_constants(8, 0.3, 0.3)
    # F(1 - e) = -lambda_bar + O(e^{1/2}) (kappa has a (1 - u)^{3/2} term at u = 1)
    gaps = [abs(NH.F_sync(1 - e, 8, 1.0, 0.3, 0.3) + c.lambda_bar) for e in (1e-6, 1e-8)]
    assert gaps[1] < 1e-3 and gaps[1] < gaps[0] / 5


def test_lambda_bar_prime_against_dense_grid():
    u = np.linspace(-1, 1 - 1e-7, 400001)
    brute = -np.min(NH.F_sync(u, 8, 1.0, 0.3, 0.3))
    lp, arg = NH.lambda_bar_prime(8, 1.0, 0.3, 0.3)
    assert lp == pytest.approx(brute, abs=1e-9) and lp < 0


def test_energy_D_zero_iff_collapsed():
    x = np.tile([[0.0, 1.0, 0.0]], (4, 1))
    assert NH.energy_D(x, 2.0) == 0.0
    y = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    assert NH.energy_D(y, 1.0) == pytest.approx(0.25 * (math.e - math.exp(-1)))


def test_noise_only_stepper_matches_library_for_one_token():
    # a single token feels no SA attention, so the library SDE is pure noise there
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    kw = dict(dt=0.05, t_final=0.5, m=32, sigma_U=0.2, sigma_W=0.1, activation="tanh")
    ours = NH.common_noise_only(x, seed=11, **kw)
    for i in range(3):
        lib = euler_maruyama_common_noise(x[i:i + 1], beta=1.0, seed=11, **kw).final
        assert np.max(np.abs(ours[i] - lib[0])) < 1e-13


def test_collapse_check_holds_for_relu_with_negative_lambda_bar():
    res = NH.collapse_experiment(0, "relu", 0.3)
    assert res["lambda_bar"] < 0 and res["ratio"] <= N.COLLAPSE_FRACTION
