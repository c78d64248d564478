"""The ``integrator.*`` claims (properties/claims/integrator.py): outcomes under the ``quick`` profile and
the observed orders of the schemes on one fixed example."""

import pytest

from attnflow.properties import registry
from attnflow.properties.claims import integrator as I


@pytest.mark.parametrize("claim_id", ["integrator.rk4_order", "integrator.first_order"])
def test_claim_outcome_matches_expectation(claim_id):
    r = registry.run_claim(registry.get_claim(claim_id), profile="quick", seed=20260101)
    assert r.ok, r.detail


@pytest.mark.parametrize("method, order", [("rk4", 4.0), ("euler", 1.0), ("lie_euler", 1.0)])
def test_observed_order(method, order):
    slope, errs = I._observed_order(method, {"n": 5, "d": 3, "beta": 1.5, "seed": 11})
    assert slope == pytest.approx(order, rel=0.1)
    assert errs[0] > errs[-1]
