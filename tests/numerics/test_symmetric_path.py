"""The symmetric a-priori-shift path of the self-attention kernels (``_<kernel>_velocity_symmetric``).

One shift for all rows makes the weights symmetric; each is computed once for i <= j and serves
rows i and j.  Checked against the independent n x n NumPy reference (``attnflow.numerics._reference``)
for SA, USA, the sqrt normalisation and nGPT (the row factor, the output coefficients and ``logz`` of
each), n not a multiple of the tile, tiles much smaller than n (many groups, panels and column tiles),
unit tokens and tokens of different norms; its refusal when the common shift is too loose, and the
dispatch's fallback there; bit-identical results for any schedule of the groups and 1 or 2 threads.
Speed is never asserted.
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
from attnflow.symbolic.models import get

SEED = 20261208

#: model -> (symmetric function, its parameters (in the kernel's order), has logz)
_MODELS = {
    "sa": (g_sa._sa_velocity_symmetric, {}, True),
    "usa": (g_usa._usa_velocity_symmetric, {}, False),
    "sqrt": (g_sqrt._sqrt_velocity_symmetric, {"t": 0.7}, False),
    "ngpt": (g_ngpt._ngpt_velocity_symmetric, {"alpha": 0.6}, False),
    "usa_rescaled": (g_usa_rescaled._usa_rescaled_velocity_symmetric, {}, False),  # logit with an offset
    "periln": (g_periln._periln_velocity_symmetric, {}, False),  # output A / |A|, no projection
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


def _symmetric(model, x, beta, ngroups=3, rows=16, ncols=40, run=_serial):
    fn, params, has_logz = _MODELS[model]
    out = np.full_like(x, np.nan)
    logz = np.full(x.shape[0], np.nan)
    ok = fn(x, beta, *params.values(), out, *((logz,) if has_logz else ()), ngroups, rows, ncols, run)
    return ok, out, logz


@pytest.mark.parametrize(("model", "d"), [(m, d) for m in ("sa", "usa", "sqrt", "ngpt") for d in (16, 64)]
                         + [("usa_rescaled", 16), ("periln", 16)])
def test_symmetric_path_matches_the_numpy_reference(model, d):
    """n = 203 (not a multiple of the 16-row panels nor the 40-column tiles), three groups; unit tokens
    at beta in {0, 1, 50, 5000} (USA: its factor e^beta / n overflows at 5000, so up to 50) and tokens
    of norms 0.8..1.3 at beta in {1, 4} (a common shift above some rows' own: still exact)."""
    rng = np.random.default_rng([SEED, d, len(model)])
    _, params, has_logz = _MODELS[model]
    cases = [(True, b) for b in (0.0, 1.0, 50.0, 5000.0) if not (model == "usa" and b > 700)]
    if model != "periln":  # Peri-LN's reference attends over the directions x_i/|x_i|, which the dispatch passes
        cases += [(False, 1.0), (False, 4.0)]
    for unit, beta in cases:
        x = _tokens(rng, 203, d, unit)
        ok, out, logz = _symmetric(model, x, beta)
        assert ok, (unit, beta)
        want = ref.velocity_ref(x, model, beta, **params)
        # USA is not normalised: |A_i| <= mean_j e^{beta s_ij} |x_j|, and the projection cancels most of it
        scale = float(np.exp(beta * (x @ x.T)).mean(axis=1).max()) if model == "usa" else 1.0
        np.testing.assert_allclose(out, want, rtol=0, atol=1e-13 * max(scale, 1.0) * 1.3**3, err_msg=f"{unit} {beta}")
        if has_logz:
            np.testing.assert_allclose(logz, ref.softmax_attention(x, beta)[1], rtol=1e-13, atol=1e-13)


def test_symmetric_path_refuses_a_loose_common_shift_and_the_dispatch_falls_back():
    """Norms 0.5..1.5 at beta = 5000: for the shortest rows the common shift is far above every logit
    (z_i could underflow), so the symmetric path returns False before writing; the dispatch then runs
    the per-row a-priori-shift path (itself falling back to the row maximum where needed), which
    matches the reference.  The public API hands the kernels unit tokens (sphere models check them,
    Pre-LN and Euclidean models take directions), where beta >= 0 never refuses (z_i >= w_ii = 1):
    the dispatch's field object is called here with the raw tokens."""
    rng = np.random.default_rng([SEED, 1])
    x = rng.standard_normal((300, 16))
    x *= rng.uniform(0.5, 1.5, (300, 1)) / np.linalg.norm(x, axis=1, keepdims=True)
    ok, out, _ = _symmetric("sa", x, 5000.0)
    assert not ok and np.isnan(out).all()
    assert _symmetric("sa", _tokens(rng, 50, 16, True), 700.0)[0]
    assert _symmetric("sa", x, 1.0)[0]  # the same tokens at a small beta: the bound holds
    calls = []
    real_sym, real_blocked = _dispatch._run_symmetric, _dispatch._run_blocked
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_dispatch, "SYMMETRIC_MIN_N", 256)  # a small n keeps the test cheap
        mp.setattr(_dispatch, "_run_symmetric", lambda fn, *a: (calls.append(fn.__name__), real_sym(fn, *a))[1])
        mp.setattr(_dispatch, "_run_blocked", lambda fn, *a: (calls.append(fn.__name__), real_blocked(fn, *a)))
        for beta in (5000.0, 4.0, -4.0):
            got, logz = _dispatch.builder(get("sa"), beta, {})._run_one(x, ())
            A, lz = ref.softmax_attention(x, beta)
            np.testing.assert_allclose(got, ref.project(x, A), rtol=0, atol=1e-13 * 1.5**3)
            np.testing.assert_allclose(logz, lz, rtol=1e-13, atol=1e-13)
    # 5000: refused -> per-row shifted path; 4: the symmetric path; -4: the blocked path (beta < 0)
    assert calls == ["_sa_velocity_symmetric", "sa_velocity_shifted", "_sa_velocity_symmetric", "sa_velocity_blocked"]


def test_dispatch_takes_the_symmetric_path_from_its_dimension_and_size_on(monkeypatch):
    rng = np.random.default_rng([SEED, 2])
    calls = []
    real_sym, real_blocked = _dispatch._run_symmetric, _dispatch._run_blocked
    monkeypatch.setattr(_dispatch, "_run_symmetric", lambda fn, *a: (calls.append(fn.__name__), real_sym(fn, *a))[1])
    monkeypatch.setattr(_dispatch, "_run_blocked", lambda fn, *a: (calls.append(fn.__name__), real_blocked(fn, *a)))
    assert _dispatch.SYMMETRIC_MIN_N > 256
    for min_n, d in ((None, _dispatch.SYMMETRIC_MIN_DIM), (256, _dispatch.SYMMETRIC_MIN_DIM - 1),
                     (256, _dispatch.SYMMETRIC_MIN_DIM)):
        if min_n is not None:
            monkeypatch.setattr(_dispatch, "SYMMETRIC_MIN_N", min_n)  # a small n keeps the test cheap
        x = _tokens(rng, 256, d, True)
        np.testing.assert_allclose(fields.velocity(x, model="sa", beta=4.0), ref.velocity_ref(x, "sa", 4.0),
                                   rtol=0, atol=1e-13)
    assert calls == ["sa_velocity_shifted", "sa_velocity_shifted", "_sa_velocity_symmetric"]
    monkeypatch.setattr(_dispatch, "SHIFTED_PATH", False)  # the switch of the a-priori-shift paths covers it
    fields.velocity(x, model="sa", beta=4.0)
    assert calls[-1] == "sa_velocity_blocked"


def test_symmetric_path_is_bit_identical_for_any_schedule_and_thread_count(monkeypatch):
    """The groups write only their own storage and are summed in group order: running them in reverse
    order, twice, or through the dispatch with 1 or 2 threads gives the same bits."""
    rng = np.random.default_rng([SEED, 3])
    x = _tokens(rng, 203, 16, True)
    _, a, la = _symmetric("sa", x, 4.0)
    _, b, lb = _symmetric("sa", x, 4.0, run=_reversed)
    _, c, lc = _symmetric("sa", x, 4.0)
    assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(la, lb) and np.array_equal(la, lc)
    x = _tokens(rng, 600, 16, True)  # through the dispatch: n^2 >= PARALLEL_MIN_PAIRS, d >= SYMMETRIC_MIN_DIM
    monkeypatch.setattr(_dispatch, "SYMMETRIC_MIN_N", 256)
    monkeypatch.setattr(_dispatch, "SYMMETRIC_TILE", (64, 128))  # both groups non-empty and several tiles each
    old = numba.get_num_threads()
    try:
        got = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS), 1):
            numba.set_num_threads(threads)
            got.append(fields.velocity(x, model="sa", beta=4.0))
    finally:
        numba.set_num_threads(old)
    assert all(np.array_equal(got[0], g) for g in got[1:])
