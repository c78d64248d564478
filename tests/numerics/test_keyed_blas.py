"""The BLAS path of the Q/K/V and multi-head models (``<kernel>_velocity_blas``, template
``sphere_keyed_blas.py.tmpl``: column tiles, the a-priori Cauchy-Schwarz shift per head, rows whose
weight sum underflows recomputed with the exact row maximum).

Checked against independent routes: the n x n NumPy reference (``attnflow.numerics._reference``)
for ``qkv`` and both ``multihead`` normalisations, on any row split and block size (n not a multiple
of the block), over several column tiles (n not a multiple of the tile), at logits up to +-1000;
rows whose a-priori shift is far too loose (the recomputed rows), mixed with rows that are not; the
shift per row (no recomputation where the bound is tight); the same bits with 1 and 2 threads;
a user's sigmoid Q/K/V model (tests/data/user_models.py) against SciPy's logistic function on the
full score matrix, at logits up to +-1000; the dispatch's choice of path.  Speed is never asserted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from attnflow.numerics import _reference as ref
from attnflow.numerics import fields
from attnflow.numerics._generated import multihead as g_mh
from attnflow.numerics._generated import qkv as g_qkv
from attnflow.numerics.fields import _dispatch

SEED = 20261207
USER_MODELS = Path(__file__).resolve().parents[1] / "data" / "user_models.py"


def _unit(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _split(fn, n, rows, *args):
    """``fn`` on rows [0, n//2) and [n//2, n) (blocks of ``rows``); rows not written stay nan."""
    cut = n // 2
    fn(*args, 0, cut, rows)
    fn(*args, cut, n, rows)


EPS = np.finfo(float).eps


def _check(got, want, rel=1e-13):
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=0, atol=rel * max(scale, 1e-300))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), d=st.integers(2, 6),
       logit=st.sampled_from([0.0, 0.5, 4.0, 40.0, 1000.0, -30.0]), rows=st.integers(1, 17))
def test_qkv_blas_path_matches_the_numpy_reference(seed, n, d, logit, rows):
    """``logit`` = max |beta <Qx_i, Kx_j>| (beta scaled to it): up to +-1000, no overflow."""
    rng = np.random.default_rng(seed)
    x = _unit(rng, n, d)
    Q, K, V = rng.standard_normal((3, d, d)) / np.sqrt(d)
    qx, kx, vx = (np.ascontiguousarray(x @ M.T) for M in (Q, K, V))
    smax = float(np.abs(qx @ kx.T).max())
    beta = logit / smax if smax > 0 else logit
    out = np.full_like(x, np.nan)
    logz = np.full(n, np.nan)
    _split(g_qkv.qkv_velocity_blas, n, rows, x, qx, kx, vx, beta, out, logz)
    _check(out, ref.velocity_ref(x, "qkv", beta, Q=Q, K=K, V=V))
    _check(logz, ref.log_partition_ref(x, "qkv", beta, Q=Q, K=K, V=V))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), d=st.integers(2, 6), heads=st.integers(1, 3),
       logit=st.sampled_from([0.0, 0.5, 4.0, 40.0, 1000.0, -30.0]), rows=st.integers(1, 17),
       normalization=st.sampled_from(["shared", "per_head"]))
def test_multihead_blas_path_matches_the_numpy_reference(seed, n, d, heads, logit, rows, normalization):
    """Both normalisations; the shared one (row factor e^m / n, no normalisation) at logits up to 600
    (e^m stays finite), where the result inherits the conditioning |m| of e^m: the rounding of the
    score (a few eps) is amplified to 4 eps |m| relative (measured: 2.3e-13 at m = 600, equal for the
    fused kernel ``multihead_shared_velocity_serial`` and this path)."""
    rel = 1e-13
    if normalization == "shared":
        logit = min(logit, 600.0)
        rel += 4 * EPS * abs(logit)
    rng = np.random.default_rng(seed)
    x = _unit(rng, n, d)
    M = rng.standard_normal((heads, d, d)) / np.sqrt(d)
    mx = np.ascontiguousarray(x[None] @ np.transpose(M, (0, 2, 1)))
    smax = float(np.abs(np.einsum("ik,hjk->hij", x, mx)).max())
    beta = logit / smax if smax > 0 else logit
    out = np.full_like(x, np.nan)
    _split(getattr(g_mh, f"multihead_{normalization}_velocity_blas"), n, rows, x, mx, beta, out)
    _check(out, ref.velocity_ref(x, "multihead", beta, M=M, normalization=normalization), rel)


def test_blas_path_over_several_lane_tiles_with_the_row_maximum_in_the_last():
    """n = 600: two full tiles of lane accumulators and a partial one; a token repeated at j = 599 makes
    the largest logit of every row sit in the partial tile; blocks of 128 rows and a rest of 88."""
    rng = np.random.default_rng([SEED, 1])
    n, d = 600, 4
    x = _unit(rng, n, d)
    Q, K, V = rng.standard_normal((3, d, d)) / np.sqrt(d)
    qx, kx, vx = (np.ascontiguousarray(x @ M.T) for M in (Q, K, V))
    qx[:, 0] = np.abs(qx[:, 0]) + 1.0  # <qx_i, 10 e_1> >= 10 > |qx_i| |kx_j| for every other key
    kx[-1] = 10.0 * np.eye(d)[0]
    beta = 20.0
    out = np.empty_like(x)
    logz = np.empty(n)
    g_qkv.qkv_velocity_blas(x, qx, kx, vx, beta, out, logz, 0, n, 128)
    logits = beta * (qx @ kx.T)
    assert np.all(logits.argmax(axis=1) == n - 1)  # every row's maximum is in the partial tile
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    A = (w @ vx) / w.sum(axis=1, keepdims=True)
    _check(out, ref.project(x, A))
    _check(logz, logits.max(axis=1) + np.log(w.sum(axis=1)))


def _sigmoid_qkv():
    import runpy

    return runpy.run_path(str(USER_MODELS))["sigmoid_qkv"]  # the declaration, not registered


def _spy(monkeypatch):
    calls = []
    real = _dispatch._run_keyed
    monkeypatch.setattr(_dispatch, "_run_keyed", lambda fn, *a: (calls.append(fn.__name__), real(fn, *a)))
    return calls


@pytest.fixture(scope="module")
def kernel_cache(tmp_path_factory):
    """One kernel cache for the module: the user's model is generated and compiled once."""
    return tmp_path_factory.mktemp("kernel_cache")


@pytest.mark.parametrize("logit", [3.0, 1000.0])
def test_users_sigmoid_qkv_model_gets_the_blas_path(monkeypatch, kernel_cache, logit):
    """A declared non-exponential weight (no shift): the generated ``sigmoid_qkv_velocity_blas`` through the
    public API at n = 256 (n^2 >= KEYED_BLAS_MIN_PAIRS) against SciPy's logistic on the full n x n score
    matrix, mean normalisation, tangent projection; logits up to +-1000."""
    monkeypatch.setenv("ATTNFLOW_KERNEL_CACHE", str(kernel_cache))
    decl = _sigmoid_qkv()
    calls = _spy(monkeypatch)
    rng = np.random.default_rng([SEED, 2])
    n, d = 256, 5
    x = _unit(rng, n, d)
    Q, K, V = rng.standard_normal((3, d, d)) / np.sqrt(d)
    S = (x @ Q.T) @ (x @ K.T).T
    beta = logit / float(np.abs(S).max())
    A = expit(beta * S) @ (x @ V.T) / n
    got = fields.velocity(x, model=decl, beta=beta, Q=Q, K=K, V=V)
    assert calls == ["sigmoid_qkv_velocity_blas"]
    _check(got, ref.project(x, A))


def test_dispatch_runs_the_blas_path_for_large_qkv_and_multihead_calls(monkeypatch):
    calls = _spy(monkeypatch)
    rng = np.random.default_rng([SEED, 3])
    n, d = 256, 3
    x = _unit(rng, n, d)
    Q, K, V = rng.standard_normal((3, d, d))
    M = rng.standard_normal((2, d, d))
    for beta in (4.0, -4.0):
        _check(fields.velocity(x, model="qkv", beta=beta, Q=Q, K=K, V=V), ref.velocity_ref(x, "qkv", beta, Q=Q, K=K, V=V))
        for norm in ("shared", "per_head"):
            _check(fields.velocity(x, model="multihead", beta=beta, M=M, normalization=norm),
                   ref.velocity_ref(x, "multihead", beta, M=M, normalization=norm))
    assert calls == ["qkv_velocity_blas", "multihead_shared_velocity_blas", "multihead_per_head_velocity_blas"] * 2
    monkeypatch.setattr(_dispatch, "KEYED_BLAS_PATH", False)
    fields.velocity(x, model="qkv", beta=4.0, Q=Q, K=K, V=V)
    assert len(calls) == 6
    monkeypatch.setattr(_dispatch, "KEYED_BLAS_PATH", True)
    small = x[:99]  # 99^2 < KEYED_BLAS_MIN_PAIRS: the serial twin
    _check(fields.velocity(small, model="qkv", beta=4.0, Q=Q, K=K, V=V), ref.velocity_ref(small, "qkv", 4.0, Q=Q, K=K, V=V))
    assert len(calls) == 6
    fields.velocity(x[:100], model="qkv", beta=4.0, Q=Q, K=K, V=V)
    assert calls[6:] == ["qkv_velocity_blas"]


def test_query_only_models_take_the_a_priori_shift_path_not_the_keyed_blas_path():
    """A query matrix only (keys and values the tokens: interp, interp_attention): the plan gives the
    a-priori-shift path (template sphere_query_shifted) and no ``velocity_blas`` kernel, which the
    dispatch would never reach for beta >= 0 (tested in tests/numerics/test_circle_fast_path.py)."""
    from attnflow.numerics._generated import interp_attention as g_ia

    assert hasattr(g_ia, "interp_attention_velocity_shifted")
    assert not hasattr(g_ia, "interp_attention_velocity_blas")


# -- the a-priori shift, its recomputed rows, threads ----------------------------------------------


def _count_exact_rows(monkeypatch, module, name):
    """Spy on the exact-row-maximum weights pass of ``module`` (the recomputed rows): a list of row counts."""
    rows = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda g, *a: (rows.append(g.shape[1]), real(g, *a))[1])
    return rows


def test_rows_with_a_far_too_loose_shift_are_recomputed_with_the_row_maximum(monkeypatch):
    """K = diag(1, 1, 1, 1000), Q without the last coordinate: the keys of tokens near e_4 have norms
    up to 1000 but meet no query (s_ij = <Qx_i, Kx_j> uses the first three coordinates only), so the
    bound m_i = beta |q_i| max_j |k_j| ~ 1000 beta |q_i| is far above every logit (<= beta |q_i|) and
    z_i = sum_j e^{l_ij - m_i} underflows below 1e-280 for |q_i| > ~0.65: those rows are recomputed with
    their row maximum, the others (queries near e_4, small |q_i|) keep the bound.  n = 600: column tiles
    of 256 and a partial one; blocks of 128 rows and a rest."""
    rng = np.random.default_rng([SEED, 4])
    n, d = 600, 4
    x = _unit(rng, n, d)
    x[::7] = _unit(rng, len(x[::7]), d) * [0.05, 0.05, 0.05, 1.0]  # some queries near e_4 (small |q_i|)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    Q = np.diag([1.0, 1.0, 1.0, 0.0])
    K = np.diag([1.0, 1.0, 1.0, 1000.0])
    V = rng.standard_normal((d, d))
    qx, kx, vx = (np.ascontiguousarray(x @ M.T) for M in (Q, K, V))
    beta = 1.5
    qn = np.linalg.norm(qx, axis=1)
    loose = beta * qn * np.linalg.norm(kx, axis=1).max() - (beta * qx @ kx.T).max(axis=1) > 700  # z_i < e^-700
    assert 0 < loose.sum() < n - 50
    exact = _count_exact_rows(monkeypatch, g_qkv, "_qkv_velocity_blas_weights")
    out = np.empty_like(x)
    logz = np.empty(n)
    g_qkv.qkv_velocity_blas(x, qx, kx, vx, beta, out, logz, 0, n, 128)
    assert loose.sum() <= sum(exact) < n
    _check(out, ref.velocity_ref(x, "qkv", beta, Q=Q, K=K, V=V))
    _check(logz, ref.log_partition_ref(x, "qkv", beta, Q=Q, K=K, V=V))


@pytest.mark.parametrize("normalization", ["shared", "per_head"])
def test_multihead_rows_with_a_far_too_loose_shift_in_one_head(monkeypatch, normalization):
    """Tokens in span(e_1, e_2, e_3) of R^4; head 1 has M_1 = diag(1, 1, 1, 0) + 1000 e_4 e_3^T, so its keys
    M_1 x_j = (x_j1, x_j2, x_j3, 1000 x_j3) have norms up to ~1000 but s_ij = <x_i, M_1 x_j> = <x_i, x_j>
    (no query has an e_4 part): the bound beta |x_i| max_j |M_1 x_j| ~ 1000 beta is far above every
    logit (<= beta) in every row, so every row's head 1 is recomputed with its row maximum; head 0 (a
    random M_0) is tight.  n = 300: two column tiles and a partial one, blocks of 64 rows and a rest."""
    rng = np.random.default_rng([SEED, 5])
    n, d = 300, 4
    x = np.zeros((n, d))
    x[:, :3] = _unit(rng, n, 3)
    M = np.stack([rng.standard_normal((d, d)) / 2, np.diag([1.0, 1.0, 1.0, 0.0])])
    M[1, 3, 2] = 1000.0
    mx = np.ascontiguousarray(x[None] @ np.transpose(M, (0, 2, 1)))
    beta = 2.0
    assert beta * np.linalg.norm(mx[1], axis=1).max() - beta * np.abs(x @ mx[1].T).max() > 1000
    exact = _count_exact_rows(monkeypatch, g_mh, f"_multihead_{normalization}_velocity_blas_weights")
    out = np.empty_like(x)
    getattr(g_mh, f"multihead_{normalization}_velocity_blas")(x, mx, beta, out, 0, n, 64)
    assert sum(exact) == n
    _check(out, ref.velocity_ref(x, "multihead", beta, M=M, normalization=normalization))


def test_the_shift_is_per_row_no_recomputation_where_the_bound_is_tight(monkeypatch):
    """Queries of norms from 1e-3 to 1, |s_ij| up to 800 at the largest: the per-row bound
    beta |q_i| max_j |k_j| stays within 700 of each row's largest logit here (checked), so no row is
    recomputed; a shift from max_i |q_i| instead of |q_i| would leave the rows of small |q_i| with
    z_i ~ e^-800 (recomputed: this test fails)."""
    rng = np.random.default_rng([SEED, 6])
    n, d = 400, 6
    x = _unit(rng, n, d)
    qx = np.ascontiguousarray(_unit(rng, n, d) * np.geomspace(1e-3, 1.0, n)[:, None])
    kx = np.ascontiguousarray(_unit(rng, n, d))
    vx = np.ascontiguousarray(rng.standard_normal((n, d)))
    beta = 800.0
    qn = np.linalg.norm(qx, axis=1)
    assert np.all(beta * qn * np.linalg.norm(kx, axis=1).max() - (beta * qx @ kx.T).max(axis=1) < 700)
    exact = _count_exact_rows(monkeypatch, g_qkv, "_qkv_velocity_blas_weights")
    out = np.empty_like(x)
    logz = np.empty(n)
    g_qkv.qkv_velocity_blas(x, qx, kx, vx, beta, out, logz, 0, n, 128)
    assert exact == []
    logits = beta * (qx @ kx.T)
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    _check(out, ref.project(x, (w @ vx) / w.sum(axis=1, keepdims=True)))
    _check(logz, logits.max(axis=1) + np.log(w.sum(axis=1)))


def test_dispatch_reaches_the_column_tiles_of_the_a_priori_shift(monkeypatch):
    """Through ``fields.velocity`` at n = 300 (3 blocks of 128 rows, 2 column tiles): every keyed model
    runs its ``_<kernel>_tiles`` pass (the a-priori-shift path), not only the exact rows."""
    calls = []
    for mod, names in ((g_qkv, ["qkv"]), (g_mh, ["multihead_shared", "multihead_per_head"])):
        for k in names:
            name = f"_{k}_velocity_blas_tiles"
            real = getattr(mod, name)
            monkeypatch.setattr(mod, name, lambda *a, real=real, k=k: (calls.append(k), real(*a))[1])
    rng = np.random.default_rng([SEED, 7])
    n, d = 300, 5
    x = _unit(rng, n, d)
    Q, K, V = rng.standard_normal((3, d, d))
    M = rng.standard_normal((2, d, d))
    fields.velocity(x, model="qkv", beta=4.0, Q=Q, K=K, V=V)
    for norm in ("shared", "per_head"):
        fields.velocity(x, model="multihead", beta=4.0, M=M, normalization=norm)
    assert sorted(set(calls)) == ["multihead_per_head", "multihead_shared", "qkv"]
    assert calls.count("qkv") == 3  # one call per block of rows


def test_same_bits_with_one_and_two_threads():
    """The thread cuts fall on multiples of the block (``_dispatch._run_keyed``): every row is computed by
    the same block, so 1 and 2 threads give the same bits (n = 300: blocks 128 + 128 + 44)."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread")
    rng = np.random.default_rng([SEED, 8])
    n, d = 300, 5
    x = _unit(rng, n, d)
    Q, K, V = rng.standard_normal((3, d, d))
    M = rng.standard_normal((2, d, d))
    calls = [lambda: fields.velocity(x, model="qkv", beta=4.0, Q=Q, K=K, V=V)]
    calls += [lambda norm=norm: fields.velocity(x, model="multihead", beta=4.0, M=M, normalization=norm)
              for norm in ("shared", "per_head")]
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = [f() for f in calls]
        numba.set_num_threads(2)
        two = [f() for f in calls]
    finally:
        numba.set_num_threads(old)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("model", ["multihead", "qkv"])
def test_mean_normalisation_row_factor_stays_finite_under_a_loose_bound(model):
    """The shared multi-head normalisation (row factor e^m / n) with the bound m_i between 709 (e^m
    overflows) and every row's largest logit + 100 (so z_i >= 1e-280): those rows are recomputed with the
    exact row maximum (< 700 here, e^m finite), and the result matches the reference.  qkv (a softmax:
    row factor 1 / z, no e^m) at the same logits needs no recomputation and must match too."""
    rng = np.random.default_rng([SEED, 9])
    n, d = 64, 4
    x = _unit(rng, n, d)
    M = rng.standard_normal((2, d, d)) / np.sqrt(d)
    mx = np.ascontiguousarray(x[None] @ np.transpose(M, (0, 2, 1)))
    bound = np.linalg.norm(mx, axis=2).max(axis=1)[:, None] * np.linalg.norm(x, axis=1)[None]  # (H, n)
    smax = np.einsum("ik,hjk->hij", x, mx).max(axis=2)
    beta = 750.0 / float(bound.max())
    assert beta * smax.max() < 700 and np.all(beta * (bound - smax) < 600)
    out = np.empty_like(x)
    if model == "multihead":
        g_mh.multihead_shared_velocity_blas(x, mx, beta, out, 0, n, 16)
        want = ref.velocity_ref(x, "multihead", beta, M=M, normalization="shared")
        _check(out, want, 1e-13 + 4 * EPS * 700)
    else:
        Q, K, V = np.eye(d), M[0], rng.standard_normal((d, d))
        qx, kx, vx = (np.ascontiguousarray(x @ A.T) for A in (Q, K, V))
        logz = np.empty(n)
        g_qkv.qkv_velocity_blas(x, qx, kx, vx, beta, out, logz, 0, n, 16)
        _check(out, ref.velocity_ref(x, "qkv", beta, Q=Q, K=K, V=V), 1e-13 + 4 * EPS * 700)
        _check(logz, ref.log_partition_ref(x, "qkv", beta, Q=Q, K=K, V=V), 1e-13)
