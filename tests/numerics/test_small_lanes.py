"""The allocation-free small-system kernels of the compiled step loops (generated
``_<kernel>_velocity_small_lanes``, template ``sphere_small_lanes.py.tmpl``).

Expected values come from the n x n NumPy reference (``numerics/_reference.py``: the softmax attention
and its log-partition, the tangent projection; the USA field) and, for the bits, from
``_<kernel>_velocity_small`` (the same operations in the same order through the rows-in-lanes kernel
of ``sphere_lanes.py.tmpl``, another template and another block size).
"""

from __future__ import annotations

import numpy as np
import pytest

from attnflow.numerics import _reference as ref
from attnflow.numerics._generated import sa as g_sa
from attnflow.numerics._generated import usa as g_usa
from attnflow.symbolic.codegen.backends.numba._generate import SMALL_LANES_DIMS, small_lanes_work

SEED = 20261208


def _tokens(rng, n, d, unit):
    x = rng.standard_normal((n, d))
    if unit:
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    return x * rng.uniform(0.5, 1.5, (n, 1))


def _work(x):
    return np.full(small_lanes_work(*x.shape), np.nan)


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("n", [1, 2, 31, 32, 33, 64])
def test_small_lanes_kernel_matches_the_numpy_reference_and_the_small_kernel(n, d):
    """Unit and off-sphere tokens, beta from 0 to 2000 (and -3): the velocity within 1e-13 of the
    reference, logz when asked, and the same bits as ``_sa_velocity_small`` (True/False alike)."""
    rng = np.random.default_rng([SEED, n, d])
    for unit in (True, False):
        x = _tokens(rng, n, d, unit)
        scale = float(np.linalg.norm(x, axis=1).max())
        for beta in (0.0, 2.0, 200.0, 2000.0, -3.0):
            out, logz = np.full_like(x, np.nan), np.full(n, np.nan)
            ok = g_sa._sa_velocity_small_lanes(x, beta, out, logz, _work(x), True)
            old, old_logz = np.full_like(x, np.nan), np.full(n, np.nan)
            assert ok == g_sa._sa_velocity_small(x, beta, old, old_logz)
            if unit and beta >= 0:
                assert ok  # the self weight is e^0 = 1: no underflow
            if not ok:
                continue
            A, lz = ref.softmax_attention(x, beta)
            np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * scale * max(1.0, scale**2))
            np.testing.assert_allclose(logz, lz, rtol=1e-13, atol=1e-13)
            assert np.array_equal(out, old) and np.array_equal(logz, old_logz)


def test_small_lanes_kernel_of_usa_matches_the_reference():
    """USA (mean normalisation, f = e^m / n): the velocity against the NumPy reference, n = 33 (two
    blocks, the second of one row), d = 2 and 3."""
    rng = np.random.default_rng([SEED, 1])
    for d in (2, 3):
        x = _tokens(rng, 33, d, True)
        for beta in (0.5, 4.0):
            out = np.full_like(x, np.nan)
            assert g_usa._usa_velocity_small_lanes(x, beta, out, _work(x), False)
            want = ref.velocity_ref(x, "usa", beta)
            np.testing.assert_allclose(out, want, rtol=0, atol=1e-13 * np.abs(want).max())


def test_small_lanes_kernel_declines_other_dimensions_and_the_stage_still_matches():
    """d = 8 and 16 have no allocation-free kernel (``SMALL_LANES_DIMS``): it returns False and writes
    nothing; the stage then runs ``_sa_velocity_small`` (which writes logz), against the reference."""
    assert set(SMALL_LANES_DIMS) == {2, 3}
    rng = np.random.default_rng([SEED, 2])
    for d in (8, 16):
        x = _tokens(rng, 32, d, True)
        out, logz = np.full_like(x, np.nan), np.full(32, np.nan)
        assert not g_sa._sa_velocity_small_lanes(x, 4.0, out, logz, _work(x), True)
        assert np.isnan(out).all() and np.isnan(logz).all()
        g_sa._sa_stage(x, 0.0, 4.0, out, np.empty_like(x), logz, _work(x))
        A, lz = ref.softmax_attention(x, 4.0)
        np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13)
        np.testing.assert_allclose(logz, lz, rtol=1e-13, atol=1e-13)


def test_the_stage_runs_the_allocation_free_kernel_first():
    """At d = 2, 3 the compiled loops' stage computes the velocity with the allocation-free kernel: it
    leaves ``logz`` unwritten (``with_logz=False``), where the other kernels would write it; the
    velocity is the reference's."""
    rng = np.random.default_rng([SEED, 3])
    for d in (2, 3):
        x = _tokens(rng, 32, d, True)
        out, logz = np.full_like(x, np.nan), np.full(32, np.nan)
        g_sa._sa_stage(x, 0.0, 2.0, out, np.empty_like(x), logz, _work(x))
        assert np.isnan(logz).all()
        A, _ = ref.softmax_attention(x, 2.0)
        np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13)


def test_underflowing_weight_sums_fall_back_to_the_serial_twin():
    """x_0 = 12 e_1 and 29 unit tokens in the half-space <x, e_1> <= 0 at beta = 100: every unit row's
    a-priori shift is 12 beta, its weight sum underflows; the kernel returns False and the stage
    (allocation-free kernel, small kernel, serial twin) matches the reference, logz included."""
    x = _tokens(np.random.default_rng([SEED, 4]), 30, 3, True)
    x[:, 0] = -np.abs(x[:, 0])
    x[0] = [12.0, 0.0, 0.0]
    out, logz = np.empty_like(x), np.full(30, np.nan)
    assert not g_sa._sa_velocity_small_lanes(x, 100.0, out, logz, _work(x), True)
    g_sa._sa_stage(x, 0.0, 100.0, out, np.empty_like(x), logz, _work(x))
    A, lz = ref.softmax_attention(x, 100.0)
    np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * 12**3)
    np.testing.assert_allclose(logz, lz, rtol=1e-13)
