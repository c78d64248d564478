"""The ``equiangular.*`` claims (properties/claims/equiangular.py and its helpers in
``claims/_equiangular.py``): each under the ``ci`` profile, plus independent checks of their pieces.

Independent routes: tanh at n = 2, finite differences of the Ei antiderivative, the Gram matrix of an
explicit equiangular configuration, and a perturbed ODE that the invariance check must reject.
"""

import math

import numpy as np
import pytest

from attnflow.numerics import equiangular
from attnflow.properties.claims import _equiangular
from attnflow.properties.claims import equiangular as equiangular_claims
from attnflow.properties.registry import Violation


CLAIMS = ["equiangular.closed_form.beta0", "equiangular.hitting_time", "equiangular.bound", "equiangular.invariance", "equiangular.rate.sa", "equiangular.rate.usa"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1


def test_beta0_closed_form_special_case_tanh():
    t = np.linspace(0, 3, 7)
    assert np.max(np.abs(equiangular_claims.rho_beta0(t, 2, 0.0) - np.tanh(t))) < 1e-15


def test_hitting_F_is_an_antiderivative_of_one_over_rho_dot():
    # central differences, independent of the ODE solver
    for n, beta, s in [(2, 0.5, 0.1), (6, 3.0, 0.4), (20, 8.0, -0.02), (5, 1.0, 0.9)]:
        h = 1e-5
        dF = (equiangular_claims.hitting_F(s + h, n, beta) - equiangular_claims.hitting_F(s - h, n, beta)) / (2 * h)
        assert dF == pytest.approx(1.0 / equiangular_claims.rho_dot_sa(s, n, beta), rel=1e-7)


def test_hitting_time_reference_value_from_the_notes():
    # value quoted when the Ei formula was derived (derivations/equiangular.md): "hitting time 2.000000000000 for n = 6, beta = 3 over t in [0, 2]" from an orthonormal start
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda t, y: [equiangular_claims.rho_dot_sa(y[0], 6, 3.0)], (0, 2), [0.0], method="DOP853",
                    rtol=1e-13, atol=1e-15)
    rho2 = sol.y[0, -1]
    t = equiangular_claims.hitting_F(rho2, 6, 3.0) - equiangular_claims.hitting_F(0.0, 6, 3.0)
    assert t == pytest.approx(2.0, abs=1e-9)


def test_bound_constants():
    c, lam = equiangular_claims.bound_constants(5, 0.0, 0.5)
    assert (c, lam) == (1.0, pytest.approx(1.0 / 5))
    c, lam = equiangular_claims.bound_constants(3, 1.0, -0.25)
    assert c == 1.25 and lam == pytest.approx(0.5 / (math.exp(1.25) + 2))


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


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="model"):
        _equiangular.equiangular_ode("preln", 4, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="rho0"):
        _equiangular.equiangular_ode("sa", 4, 1.0, -0.5, 1.0)
    with pytest.raises(ValueError, match="states"):
        _equiangular.pair_eps(np.ones((1, 3)))
