"""The symmetric rows-in-lanes path (``_<kernel>_velocity_lanes_symmetric``, template
``sphere_lanes_symmetric.py.tmpl``, d = 2..8).

One common shift makes the weights symmetric; each unordered pair's weight is computed once and added
to both rows.  Checked against the independent n x n NumPy reference (``attnflow.numerics._reference``)
for every d = 2..8 (SA, with ``logz``) and for the other models that have the path (their row factors,
output maps, logit offsets), n = 70 and 300 (partial 64-row panels and 64-column tiles), large beta,
tokens of different norms; its refusal when the common shift is too loose and the dispatch's fallback
to the per-row rows-in-lanes kernel there; the same bits for any schedule of the groups and for 1 or 2
threads; and the dispatch reaching it.  Speed is never asserted.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from attnflow.numerics import _reference as ref
from attnflow.numerics import fields
from attnflow.numerics._generated import ngpt as g_ngpt
from attnflow.numerics._generated import periln as g_periln
from attnflow.numerics._generated import sa as g_sa
from attnflow.numerics._generated import sqrt as g_sqrt
from attnflow.numerics._generated import usa as g_usa
from attnflow.numerics._generated import usa_rescaled as g_usa_rescaled
from attnflow.numerics.fields import _dispatch
from attnflow.symbolic.codegen.backends.numba._generate import LANES_DIMS
from attnflow.symbolic.models import get

SEED = 20261208

#: model -> (driver, its parameters (in the kernel's order), has logz)
_MODELS = {
    "sa": (g_sa._sa_velocity_lanes_symmetric, {}, True),
    "usa": (g_usa._usa_velocity_lanes_symmetric, {}, False),
    "sqrt": (g_sqrt._sqrt_velocity_lanes_symmetric, {"t": 0.7}, False),
    "ngpt": (g_ngpt._ngpt_velocity_lanes_symmetric, {"alpha": 0.6}, False),
    "usa_rescaled": (g_usa_rescaled._usa_rescaled_velocity_lanes_symmetric, {}, False),  # logit with an offset
    "periln": (g_periln._periln_velocity_lanes_symmetric, {}, False),  # output A / |A|, no projection
}


def _serial(jobs):
    for job in jobs:
        job()


def _reversed(jobs):
    for job in reversed(jobs):
        job()


def _tokens(rng, n, d, unit):
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x if unit else x * rng.uniform(0.8, 1.3, (n, 1))


def _lanes_symmetric(model, x, beta, ngroups=3, run=_serial):
    fn, params, has_logz = _MODELS[model]
    out = np.full_like(x, np.nan)
    logz = np.full(x.shape[0], np.nan)
    ok = fn(x, beta, *params.values(), out, *((logz,) if has_logz else ()), ngroups, run)
    return ok, out, logz


@pytest.mark.parametrize("d", LANES_DIMS)
def test_lanes_symmetric_matches_the_numpy_reference_for_every_d(d):
    """SA, n = 70 and 300 (not multiples of the 64-row panels or 64-column tiles: partial panels, partial
    tiles, an empty group), unit tokens at beta in {0, 1, 200, 2000} and tokens of norms 0.8..1.3 at beta
    in {1, 4} (a common shift above some rows' own: still exact); ``logz`` too."""
    assert tuple(LANES_DIMS) == (2, 3, 4, 5, 6, 7, 8)
    rng = np.random.default_rng([SEED, d])
    for n in (70, 300):
        for unit, beta in [(True, b) for b in (0.0, 1.0, 200.0, 2000.0)] + [(False, 1.0), (False, 4.0)]:
            x = _tokens(rng, n, d, unit)
            ok, out, logz = _lanes_symmetric("sa", x, beta)
            assert ok, (n, unit, beta)
            A, lz = ref.softmax_attention(x, beta)
            np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * 1.3**3, err_msg=f"{n} {unit} {beta}")
            np.testing.assert_allclose(logz, lz, rtol=1e-13, atol=1e-13, err_msg=f"{n} {unit} {beta}")


@pytest.mark.parametrize("model", ["usa", "sqrt", "ngpt", "usa_rescaled", "periln"])
def test_lanes_symmetric_matches_the_numpy_reference_for_the_other_models(model):
    """d = 3, n = 203: the row factor, output map and logit of each model with the path."""
    rng = np.random.default_rng([SEED, len(model)])
    _, params, _ = _MODELS[model]
    cases = [(True, b) for b in (0.0, 1.0, 50.0, 2000.0) if not (model == "usa" and b > 700)]
    if model != "periln":  # Peri-LN's reference attends over the directions x_i/|x_i|, which the dispatch passes
        cases += [(False, 1.0), (False, 4.0)]
    for unit, beta in cases:
        x = _tokens(rng, 203, 3, unit)
        ok, out, _ = _lanes_symmetric(model, x, beta)
        assert ok, (unit, beta)
        want = ref.velocity_ref(x, model, beta, **params)
        # USA is not normalised: |A_i| <= mean_j e^{beta s_ij} |x_j|, and the projection cancels most of it
        scale = float(np.exp(beta * (x @ x.T)).mean(axis=1).max()) if model == "usa" else 1.0
        np.testing.assert_allclose(out, want, rtol=0, atol=1e-13 * max(scale, 1.0) * 1.3**3, err_msg=f"{unit} {beta}")


def test_lanes_symmetric_declines_other_dimensions():
    x = _tokens(np.random.default_rng([SEED, 1]), 20, 9, True)
    ok, out, _ = _lanes_symmetric("sa", x, 4.0)
    assert not ok and np.isnan(out).all()


def test_lanes_symmetric_refuses_a_loose_common_shift_and_the_dispatch_falls_back(monkeypatch):
    """Norms 0.5..1.5 at beta = 2000: for the shortest rows the common shift is far above every logit
    (z_i could underflow), so the path returns False before writing; the dispatch then runs the per-row
    rows-in-lanes kernel, which matches the reference.  The public API hands the kernels unit tokens,
    where beta >= 0 never refuses: the dispatch's field object is called here with the raw tokens."""
    rng = np.random.default_rng([SEED, 2])
    x = rng.standard_normal((300, 3))
    x *= rng.uniform(0.5, 1.5, (300, 1)) / np.linalg.norm(x, axis=1, keepdims=True)
    ok, out, logz = _lanes_symmetric("sa", x, 2000.0)
    assert not ok and np.isnan(out).all() and np.isnan(logz).all()
    assert _lanes_symmetric("sa", x, 1.0)[0]  # the same tokens at a small beta: the bound holds
    calls = []
    real_sym, real_lanes = _dispatch._run_lanes_symmetric, _dispatch._run_lanes
    monkeypatch.setattr(_dispatch, "LANES_SYMMETRIC_MIN_N", 256)  # a small n keeps the test cheap
    monkeypatch.setattr(_dispatch, "_run_lanes_symmetric",
                        lambda fn, *a: (r := real_sym(fn, *a), calls.append((fn.__name__, r)))[0])
    monkeypatch.setattr(_dispatch, "_run_lanes", lambda fn, *a: (calls.append(fn.__name__), real_lanes(fn, *a)))
    for beta in (2000.0, 4.0):
        got, lz = _dispatch.builder(get("sa"), beta, {})._run_one(x, ())
        A, want_lz = ref.softmax_attention(x, beta)
        np.testing.assert_allclose(got, ref.project(x, A), rtol=0, atol=1e-13 * 1.5**3)
        np.testing.assert_allclose(lz, want_lz, rtol=1e-13, atol=1e-13)
    assert calls == [("_sa_velocity_lanes_symmetric", False), "_sa_velocity_lanes_d3",
                     ("_sa_velocity_lanes_symmetric", True)]


def test_dispatch_takes_the_lanes_symmetric_path_from_its_size_on(monkeypatch):
    """Below ``LANES_SYMMETRIC_MIN_N`` the per-row rows-in-lanes kernel, from it on the symmetric one (d = 2..8),
    for d >= 12 neither; ``LANES_SYMMETRIC_PATH = False`` switches it off."""
    rng = np.random.default_rng([SEED, 3])
    calls = []
    real_sym, real_lanes = _dispatch._run_lanes_symmetric, _dispatch._run_lanes
    monkeypatch.setattr(_dispatch, "_run_lanes_symmetric", lambda fn, *a: (calls.append(fn.__name__), real_sym(fn, *a))[1])
    monkeypatch.setattr(_dispatch, "_run_lanes", lambda fn, *a: (calls.append(fn.__name__), real_lanes(fn, *a)))
    assert _dispatch.LANES_SYMMETRIC_MIN_N > 256
    x = _tokens(rng, 256, 3, True)
    fields.velocity(x, model="sa", beta=4.0)
    monkeypatch.setattr(_dispatch, "LANES_SYMMETRIC_MIN_N", 256)  # a small n keeps the test cheap
    for d in (2, 8, 16):
        x = _tokens(rng, 256, d, True)
        np.testing.assert_allclose(fields.velocity(x, model="sa", beta=4.0), ref.velocity_ref(x, "sa", 4.0),
                                   rtol=0, atol=1e-13)
    monkeypatch.setattr(_dispatch, "LANES_SYMMETRIC_PATH", False)
    fields.velocity(_tokens(rng, 256, 3, True), model="sa", beta=4.0)
    assert calls == ["_sa_velocity_lanes_d3", "_sa_velocity_lanes_symmetric", "_sa_velocity_lanes_symmetric",
                     "_sa_velocity_lanes_d3"]


def test_lanes_symmetric_is_bit_identical_for_any_schedule_and_thread_count(monkeypatch):
    """The groups add into their own buffers, summed in group order: running them in reverse order, or
    through the dispatch with 1 or 2 threads, gives the same bits."""
    rng = np.random.default_rng([SEED, 4])
    x = _tokens(rng, 300, 3, True)
    _, a, la = _lanes_symmetric("sa", x, 4.0, ngroups=4)
    _, b, lb = _lanes_symmetric("sa", x, 4.0, ngroups=4, run=_reversed)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    monkeypatch.setattr(_dispatch, "LANES_SYMMETRIC_MIN_N", 256)
    x = _tokens(rng, 600, 3, True)  # ten panels: every group non-empty
    old = numba.get_num_threads()
    try:
        got = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS), 1):
            numba.set_num_threads(threads)
            got.append(fields.velocity(x, model="sa", beta=4.0))
    finally:
        numba.set_num_threads(old)
    assert all(np.array_equal(got[0], g) for g in got[1:])
    np.testing.assert_allclose(got[0], ref.velocity_ref(x, "sa", 4.0), rtol=0, atol=1e-13)
