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
    "chaos.hardmax_rate": "holds",
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


def test_hardmax_experiment_w2_is_at_most_the_coupling_and_matches_pot():
    """W_2 of the hardmax experiment by the project's solver against POT's exact emd2 (independent), and
    never above the synchronous coupling's RMS deviation."""
    import ot

    from attnflow.numerics.hardmax import corner_hardmax_flow, corner_meanfield_map
    from attnflow.numerics.wasserstein import wasserstein

    rng = np.random.default_rng(3)
    x0 = rng.uniform(0.5, 1.0, size=(128, 3))
    xn, xm = corner_hardmax_flow(x0, 0.25, 4), corner_meanfield_map(x0, 0.25, 4)
    w = np.full(128, 1 / 128)
    pot = float(np.sqrt(ot.emd2(w, w, ot.dist(xn, xm))))
    assert wasserstein(xn, xm, p=2, metric="euclidean") == pytest.approx(pot, rel=1e-9)
    assert pot <= np.sqrt(np.mean(np.sum((xn - xm) ** 2, axis=1))) + 1e-12


def test_hardmax_check_rejects_a_rate_that_does_not_decay(monkeypatch):
    """The check can fail: an interaction error that does not decay with n (slope 0)."""
    from attnflow.properties.claims import _hardmax

    def flat(d, seed, *a, **k):
        r = np.random.default_rng(seed)
        rms = 0.1 * (1 + 0.1 * r.random((24, len(_hardmax.CHAOS_HARDMAX_SIZES))))
        return rms, np.where(np.arange(rms.shape[1]) < 3, rms * 0.9, np.nan) * np.ones_like(rms)

    monkeypatch.setattr(C, "hardmax_chaos_experiment", flat)
    with pytest.raises(Violation, match="significantly above -1/d"):
        C.hardmax_rate.check({"seed": 0})
