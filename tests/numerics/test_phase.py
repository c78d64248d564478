"""attnflow.numerics.phase: level crossings and shifts against piecewise-linear diagrams with known
boundaries, and the equiangular prediction against closed forms (the Ei antiderivative of the SA
hitting time, and the beta = 0 solution inverted by hand)."""

import math

import numpy as np
import pytest

from attnflow.numerics.phase import boundary_shift, equiangular_boundary, level_crossing
from attnflow.properties.claims._equiangular import hitting_F


def ramp(times, centres, width):
    """P(beta, t) = clip((t - c + w) / (2 w), 0, 1): crosses 1/2 exactly at t = c(beta)."""
    t = np.asarray(times)[None, :]
    c = np.asarray(centres)[:, None]
    return np.clip((t - c + width) / (2 * width), 0.0, 1.0)


def test_level_crossing_and_shift_recover_known_boundaries():
    times = np.linspace(0.0, 20.0, 81)  # spacing 0.25 < width: no kink inside the bracketing interval
    ca = np.array([3.1, 5.37, 7.93, 12.0])
    cb = np.array([2.6, 5.0, 8.41, 11.11])
    pa, pb = ramp(times, ca, 1.0), ramp(times, cb, 1.0)
    np.testing.assert_allclose(level_crossing(pa, times), ca, rtol=0, atol=1e-12)
    np.testing.assert_allclose(boundary_shift(pa, pb, times), ca - cb, rtol=0, atol=1e-12)
    # another level: P = 0.8 at t = c + 0.6 w
    np.testing.assert_allclose(level_crossing(pa, times, 0.8), ca + 0.6, atol=1e-12)


def test_level_crossing_edge_cases():
    times = np.array([0.0, 1.0, 2.0])
    p = np.array([[0.6, 0.7, 0.9], [0.0, 0.1, 0.2], [0.0, np.nan, 1.0]])
    out = level_crossing(p, times)
    assert out[0] == 0.0 and math.isnan(out[1]) and math.isnan(out[2])
    with pytest.raises(ValueError, match="level"):
        level_crossing(p, times, 0.0)
    with pytest.raises(ValueError, match="times"):
        level_crossing(p, [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="p_b"):
        boundary_shift(p, p[:2], times)


@pytest.mark.parametrize("n", [2, 8, 32])
def test_equiangular_boundary_matches_the_ei_antiderivative(n):
    betas = np.array([0.3, 1.0, 2.5, 4.0, 6.0])
    delta = 1e-3
    t = equiangular_boundary(betas, n, delta=delta)
    ref = [hitting_F(1 - delta, n, b) - hitting_F(0.0, n, b) for b in betas]
    np.testing.assert_allclose(t, ref, rtol=1e-8)


@pytest.mark.parametrize("model", ["sa", "usa"])
def test_equiangular_boundary_at_beta0_matches_the_inverted_closed_form(model):
    # rho(t) = (K e^{2t} - 1)/(K e^{2t} + n - 1) = 1 - delta  <=>  t = log((1 + (1 - delta)(n - 1)) / (delta K)) / 2
    n, delta, rho0 = 12, 1e-2, 0.2
    k = (1 + (n - 1) * rho0) / (1 - rho0)
    expected = 0.5 * math.log((1 + (1 - delta) * (n - 1)) / (delta * k))
    got = equiangular_boundary([0.0], n, delta=delta, rho0=rho0, model=model)[0]
    assert got == pytest.approx(expected, rel=1e-9)


def test_equiangular_boundary_rejects_bad_input():
    for kw, word in [({"model": "qkv"}, "model"), ({"delta": 0.0}, "delta"), ({"rho0": 0.9999}, "rho0")]:
        with pytest.raises(ValueError, match=word):
            equiangular_boundary([1.0], 8, **kw)
    with pytest.raises(ValueError, match="n"):
        equiangular_boundary([1.0], 1)
    with pytest.raises(ValueError, match="betas"):
        equiangular_boundary([-1.0], 8)
