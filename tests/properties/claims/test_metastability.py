"""The ``metastability.escape`` claim (properties/claims/metastability.py; caps and escape times in
``claims/_clustering.py``): under the ``ci`` profile, plus brute-force geometry of the caps.
"""

import math

import numpy as np
import pytest

from attnflow.numerics import single_thread
from attnflow.properties.claims import _clustering


CLAIMS = ["metastability.escape"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_meets_its_expectation_under_ci(claim_id, run_claim_ok):
    c, r = run_claim_ok(claim_id, "ci", 20260101)
    assert r.examples >= c.max_examples("ci")
    assert r.measurement is not None and r.measurement["n"] >= 1


def test_cap_configuration_geometry():
    for k, theta in [(2, 1.2), (3, 1.5)]:
        x, w, lab = _clustering.cap_configuration(k, 4, 3, theta, 0.02, seed=1)
        assert np.allclose(np.linalg.norm(w, axis=1), 1) and np.allclose(np.linalg.norm(x, axis=1), 1)
        g = w @ w.T
        assert np.allclose(g[~np.eye(k, dtype=bool)], math.cos(theta), atol=1e-14)
        assert np.all(np.sum(x * w[lab], axis=1) >= 1 - 0.02 - 1e-15)
    # alpha: brute force over points on the two cap boundaries in the plane of the centres
    theta, eps = 1.2, 0.02
    a = math.acos(1 - 2 * eps)
    phis = np.linspace(-a, a, 2001)
    best = max(math.cos(theta + p - q) for p in phis[::50] for q in phis[::50])
    assert _clustering.cap_alpha(theta, eps) == pytest.approx(best, abs=1e-12)
    with pytest.raises(ValueError):
        _clustering.cap_configuration(3, 3, 2, 2.5, 0.02, seed=0)  # three caps cannot be pairwise 143 deg apart


def test_escape_time_grows_with_beta():
    x, w, lab = _clustering.cap_configuration(2, 3, 2, 1.3, 0.02, seed=2)
    with single_thread():
        t = [_clustering.escape_time(x, w, lab, b, 0.02) for b in (3.0, 5.0, 7.0)]
    assert t[0] < t[1] < t[2]


def test_bad_inputs_raise_value_errors():
    x, w, lab = _clustering.cap_configuration(2, 3, 1, 1.0, 0.02, seed=0)
    with pytest.raises(ValueError, match="labels"):
        _clustering.escape_time(x, w, lab[:1], 2.0, 0.02)
