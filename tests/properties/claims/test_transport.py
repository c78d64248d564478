"""The ``transport.*`` claims (properties/claims/transport.py; the experiment in claims/_transport.py):
outcomes under ``quick`` and a representative that does not depend on the measure."""

import numpy as np
import pytest

from attnflow.properties import registry
from attnflow.properties.claims import _transport as X
from attnflow.properties.claims import transport as C
from attnflow.properties.registry import Violation

EXPECTED = {
    "transport.pushforward": "holds",
    "transport.continuity": "holds",
    "transport.coupling_bound": "holds",
    "transport.field_lipschitz": "holds",
    "transport.lipschitz_ratio": "explore",
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_claim_outcome_matches_expectation(claim_id, run_claim_ok):
    assert registry.get_claim(claim_id).expect == EXPECTED[claim_id]
    run_claim_ok(claim_id, "quick", 20260101)


def test_perturbation_has_the_requested_size():
    x = np.eye(3)
    y = X.perturbed(x, 1e-3, 0)
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0)
    assert 1e-4 < np.abs(y - x).max() < 1e-2


def test_continuity_check_rejects_a_square_root_modulus(monkeypatch):
    recs = tuple({"w2_in": e, "sup_gap": np.sqrt(e)} for e in X.TR_EPS)  # Hoelder-1/2, not Lipschitz
    monkeypatch.setattr(C, "gap_experiment", lambda *a: recs)
    with pytest.raises(Violation):
        C.continuity.check({"seed": 0, "n": 6, "beta": 1.0})


def test_coupling_check_rejects_an_image_distance_above_the_coupling(monkeypatch):
    recs = tuple({"w2_out": 1.0 + 1e-9, "coupling": 1.0, "w2_in": 0.5, "coupling_in": 0.5} for _ in X.TR_EPS)
    monkeypatch.setattr(C, "gap_experiment", lambda *a: recs)
    with pytest.raises(Violation):
        C.coupling_bound.check({"seed": 0, "n": 6, "beta": 1.0})
