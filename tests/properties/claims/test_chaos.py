"""The ``chaos.attention_rate`` claim (properties/claims/chaos.py; the experiment in
``claims/_experiments.py``): outcome and fitted rate under the ``quick`` profile, the bootstrap slope on
synthetic data, and a slower rate that the check must reject.
"""

import numpy as np
import pytest

from attnflow.properties import registry
from attnflow.properties.claims import _experiments as X
from attnflow.properties.claims import _stats as S
from attnflow.properties.claims import chaos as C
from attnflow.properties.registry import Violation


EXPECTED = {
    "chaos.attention_rate": "holds",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


def test_rate_claim_reports_fit_and_theory():
    for cid, theory in [("chaos.attention_rate", -0.5)]:
        r = registry.run_claim(registry.get_claim(cid), profile="quick", seed=1)
        assert r.fitted is not None and r.fitted["theory_min"] == theory
        assert "CI low" in r.measurement and "CI high" in r.measurement
        assert r.measurement["CI low"]["min"] <= r.fitted["min"] <= r.measurement["CI high"]["max"]


def test_rms_bootstrap_recovers_half_slope():
    rng = np.random.default_rng(4)
    n = np.array(X.CHAOS_SIZES)
    err = np.abs(rng.standard_normal((400, 5))) * n ** (-0.5)
    s, lo, hi = S.rms_slope_bootstrap(n, err, rng)
    assert lo < -0.5 < hi and hi - lo < 0.15


def test_chaos_check_rejects_a_slower_rate(monkeypatch):
    rng = np.random.default_rng(5)
    n = np.array(X.CHAOS_SIZES)
    fake = np.abs(rng.standard_normal((X.CHAOS_REPLICATES, 5))) * n ** (-1 / 4)
    monkeypatch.setattr(C, "chaos_experiment", lambda seed: fake)
    with pytest.raises(Violation):
        C.attention_rate.check({"seed": 0})
