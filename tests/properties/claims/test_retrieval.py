"""The retrieval claims (properties/claims/retrieval.py): outcomes under the ci profile, negative
controls that must break them, and the Monte Carlo trend of the particles claim.

Independent routes live in the claims themselves (quadrature, Volterra solver, mpmath, interval
arithmetic, symbolic slope, particles); here a deliberately wrong closed form must be caught.
"""

import numpy as np
import pytest

from attnflow.numerics.retrieval import _closed as _c
from attnflow.numerics import retrieval as R
from attnflow.properties import registry
from attnflow.properties.claims import retrieval as CR
from attnflow.properties.registry import Violation

CLOSED = ["retrieval.graphon.normalised", "retrieval.volterra", "retrieval.lambda0_limit",
          "retrieval.no_recency_lambda0", "retrieval.poisson", "retrieval.ushape", "retrieval.recency_threshold"]


def test_all_ids_of_claims_md_are_registered():
    ids = {c.id for c in registry.all_claims()}
    assert set(CLOSED) | {"retrieval.particles"} <= ids


@pytest.mark.parametrize("claim_id", CLOSED)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")


def test_statements_come_from_the_symbolic_results():
    from attnflow.symbolic.documents import get_result

    for cid in ("retrieval.volterra", "retrieval.recency_threshold", "retrieval.poisson"):
        assert registry.get_claim(cid).statement == get_result(cid).statement


def test_volterra_catches_a_wrong_closed_form(monkeypatch):
    true = R.mode_response
    monkeypatch.setattr(R, "mode_response", lambda *a, **k: np.asarray(true(*a, **k)) * (1 + 1e-6))
    with pytest.raises(Violation):
        CR.volterra.check({"a": 0.7, "lam": 1.0, "t": 1.0, "sigma0": 0.3, "sigma": 1.0})


def test_recency_threshold_catches_a_shifted_t_crit(monkeypatch):
    true = R.t_crit
    monkeypatch.setattr(R, "t_crit", lambda **k: 1.1 * true(**k))
    with pytest.raises(Violation):
        CR.recency_threshold.check({"beta": 1.0, "lam": 1.0, "M": 8.0, "delta": 0.05})


def test_ushape_requires_a_certificate():
    m = CR.ushape.check({"beta": 1.0, "lam": 1.0, "M": 8.0, "t": 1.5, "fraction_of_bound": 1.5 / 2.23696})
    assert 0 < m.value < 0.05 and 0.3 < m.extra["argmin sigma0"] < 0.5  # dip left of the middle at t = 1.5
    with pytest.raises(Violation):  # outside the smallness condition (t = 2.4 > 2.237): not an example
        CR.ushape.check({"beta": 1.0, "lam": 1.0, "M": 8.0, "t": 2.4, "fraction_of_bound": 1.07})


def test_no_recency_catches_a_positive_slope(monkeypatch):
    true = R.profile_derivative
    monkeypatch.setattr(R, "profile_derivative", lambda *a, **k: np.asarray(true(*a, **k)) + 1e-3)
    with pytest.raises(Violation):
        CR.no_recency_lambda0.check({"beta": 1.0, "t": 1.0, "M": 8.0})


def _small_trend(monkeypatch):
    # a cheap version of the particles claim: N = 16, 32, 64; 128 prompts x 4 phases per N
    monkeypatch.setattr(CR, "TREND_N", (16, 32, 64))
    monkeypatch.setattr(CR, "PARTICLE_PROMPTS", 128)
    return {"beta": 1.5, "lam": 1.0, "t": 2.0, "a1_t": 1.96, "sigma0": 0.5, "seed": 3}


def test_particles_trend_decreases(monkeypatch):
    m = CR.particles.check(_small_trend(monkeypatch))
    assert m.fitted < 0 and m.value < 0  # slope and the upper end of its 95% CI
    assert m.extra["error N=64"] < m.extra["error N=16"]


def test_particles_catches_a_wrong_limit(monkeypatch):
    ex = _small_trend(monkeypatch)
    true = _c.mode_response
    monkeypatch.setattr(_c, "mode_response", lambda *a, **k: 0.3 * true(*a, **k))  # a wrong N -> inf limit
    with pytest.raises(Violation):
        CR.particles.check(ex)


@pytest.mark.slow
def test_particles_claim_under_quick():
    c = registry.get_claim("retrieval.particles")
    r = registry.run_claim(c, profile="quick", seed=1)
    assert r.ok, r.detail
