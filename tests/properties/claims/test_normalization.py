"""The ``normalization.*`` claims (properties/claims/normalization.py; the reduced Pre-LN system in
``claims/_preln.py``): Pre-LN rate under the ``ci`` profile, the reduced system's limits and the
reference constant (a finding: 3.73495, not the quoted 3.736).
"""

import pytest

from attnflow.properties.claims import _preln


CLAIMS = ["normalization.preln_rate"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1


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


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError):
        _preln.solve_preln_reduced(4, 1.0, 0.0, -1.0, 10.0)
