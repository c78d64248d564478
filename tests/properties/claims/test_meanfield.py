"""The ``meanfield.clustering_rate`` claim (properties/claims/meanfield.py; the experiment in
``claims/_experiments.py``): outcome and fitted rate under the ``quick`` profile.
"""

import pytest

from attnflow.properties import registry


EXPECTED = {
    "meanfield.clustering_rate": "holds",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


def test_rate_claim_reports_fit_and_theory():
    for cid, theory in [("meanfield.clustering_rate", 0.01)]:
        r = registry.run_claim(registry.get_claim(cid), profile="quick", seed=1)
        assert r.fitted is not None and r.fitted["theory_min"] == theory
        assert "CI low" in r.measurement and "CI high" in r.measurement
        assert r.measurement["CI low"]["min"] <= r.fitted["min"] <= r.measurement["CI high"]["max"]
