"""The a-priori-shift kernels of the circle models (``<model>_velocity_shifted``, template
``circle_shifted.py.tmpl``) and of the query-only keyed models (``interp*_velocity_shifted``, template
``sphere_query_shifted.py.tmpl``).

Independent routes: the n x n NumPy references of :mod:`attnflow.numerics._reference`, 50-digit
mpmath sums of the equations (kuramoto_rescaled at beta = 4000, where the NumPy reference's
``cos - 1`` loses beta * eps), the declared expressions evaluated at random points (the
embedding rewrite of the generator), the exact row kernels for the rows that fall back.
Speed is never asserted.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from attnflow.numerics import _reference as ref
from attnflow.numerics import velocity
from attnflow.numerics._generated import causal_alibi as g_ca
from attnflow.numerics._generated import interp as g_interp
from attnflow.numerics._generated import interp_attention as g_ia
from attnflow.numerics._generated import kuramoto as g_k
from attnflow.numerics._generated import kuramoto_rescaled as g_kr
from attnflow.numerics.fields import _dispatch
from attnflow.symbolic.codegen import circle_shifted, kernel_plan
from attnflow.symbolic.codegen._plan import CIRCLE_EMBEDDING
from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.models import get, kernel_expressions, kernel_variants
from attnflow.symbolic.models.builtin.interp import interp_attention

SEED = 20261207
LAM = 0.3
CIRCLE = {"kuramoto": (g_k, ()), "kuramoto_rescaled": (g_kr, ()), "causal_alibi": (g_ca, (LAM,))}


def _fast(model: str, theta, beta, batched=False, serial=False):
    mod, args = CIRCLE[model]
    name = f"{model}_velocity_batched_shifted" if batched else f"{model}_velocity_shifted"
    out = np.full(theta.shape, np.nan)
    getattr(mod, name + ("_serial" if serial else ""))(theta, beta, *args, out)
    return out


def _ref(model: str, theta, beta):
    return ref.velocity_ref(theta, model, beta, **({"lam": LAM} if model == "causal_alibi" else {}))


def _scale(model: str, theta, beta) -> float:
    """max_i F_i sum_j |w_ij| (|v_ij| <= 1): the size of the terms of the field, which the rounding of any
    evaluation is relative to (the field itself may cancel to ~0, e.g. one token)."""
    n = theta.shape[0]
    c = np.cos(theta[:, None] - theta[None, :])
    if model == "kuramoto":
        return float(np.exp(beta * c).sum(axis=1).max() / n)
    if model == "kuramoto_rescaled":
        return float(np.exp(beta * (c - 1.0)).sum(axis=1).max() / n)
    gap = np.arange(n)[:, None] - np.arange(n)[None, :]
    p = np.where(gap > 0, np.exp(-LAM * gap / n), 0.0)
    z = np.maximum(p.sum(axis=1), 1e-300)
    return float((beta * (p * np.exp(beta * c)).sum(axis=1) / z).max())


@pytest.mark.parametrize("model", list(CIRCLE))
def test_the_embedded_pair_term_equals_the_declared_one(model):
    """f p w v of the declaration (at its own shift) = F e^{E - M} v in the plane embedding, at random
    angles, gaps and parameters: the generator's rewrite, checked by evaluating both expressions."""
    decl = get(model)
    exprs = kernel_expressions(decl, next(iter(kernel_variants(decl).values())))
    fast = circle_shifted(exprs)
    e = CIRCLE_EMBEDDING
    declared = (exprs["f"] * exprs.get("p", 1) * exprs["w"] * exprs["v"]).subs(S.l, exprs.get("l", S.l)).subs(S.s, exprs["s"])
    embedded = fast["f"] * fast["w"] * fast["v"]
    rng = np.random.default_rng([SEED, 1])
    for _ in range(20):
        a, b = rng.uniform(-np.pi, np.pi, 2)
        vals = {S.dl: a - b, S.beta: rng.uniform(0, 30), S.m: rng.uniform(-5, 5), S.g: rng.integers(1, 9),
                S.N: 9, S.n: 9, S.lam: rng.uniform(0, 3), S.z: rng.uniform(0.5, 4),
                e["ci"]: math.cos(a), e["si"]: math.sin(a), e["dc"]: math.cos(b) - math.cos(a),
                e["ds"]: math.sin(b) - math.sin(a)}
        want = float(declared.subs(vals).evalf(30))
        got = float(embedded.subs(vals).evalf(30))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300)
    # the shift bounds the exponent over the row (self logit, gap >= 0)
    assert sp.simplify(fast["shift"] - {"kuramoto": S.beta, "kuramoto_rescaled": 0, "causal_alibi": S.beta}[model]) == 0


def test_plan_declares_the_fast_kernels_exactly_for_these_models():
    for model in CIRCLE:
        assert kernel_plan(model).get("velocity_shifted_circle") is not None
        assert kernel_plan(model).get("velocity_batched_shifted_circle") is not None
    assert kernel_plan("interp").get("velocity_shifted").template == "sphere_query_shifted"
    assert kernel_plan(interp_attention).get("velocity_shifted").template == "sphere_query_shifted"
    assert kernel_plan("qkv").get("velocity_shifted") is None  # keys and values: not this path


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), model=st.sampled_from(list(CIRCLE)),
       beta=st.sampled_from([0.0, 0.7, 4.0, 37.0, 300.0]))
def test_circle_fast_kernels_match_the_numpy_reference(seed, n, model, beta):
    theta = np.random.default_rng(seed).uniform(-np.pi, np.pi, n)
    want = _ref(model, theta, beta)
    got = _fast(model, theta, beta)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * _scale(model, theta, beta))
    assert np.array_equal(_fast(model, theta, beta, serial=True), got)  # fixed-order sums: the same bits


@pytest.mark.parametrize("model", list(CIRCLE))
def test_circle_fast_kernels_over_several_tiles_and_blocks(model):
    """n = 600: two full tiles of 256 lanes and a partial one, 38 row blocks of 16 (the last partial),
    paired across the threads; the batched kernel gives each configuration the same bits."""
    rng = np.random.default_rng([SEED, 2])
    theta = rng.uniform(-np.pi, np.pi, (2, 600))
    for beta in (4.0, 150.0):
        want = _ref(model, theta[0], beta)
        got = _fast(model, theta[0], beta)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * np.abs(want).max())
        batched = _fast(model, theta, beta, batched=True)
        assert np.array_equal(batched[0], got) and np.array_equal(batched[1], _fast(model, theta[1], beta))
        assert np.array_equal(_fast(model, theta, beta, batched=True, serial=True), batched)


def _kuramoto_rescaled_mpmath(theta, beta):
    with mp.workdps(50):
        n = len(theta)
        return np.array([float(sum(mp.exp(beta * (mp.cos(mp.mpf(a) - mp.mpf(b)) - 1)) * mp.sin(mp.mpf(b) - mp.mpf(a))
                                   for b in theta) / n) for a in theta])


def test_rescaled_kuramoto_at_beta_4000_against_50_digit_sums():
    """The metastability staircase regime: clusters of width ~ 1/sqrt(beta).  The weight e^{beta (s - 1)}
    is computed from |u_j - u_i|^2, accurate to O(eps |theta_i - theta_j|), so the field keeps ~1e-14."""
    rng = np.random.default_rng([SEED, 3])
    theta = np.concatenate([c + rng.normal(0.0, 0.03, 9) for c in (-2.0, 0.5, 2.5)])
    want = _kuramoto_rescaled_mpmath(theta, 4000.0)
    got = velocity(theta, model="kuramoto_rescaled", beta=4000.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * np.abs(want).max())


def test_causal_rows_whose_weights_underflow_fall_back_to_the_exact_row():
    """Tokens at three angles 2 pi / 3 apart: tokens 1 and 2 only see earlier tokens at cos = -1/2, whose
    shifted weights e^{-3 beta / 2} underflow at beta = 500 (below the 1e-280 threshold); those rows are
    recomputed by the exact row (running maximum) and still agree with the reference."""
    theta = (2 * np.pi / 3) * (np.arange(12) % 3) + 0.1
    beta = 500.0
    got = _fast("causal_alibi", theta, beta)
    want = _ref("causal_alibi", theta, beta)
    for i in (1, 2):
        assert got[i] == g_ca._causal_alibi_row(theta, i, beta, LAM) and got[i] != 0.0
    np.testing.assert_allclose(got[:3], want[:3], rtol=1e-13, atol=0)  # ~1e-106: relative, not lost
    # the later rows see a token at their own angle (weight 1): terms e^{-750} below it are rounding there
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * _scale("causal_alibi", theta, beta))
    assert got[0] == 0.0  # the first token attends to nothing


@pytest.mark.parametrize("model", list(CIRCLE))
def test_dispatch_takes_the_fast_kernels_for_beta_nonnegative_only(model, monkeypatch):
    mod, args = CIRCLE[model]
    p = {"lam": LAM} if args else {}
    decl = get(model)
    fast = _dispatch.Field(decl, 2.0, p)
    assert fast.kernels == (getattr(mod, f"{model}_velocity_shifted"), getattr(mod, f"{model}_velocity_shifted_serial"))
    assert _dispatch.Field(decl, -2.0, p).kernels[0] is getattr(mod, f"{model}_velocity")
    monkeypatch.setattr(_dispatch, "SHIFTED_PATH", False)
    assert _dispatch.Field(decl, 2.0, p).kernels[0] is getattr(mod, f"{model}_velocity")
    theta = np.random.default_rng([SEED, 4]).uniform(-np.pi, np.pi, 30)
    np.testing.assert_allclose(velocity(theta, model=model, beta=-3.0, **p), _ref(model, theta, -3.0),
                               rtol=0, atol=1e-13 * np.abs(_ref(model, theta, -3.0)).max())


# ------------------------------------------------------------------------------------- interp


def _interp_params(rng, d, scale=1.0):
    p = {k: scale * rng.standard_normal((d, d)) / np.sqrt(d) for k in ("V", "B")}
    m = int(rng.integers(0, 4))
    p.update(W=rng.standard_normal((d, m)), U=rng.standard_normal((m, d)), b=rng.standard_normal(m))
    return p


def _interp_fast(model, x, beta, p, start, stop, rows, out):
    qx = np.ascontiguousarray(x @ p["B"].T)
    if model == "interp":
        g_interp.interp_velocity_shifted(x, qx, x, x, beta, p["V"], p["W"], p["U"], p["b"], out, start, stop, rows)
    else:
        g_ia.interp_attention_velocity_shifted(x, qx, x, x, beta, out, start, stop, rows)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), d=st.integers(2, 5), rows=st.integers(1, 17),
       beta=st.sampled_from([0.0, 0.7, 4.0, 37.0]), model=st.sampled_from(["interp", "interp_attention"]))
def test_interp_fast_path_matches_the_numpy_reference(seed, n, d, rows, beta, model):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    p = _interp_params(rng, d)
    out = np.full_like(x, np.nan)
    cut = n // 2
    _interp_fast(model, x, beta, p, 0, cut, rows, out)  # any row split and block size
    _interp_fast(model, x, beta, p, cut, n, rows, out)
    want = ref.velocity_ref(x, model, beta, **({"B": p["B"]} if model == "interp_attention" else p))
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-13 * max(1.0, np.abs(want).max()))


def test_interp_rows_far_from_every_key_take_their_row_maximum():
    """Tokens in a cap around e_1 and B = -c I: every query points away from every key, the Cauchy-Schwarz
    shift beta c exceeds the row maximum by about 1.9 beta c = 1500, the weights underflow, and those rows
    are recomputed with the row maximum (else they would be 0/0)."""
    rng = np.random.default_rng([SEED, 5])
    x = np.array([1.0, 0.0, 0.0]) + 0.2 * rng.standard_normal((50, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    p = {"B": -8.0 * np.eye(3)}
    out = np.full_like(x, np.nan)
    _interp_fast("interp_attention", x, 100.0, p, 0, 50, 16, out)
    want = ref.velocity_ref(x, "interp_attention", 100.0, **p)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-13)


def test_interp_dispatch_from_the_parallel_size_on(monkeypatch):
    """n^2 >= PARALLEL_MIN_PAIRS and beta >= 0: the fast path on the threads of the blocked path, equal to
    the reference; beta < 0 and SHIFTED_PATH = False keep the fused kernel."""
    rng = np.random.default_rng([SEED, 6])
    n, d = 300, 4
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    p = _interp_params(rng, d)
    assert _dispatch.Field(get("interp"), 3.0, p).query_shifted is g_interp.interp_velocity_shifted
    assert _dispatch.Field(get("interp"), -3.0, p).query_shifted is None
    for beta in (3.0, 60.0):
        want = ref.velocity_ref(x, "interp", beta, **p)
        np.testing.assert_allclose(velocity(x, model="interp", beta=beta, **p), want, rtol=0,
                                   atol=1e-13 * max(1.0, np.abs(want).max()))
    monkeypatch.setattr(_dispatch, "SHIFTED_PATH", False)
    assert _dispatch.Field(get("interp"), 3.0, p).query_shifted is None
