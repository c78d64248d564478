"""The ``flows.*`` claims (properties/claims/flows.py): outcomes under ``quick`` and checks that reject a
wrong construction."""

import pytest

from attnflow.numerics import flows as F
from attnflow.properties import registry
from attnflow.properties.claims import flows as C
from attnflow.properties.registry import Violation

EXPECTED = {
    "flows.perceptron_exact": "holds",
    "flows.polar_factors": "holds",
    "flows.kr_rate": "holds",
    "flows.kr_w2_rate": "explore",
    "flows.banana_rate": "explore",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


def test_rate_claim_reports_the_fitted_slope():
    r = registry.run_claim(registry.get_claim("flows.kr_rate"), profile="quick", seed=0)
    assert r.fitted is not None and r.fitted["theory_min"] == -2.0
    assert abs(r.fitted["min"] + 2.0) < 0.15


def test_rate_check_rejects_a_construction_that_stops_converging(monkeypatch):
    real = F.kr_errors

    def stuck(K, b=1.0, **kw):  # the error of K = 4 whatever K: no convergence
        return {**real(4, b, **kw), "pieces": float(2 * K + 2), "bound": real(K, b, w2=False)["bound"]}

    monkeypatch.setattr(C.F, "kr_errors", stuck)
    with pytest.raises(Violation):
        C.kr_rate.check({"b": 1.0, "seed": 0})


def test_exactness_check_rejects_a_shifted_kink(monkeypatch):
    real = F.flow_map

    def shifted(pieces, x):  # every bias off by 1e-6
        return real([F.Piece(p.w, p.a, p.c + 1e-6, p.e, p.tau) for p in pieces], x)

    monkeypatch.setattr(C.F, "flow_map", shifted)
    with pytest.raises(Violation):
        C.perceptron_exact.check({"K": 3, "b": 1.0, "seed": 0})
