"""The ``localization.circle_mass`` claim (properties/claims/localization.py) runs under the quick profile with a fixed seed and
reaches the outcome its expectation asks for (``explore``: measurements reported, no pass/fail constant).
"""

from __future__ import annotations

import pytest

from attnflow.properties.registry import get_claim, run_claim


IDS = [
    "localization.circle_mass",
    "localization.constant",
    "localization.mass_bound",
]


@pytest.mark.parametrize("claim_id", IDS)
def test_claim_matches_its_expectation(claim_id):
    run = run_claim(get_claim(claim_id), profile="quick", seed=12345)
    assert run.ok, run.to_dict()
    expect = {"holds": "holds", "fails": "fails", "explore": "explored"}[get_claim(claim_id).expect]
    assert run.outcome == expect
    if expect == "fails":
        assert run.counterexample  # a negative control must exhibit its counterexample
    else:
        assert run.measurement is not None and run.measurement["n"] >= 1


def test_expectations_are_the_ones_of_claims_md():
    assert get_claim("localization.circle_mass").expect == "explore"
    assert get_claim("localization.constant").expect == "holds"
    assert get_claim("localization.mass_bound").expect == "holds"


def test_mass_bound_check_rejects_a_bound_without_the_potential_term(monkeypatch):
    """The check can fail: with the e^{-beta} C term dropped (the bound at C = 0, 0.39..0.40), a strong
    potential (kappa = 0.5) concentrates more mass than that in one arc."""
    from attnflow.properties.claims import localization as L
    from attnflow.properties.registry import Violation

    real_bound = L.mass_bound
    monkeypatch.setattr(L, "mass_bound", lambda beta, curvature: real_bound(beta, 0.0))
    with pytest.raises(Violation, match="exceeds the splitting bound"):
        L.mass_bound_claim.check({"beta": 16.0, "kappa": 0.5, "bias": 0.0})
