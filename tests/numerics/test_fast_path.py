"""The a-priori-shift fast path of the self-attention kernels (``<kernel>_velocity_shifted``).

Checked against independent routes: ``_vexp`` bit for bit within 1 ulp of ``math.exp`` (the C
library) over the whole float64 range; the fast path against the n x n NumPy reference
(``attnflow.numerics._reference``) for unit and non-unit tokens up to beta = 5000; the row fallback
(weight sums that underflow) against the same reference; the shift bound against sampled scores;
the dispatch's choice of path.  Speed is never asserted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from attnflow.numerics import _reference as ref
from attnflow.numerics import fields
from attnflow.numerics._generated import qkv as g_qkv
from attnflow.numerics._generated import sa as g_sa
from attnflow.numerics._generated import usa_rescaled as g_usa_rescaled
from attnflow.numerics.fields import _dispatch
from attnflow.symbolic.codegen import kernel_plan
from attnflow.symbolic.codegen._plan import SB, apriori_shift
from attnflow.symbolic.codegen.backends.numba._generate import small_lanes_work
from attnflow.symbolic.models import _symbols as S

SEED = 20261207
_vexp = g_sa._vexp


@njit(cache=False)
def _vexp_array(a, out):
    for i in range(a.shape[0]):
        out[i] = _vexp(a[i])


def _libm_exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place of non-negative doubles (consecutive bit patterns,
    across the subnormal/normal boundary); 0 for two nans."""
    d = np.abs(a.view(np.int64) - b.view(np.int64)).astype(float)
    return np.where(np.isnan(a) & np.isnan(b), 0.0, d)


def test_vexp_within_one_ulp_of_libm_over_the_whole_range():
    rng = np.random.default_rng(SEED)
    pts = [np.linspace(-760.0, 720.0, 200_001),  # every regime: zero, subnormal, normal, overflow
           np.linspace(-745.2, -708.0, 20_001),  # the subnormal results, finely
           np.linspace(709.7, 709.8, 2001),  # the overflow threshold 709.78...
           rng.uniform(-1.0, 1.0, 20_000), rng.uniform(-1e-12, 1e-12, 2000),
           np.array([0.0, -0.0, 5e-324, -5e-324, 1e-300, -745.1332191019412, -745.1332191019411,
                     709.782712893384, 709.7827128933841, -708.3964185322641, np.inf, -np.inf, np.nan,
                     np.log(2.0), -np.log(2.0), 0.5 * np.log(2.0), -0.5 * np.log(2.0), 1e308, -1e308])]
    x = np.concatenate(pts)
    got = np.empty_like(x)
    _vexp_array(x, got)
    want = np.array([_libm_exp(v) for v in x])
    assert np.all(_ulps(got, want) <= 1.0), x[np.argmax(_ulps(got, want))]
    assert got[np.isposinf(x)][0] == math.inf and got[np.isneginf(x)][0] == 0.0 and np.isnan(got[np.isnan(x)][0])


def test_apriori_shift_is_printed_from_the_declared_logit_and_bounds_it():
    beta = S.beta
    assert sp.simplify(apriori_shift(beta * S.s) - sp.Abs(beta) * SB) == 0
    assert sp.simplify(apriori_shift(beta * (S.s - 1)) - (-beta + sp.Abs(beta) * SB)) == 0
    assert apriori_shift(beta * S.s**2) is None and apriori_shift(sp.Integer(3) + beta) is None
    # the bound holds for every score |s| <= sb and every sign of beta (sampled, independent of the proof)
    rng = np.random.default_rng([SEED, 1])
    for logit in (beta * S.s, beta * (S.s - 1), 2 * beta * S.s + 3):
        lf = sp.lambdify((S.s, beta), logit)
        mf = sp.lambdify((SB, beta), apriori_shift(logit))
        sb = rng.uniform(0, 3, 1000)
        b = rng.uniform(-50, 50, 1000)
        s = sb * rng.uniform(-1, 1, 1000)
        assert np.all(lf(s, b) <= mf(sb, b) + 1e-12 * np.abs(mf(sb, b)))
    # declared in the plan exactly for the affine logits
    assert kernel_plan("sa").get("velocity_shifted") is not None
    assert kernel_plan("usa_rescaled").get("velocity_shifted") is not None
    assert kernel_plan("qkv").get("velocity_shifted") is None and not hasattr(g_qkv, "qkv_velocity_shifted")


def _tokens(rng, n, d, unit):
    x = rng.standard_normal((n, d))
    if unit:
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    return x * rng.uniform(0.5, 1.5, (n, 1))


def _underflowing_tokens():
    """30 unit tokens in the half-space <x, e_1> <= 0 and x_0 = 12 e_1: the a-priori shift of every unit
    row is 12 beta, far above its largest logit beta, so at beta = 100 those rows' weight sums underflow."""
    x = _tokens(np.random.default_rng([SEED, 3]), 30, 3, True)
    x[:, 0] = -np.abs(x[:, 0])
    x[0] = [12.0, 0.0, 0.0]
    return x


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), d=st.integers(2, 6),
       beta=st.sampled_from([0.0, 0.7, 4.0, 37.0, 500.0, 5000.0, -3.0]), unit=st.booleans(),
       rows=st.integers(1, 17))
def test_sa_fast_path_matches_the_numpy_reference(seed, n, d, beta, unit, rows):
    rng = np.random.default_rng(seed)
    x = _tokens(rng, n, d, unit)
    out = np.full_like(x, np.nan)
    logz = np.full(n, np.nan)
    cut = n // 2
    g_sa.sa_velocity_shifted(x, beta, out, logz, 0, cut, rows)  # any row split and block size
    g_sa.sa_velocity_shifted(x, beta, out, logz, cut, n, rows)
    A, lz = ref.softmax_attention(x, beta)
    scale = float(np.linalg.norm(x, axis=1).max())  # |A_i| <= max_j |x_j|
    np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * scale * max(1.0, scale**2))
    np.testing.assert_allclose(logz, lz, rtol=1e-13, atol=1e-13)


def test_sa_fast_path_over_several_lane_tiles():
    """n = 600: two full tiles of lane accumulators and a partial one, blocks of 128 rows and a rest."""
    rng = np.random.default_rng([SEED, 6])
    x = _tokens(rng, 600, 3, False)
    out = np.empty_like(x)
    logz = np.empty(600)
    g_sa.sa_velocity_shifted(x, 9.0, out, logz, 0, 600, 128)
    A, lz = ref.softmax_attention(x, 9.0)
    np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * 1.5**3)
    np.testing.assert_allclose(logz, lz, rtol=1e-13)


def test_usa_rescaled_fast_path_matches_the_numpy_reference():
    """A logit with an offset (l = beta (s - 1)) and a row factor that uses the shift (f = e^m / n)."""
    rng = np.random.default_rng([SEED, 2])
    for beta in (0.5, 4.0, 500.0, 5000.0):
        x = _tokens(rng, 70, 4, True)
        out = np.empty_like(x)
        g_usa_rescaled.usa_rescaled_velocity_shifted(x, beta, out, 0, 70, 16)
        want = ref.velocity_ref(x, "usa_rescaled", beta)
        np.testing.assert_allclose(out, want, rtol=0, atol=1e-13)


def test_rows_whose_weights_underflow_fall_back_to_the_row_maximum(monkeypatch):
    """One token x_0 = 12 e_1 makes the shift of every unit row 12 beta, far above its largest logit
    beta (the unit tokens lie in the half-space <x, e_1> <= 0): those rows' weight sums underflow
    and are recomputed by the blocked path; row 0's shift is its self logit."""
    x = _underflowing_tokens()
    beta = 100.0
    seen = []
    blocked = g_sa.sa_velocity_blocked

    def spy(*args):
        seen.append(args[-3])
        return blocked(*args)

    monkeypatch.setattr(g_sa, "sa_velocity_blocked", spy)
    out = np.empty_like(x)
    logz = np.empty(30)
    g_sa.sa_velocity_shifted(x, beta, out, logz, 0, 30, 8)
    assert sorted(seen) == list(range(1, 30))  # row 0 (its own shift is its self logit) stays on the fast path
    A, lz = ref.softmax_attention(x, beta)
    np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * 12**3)
    np.testing.assert_allclose(logz, lz, rtol=1e-13)


def test_dispatch_runs_the_fast_path_for_large_self_attention_with_nonnegative_beta(monkeypatch):
    rng = np.random.default_rng([SEED, 4])
    n, d = 256, 9  # n^2 = PARALLEL_MIN_PAIRS, d >= BLAS_MIN_DIM, d not in LANES_DIMS
    x = _tokens(rng, n, d, True)
    calls = []
    real = _dispatch._run_blocked
    monkeypatch.setattr(_dispatch, "_run_blocked", lambda fn, *a: (calls.append(fn.__name__), real(fn, *a)))
    for beta in (4.0, -4.0):
        got = fields.velocity(x, model="sa", beta=beta)
        np.testing.assert_allclose(got, ref.velocity_ref(x, "sa", beta), rtol=0, atol=1e-13)
    assert calls == ["sa_velocity_shifted", "sa_velocity_blocked"]
    monkeypatch.setattr(_dispatch, "SHIFTED_PATH", False)
    fields.velocity(x, model="sa", beta=4.0)
    assert calls[-1] == "sa_velocity_blocked"


def test_a_users_model_with_an_affine_logit_gets_the_fast_path(monkeypatch, tmp_path):
    """A declaration exp(beta s / 2) (not built in) gets ``<name>_velocity_shifted`` (d = 9) and the
    rows-in-lanes kernel (d = 4) generated into the kernel cache and dispatched; independent route: the NumPy reference of SA at beta / 2."""
    from attnflow import models

    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(tmp_path))
    half = models.SphereModel(name="fast_half_beta", weight=sp.exp(models.beta * models.s / 2),
                              normalization="softmax", description="SA at half the inverse temperature")
    assert kernel_plan(half).get("velocity_shifted") is not None
    calls = []
    real, real_lanes = _dispatch._run_blocked, _dispatch._run_lanes
    monkeypatch.setattr(_dispatch, "_run_blocked", lambda fn, *a: (calls.append(fn.__name__), real(fn, *a)))
    monkeypatch.setattr(_dispatch, "_run_lanes", lambda fn, *a: (calls.append(fn.__name__), real_lanes(fn, *a)))
    for d in (9, 4):
        x = _tokens(np.random.default_rng([SEED, 5]), 256, d, True)
        np.testing.assert_allclose(fields.velocity(x, model=half, beta=3.0), ref.velocity_ref(x, "sa", 1.5), rtol=0, atol=1e-13)
    assert calls == ["fast_half_beta_velocity_shifted", "_fast_half_beta_velocity_lanes_d4"]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), d=st.integers(2, 6),
       beta=st.sampled_from([0.0, 0.7, 4.0, 37.0, 500.0, 5000.0, -3.0]), unit=st.booleans())
def test_small_system_kernel_matches_the_numpy_reference(seed, n, d, beta, unit):
    """``_sa_velocity_small`` (the compiled step loops' kernel: a-priori shift, vectorised loops) and
    the loops' stage (the small kernel, or the serial twin where it reports underflow) against the
    n x n NumPy reference, unit and non-unit tokens, up to beta = 500.  Unit tokens with beta >= 0
    never underflow: the self weight is e^0 = 1."""
    rng = np.random.default_rng(seed)
    x = _tokens(rng, n, d, unit)
    A, lz = ref.softmax_attention(x, beta)
    want = ref.project(x, A)
    scale = float(np.linalg.norm(x, axis=1).max())
    atol = 1e-13 * scale * max(1.0, scale**2)
    out = np.full_like(x, np.nan)
    logz = np.full(n, np.nan)
    ok = g_sa._sa_velocity_small(x, beta, out, logz)
    if unit and beta >= 0:
        assert ok
    if ok:
        np.testing.assert_allclose(out, want, rtol=0, atol=atol)
        np.testing.assert_allclose(logz, lz, rtol=1e-13, atol=1e-13)
    out = np.full_like(x, np.nan)
    # the stage's logz is scratch: the allocation-free kernel it tries first does not write it
    g_sa._sa_stage(x, 0.0, beta, out, np.empty_like(x), logz, np.empty(small_lanes_work(n, d)))
    np.testing.assert_allclose(out, want, rtol=0, atol=atol)


def test_small_system_kernel_hands_underflowing_rows_to_the_serial_twin():
    """The configuration whose shifted weight sums underflow (see above): the small kernel reports
    False, and the compiled loop's stage falls back to the serial twin, which matches the reference."""
    x = _underflowing_tokens()
    out = np.empty_like(x)
    logz = np.empty(30)
    assert not g_sa._sa_velocity_small(x, 100.0, out, logz)
    u = np.empty_like(x)
    g_sa._sa_stage(x, 0.0, 100.0, out, u, logz, np.empty(small_lanes_work(*x.shape)))
    A, lz = ref.softmax_attention(x, 100.0)
    np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-13 * 12**3)
    np.testing.assert_allclose(logz, lz, rtol=1e-13)


# --- the rows-in-lanes kernel (template sphere_lanes.py.tmpl, d in LANES_DIMS) ---------------------


def _lanes(x, beta, out, logz, cuts, rows, kernel=None):
    """``_sa_velocity_lanes_d<d>`` (``kernel=None``: the small kernel's ``_sa_velocity_lanes``, d = 2, 3
    only) over the row ranges between ``cuts`` (the dispatch's arguments)."""
    nrm = np.sqrt(np.einsum("ij,ij->i", x, x))
    xmax = float(nrm.max())
    zrow = np.full(x.shape[0], np.nan)
    fn = kernel or g_sa._sa_velocity_lanes
    oks = [fn(x, beta, out, logz, nrm, xmax, zrow, a, b, rows) for a, b in zip(cuts[:-1], cuts[1:])]
    return all(ok is not False for ok in oks), zrow


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 150), d=st.sampled_from([2, 3, 8]),
       beta=st.sampled_from([0.0, 1.0, 50.0, 5000.0]), unit=st.booleans(), rows=st.sampled_from([8, 16, 64]),
       cut=st.floats(0.0, 1.0))
def test_lanes_kernel_matches_the_numpy_reference(seed, n, d, beta, unit, rows, cut):
    """Rows in the SIMD lanes against the n x n NumPy reference: n not a multiple of the block (n = 1,
    2, ...), any row split, unit and non-unit tokens, beta up to 5000.  Rows reported as underflowing
    (z_i < 1e-280) are left unwritten; unit tokens with beta >= 0 have none (the self weight is 1)."""
    rng = np.random.default_rng(seed)
    x = _tokens(rng, n, d, unit)
    out = np.full_like(x, np.nan)
    logz = np.full(n, np.nan)
    ok, zrow = _lanes(x, beta, out, logz, [0, int(cut * n), n], rows, getattr(g_sa, f"_sa_velocity_lanes_d{d}"))
    assert ok
    good = zrow >= 1e-280
    if unit:
        assert good.all()
    assert np.isnan(out[~good]).all()
    A, lz = ref.softmax_attention(x, beta)
    scale = float(np.linalg.norm(x, axis=1).max())
    np.testing.assert_allclose(out[good], ref.project(x, A)[good], rtol=0, atol=1e-13 * scale * max(1.0, scale**2))
    np.testing.assert_allclose(logz[good], lz[good], rtol=1e-13, atol=1e-13)


def test_lanes_kernel_declines_other_dimensions():
    """The small kernel's ``_sa_velocity_lanes`` takes d = 2, 3 only: for d = 5 and 16 it returns False
    and writes nothing (the small kernel then uses its lane accumulators over j); d = 16 has no
    rows-in-lanes kernel at all."""
    from attnflow.symbolic.codegen.backends.numba._generate import LANES_DIMS, SMALL_LANES_DIMS

    assert 16 not in LANES_DIMS and not hasattr(g_sa, "_sa_velocity_lanes_d16") and 5 not in SMALL_LANES_DIMS
    for d in (5, 16):
        x = _tokens(np.random.default_rng([SEED, 7]), 20, d, True)
        out = np.full_like(x, np.nan)
        ok, _ = _lanes(x, 4.0, out, np.full(20, np.nan), [0, 20], 8)
        assert not ok and np.isnan(out).all()


def test_lanes_bits_do_not_depend_on_blocks_cuts_or_threads():
    """Every row's sums run over j in order in its own lane: the same bits for any block size and row
    split, and through the dispatch with 1 and 2 numba threads."""
    import numba

    x = _tokens(np.random.default_rng([SEED, 8]), 300, 3, True)
    outs = []
    for cuts, rows in (([0, 300], 64), ([0, 7, 150, 300], 8), ([0, 299, 300], 16)):
        out, logz = np.empty_like(x), np.empty(300)
        _lanes(x, 9.0, out, logz, cuts, rows)
        outs.append((out, logz))
    for out, logz in outs[1:]:
        assert np.array_equal(out, outs[0][0]) and np.array_equal(logz, outs[0][1])
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fields.velocity(x, model="sa", beta=9.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = fields.velocity(x, model="sa", beta=9.0)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one, two) and np.array_equal(one, outs[0][0])


def test_dispatch_runs_the_lanes_kernel_at_small_d_and_falls_back_on_underflow(monkeypatch):
    """n = 256 (the parallel threshold), d = 2, 3, 8, beta >= 0: the rows-in-lanes kernels; d = 16: the
    BLAS shifted path; beta < 0: the blocked path.  With x_0 = 12 e_1 and the unit rows in the half-space
    <x, e_1> <= 0 (beta = 100) every unit row's weight sum underflows: those rows, and only those,
    are recomputed by the blocked path, and the result matches the reference."""
    lanes_calls, blocked_calls = [], []
    real_lanes, real_blocked = _dispatch._run_lanes, _dispatch._run_blocked
    monkeypatch.setattr(_dispatch, "_run_lanes", lambda *a: (lanes_calls.append(a[0].__name__), real_lanes(*a)))
    monkeypatch.setattr(_dispatch, "_run_blocked", lambda fn, *a: (blocked_calls.append(fn.__name__), real_blocked(fn, *a)))
    rng = np.random.default_rng([SEED, 9])
    for d, beta in ((3, 4.0), (16, 4.0), (3, -4.0), (2, 0.0), (8, 50.0)):
        x = _tokens(rng, 256, d, True)
        got = fields.velocity(x, model="sa", beta=beta)
        np.testing.assert_allclose(got, ref.velocity_ref(x, "sa", beta), rtol=0, atol=1e-13)
    assert lanes_calls == ["_sa_velocity_lanes_d3", "_sa_velocity_lanes_d2", "_sa_velocity_lanes_d8"]
    assert blocked_calls == ["sa_velocity_shifted", "sa_velocity_blocked"]
    x = _tokens(rng, 256, 3, True)
    x[:, 0] = -np.abs(x[:, 0])
    x[0] = [12.0, 0.0, 0.0]
    rows = []

    def spying(lanes, blocked, *a):
        def spy(*args):
            rows.append(args[-3])
            return blocked(*args)
        return real_lanes(lanes, spy, *a)

    monkeypatch.setattr(_dispatch, "_run_lanes", spying)
    from attnflow.symbolic.models import get

    got, _ = _dispatch.builder(get("sa"), 100.0, {}).run(0.0, x)  # non-unit x_0: the field without validation
    assert sorted(rows) == list(range(1, 256))  # row 0's shift is its self logit
    A, _ = ref.softmax_attention(x, 100.0)
    np.testing.assert_allclose(got, ref.project(x, A), rtol=0, atol=1e-13 * 12**3)
