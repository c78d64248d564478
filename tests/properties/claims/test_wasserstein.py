"""The ``wasserstein.*`` claims (properties/claims/wasserstein.py; experiments and statistics in
``claims/_experiments.py`` and ``claims/_stats.py``): outcomes under the ``quick`` profile, the
statistics on synthetic data with known slopes, and wrong formulas that the checks must reject.
"""

import math

import numpy as np
import pytest

from attnflow.properties import registry
from attnflow.properties.claims import _experiments as X
from attnflow.properties.claims import _stats as S
from attnflow.properties.claims import wasserstein as W
from attnflow.properties.registry import Violation


EXPECTED = {
    "wasserstein.coupling": "holds",
    "wasserstein.dirac": "holds",
    "wasserstein.empirical_rate": "holds",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


def test_slope_ci_recovers_known_slope():
    rng = np.random.default_rng(3)
    n = np.array([64, 128, 256, 512, 1024])
    y = 2.0 * n ** (-0.3) * np.exp(0.02 * rng.standard_normal((40, 5)))
    p, lo, hi = S.slope_ci(n, y)
    assert lo < -0.3 < hi and hi - lo < 0.05


def test_bounded_difference_replicates_formula():
    assert S.bounded_difference_replicates(100, 0.5, rel=0.1, delta=0.05) == math.ceil(16 * math.log(40) / (100 * 0.05**2))
    assert W.empirical_theory_slope(1) == -0.5 and W.empirical_theory_slope(4) == -0.25
    assert -0.5 < W.empirical_theory_slope(2) < -0.4  # log factor flattens the local slope


def test_dirac_check_rejects_wrong_sign(monkeypatch):
    import attnflow.properties.claims.wasserstein as mod

    real = mod.wasserstein
    monkeypatch.setattr(mod, "wasserstein", lambda *a, **k: real(*a, **k) * 1.001)
    with pytest.raises(Violation):
        W.dirac.check({"n": 5, "d": 3, "weighted": True, "seed": 0})


def test_empirical_rate_check_rejects_wrong_dimension_law(monkeypatch):
    # theory -1/(k+1) instead of -1/k for k >= 3 must be rejected
    monkeypatch.setattr(W, "empirical_theory_slope", lambda k, sizes=W.EMPIRICAL_SIZES: -1.0 / (k + 1.5))
    data = {k: np.tile(np.array(W.EMPIRICAL_SIZES, float) ** (-1.0 / max(k, 2)), (4, 1))
            * (1 + 0.01 * np.random.default_rng(k).standard_normal((4, 5))) for k in X.EMPIRICAL_DIMS}
    monkeypatch.setattr(W, "empirical_rate_experiment", lambda seed, r: data)
    with pytest.raises(Violation):
        W.empirical_rate.check({"seed": 0})
