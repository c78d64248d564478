"""Tests of attnflow.numerics.hardmax (hardmax attention, arXiv 2508.09628; chaos rate arXiv 2605.16747).

Independent routes: the filtered corner flow against the plain O(n^2) selection; the mean-field map
against a large-sample hardmax flow (the mean-field limit approached from the particles) and against the
ODE's exact solution as the step shrinks.
"""

from __future__ import annotations

import numpy as np
import pytest

from attnflow.numerics.hardmax import (
    corner_cubes_sample,
    corner_hardmax_flow,
    corner_meanfield_map,
    hardmax_flow,
    hardmax_velocity,
)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_filtered_corner_flow_equals_plain_selection(d):
    x0 = np.random.default_rng(d).uniform(0.5, 1.0, size=(200, d))
    np.testing.assert_array_equal(corner_hardmax_flow(x0, 0.25, 4), hardmax_flow(x0, 0.25, 4))


def test_velocity_points_to_the_highest_score():
    x = np.array([[1.0, 0.0], [0.9, 0.9], [0.2, 1.0]])
    v = hardmax_velocity(x)
    np.testing.assert_allclose(v[0], 0.0)  # <x0, x0> = 1 beats <x0, x1> = 0.9 and <x0, x2> = 0.2
    np.testing.assert_allclose(v[2], x[1] - x[2])  # <x2, x1> = 1.08 beats <x2, x2> = 1.04
    for i in range(3):
        j = max(range(3), key=lambda k: (x[i] @ x[k], -k))
        np.testing.assert_allclose(v[i], x[j] - x[i])


def test_meanfield_map_is_the_large_sample_limit_and_the_ode_solution():
    rng = np.random.default_rng(1)
    x0 = corner_cubes_sample(40000, 2, rng)
    dev = np.abs(hardmax_flow(x0[:1500], 0.25, 4) - corner_meanfield_map(x0[:1500], 0.25, 4)).max()
    dev_big = np.abs(corner_hardmax_flow(np.abs(x0), 0.25, 4) - corner_meanfield_map(np.abs(x0), 0.25, 4)).mean()
    assert dev < 0.05 and dev_big < 0.01
    s = np.sign(x0[:5])
    exact = s + np.exp(-1.0) * (x0[:5] - s)  # x' = s - x, T = 1
    np.testing.assert_allclose(corner_meanfield_map(x0[:5], 1e-4, 10000), exact, atol=1e-4)


def test_hardmax_bad_input():
    with pytest.raises(ValueError, match="dt"):
        hardmax_flow(np.ones((3, 2)), 0.0, 1)
    with pytest.raises(ValueError, match="steps"):
        hardmax_flow(np.ones((3, 2)), 0.1, -1)
    with pytest.raises(ValueError, match="x0"):
        corner_meanfield_map(np.zeros((3, 2)), 0.1, 1)
    with pytest.raises(ValueError, match="x0"):
        corner_hardmax_flow(-np.ones((3, 2)), 0.1, 1)
    with pytest.raises(ValueError, match="rng"):
        corner_cubes_sample(3, 2, 0)
