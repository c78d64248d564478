"""The ``phase_diagram.equiangular_boundary`` claim (properties/claims/phase_diagram.py): its verdict on
the diagrams of one example, and the verdict under one-line bugs in the prediction (wrong delta, wrong
rho_0), which must be refuted. The registry run under ``ci`` is slow (opt-in)."""

import pytest

from attnflow.properties import registry
from attnflow.properties.claims._phase_diagram import CONFIG, diagrams, distances
from attnflow.properties.claims.phase_diagram import decide
from attnflow.properties.registry import Violation


@pytest.fixture(scope="module")
def ps():
    return diagrams(CONFIG, 0)  # ~7 s: d = 8, 32, 128, 32 seeds, n = 32


def test_boundary_approaches_the_equiangular_curve(ps):
    m = decide(distances(ps, CONFIG), CONFIG["ds"])
    d8, d32, d128 = (m.extra[f"D_d{d}"] for d in CONFIG["ds"])
    assert d8 > d32 > d128 and m.extra["ratio_max_min"] <= 0.25


@pytest.mark.parametrize("bug", [{"delta": 1e-4}, {"delta": 1e-2}, {"rho0": -0.02}, {"rho0": 0.05}])
def test_a_wrong_prediction_is_refuted(ps, bug):
    with pytest.raises(Violation):
        decide(distances(ps, CONFIG, **bug), CONFIG["ds"])


@pytest.mark.slow
def test_claim_meets_its_expectation_under_ci():
    c = registry.get_claim("phase_diagram.equiangular_boundary")
    r = registry.run_claim(c, profile="ci", seed=20260101)
    assert r.outcome != "error", r.detail
    assert r.ok, r.detail
    assert r.examples >= c.max_examples("ci")
