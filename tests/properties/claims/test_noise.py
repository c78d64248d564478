"""The ``noise.*`` claims (properties/claims/noise.py and its helpers in ``claims/_noise.py``): outcomes
under the ``quick`` profile and independent checks of the pieces.

Independent routes: scipy's unscaled Bessel functions and the small-r expansion for the Kuramoto root,
the printed table for the ReLU constants, a brute-force grid for lambda_bar', the library SDE for the
noise-only stepper, and a wrong root that the Kuramoto check must reject.
"""

import math

import numpy as np
import pytest
from scipy.special import iv

from attnflow.numerics.noise import euler_maruyama_common_noise, lambda_constants
from attnflow.properties import registry
from attnflow.properties.claims import _noise as NH
from attnflow.properties.claims import noise as N
from attnflow.properties.registry import Violation


EXPECTED = {
    "noise.kuramoto_threshold": "holds",
    "noise.relu_constants": "holds",
    "noise.sync_energy": "holds",
    "noise.sync_energy.odd_collapse": "fails",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


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
