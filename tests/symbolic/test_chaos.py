"""The ``chaos`` results (symbolic/chaos.py): proof statuses and the expected corner distance against a
Monte Carlo estimate (NumPy; an independent route)."""

import numpy as np
import pytest

from attnflow.symbolic import chaos as SC


def test_extreme_value_integral_is_proved_for_sizes():
    assert SC.results()[0].status == "proved-for-sizes", SC.results()[0].proof


@pytest.mark.slow
def test_rate_limit_is_proved_for_sizes():
    """The Gamma-ratio limits take ~10-20 s of SymPy (``attnflow derive`` runs them too)."""
    assert SC.results()[1].status == "proved-for-sizes", SC.results()[1].proof


def test_expected_corner_distance_against_monte_carlo():
    rng = np.random.default_rng(0)
    for d, n in ((2, 50), (4, 200)):
        x = rng.uniform(0.5, 1.0, size=(4000, n, d))
        r = np.min(np.max(1.0 - x, axis=2), axis=1)
        exact = float(SC.expected_corner_distance(n, d))
        assert abs(r.mean() - exact) < 4 * r.std() / np.sqrt(r.size)
