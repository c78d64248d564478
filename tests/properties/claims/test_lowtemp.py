"""The ``lowtemp.concentration`` claim (properties/claims/lowtemp.py) runs under the quick profile with a fixed seed and
reaches the outcome its expectation asks for (``explore``: measurements reported, no pass/fail constant).
"""

from __future__ import annotations

import pytest

from attnflow.properties.registry import get_claim, run_claim


IDS = [
    "lowtemp.concentration",
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
    assert get_claim("lowtemp.concentration").expect == "explore"
