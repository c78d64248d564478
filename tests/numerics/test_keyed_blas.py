"""The BLAS path of the Q/K/V and multi-head models (``<kernel>_velocity_blas``, template
``sphere_keyed_blas.py.tmpl``).

Checked against independent routes: the n x n NumPy reference (``attnflow.numerics._reference``)
for ``qkv`` and both ``multihead`` normalisations, on any row split and block size (n not a multiple
of the block), over several lane tiles, at logits up to +-1000 (the exact row maximum as shift);
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
    real = _dispatch._run_blocked
    monkeypatch.setattr(_dispatch, "_run_blocked", lambda fn, *a: (calls.append(fn.__name__), real(fn, *a)))
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
