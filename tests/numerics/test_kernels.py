"""The generated numba kernels against (a) plain NumPy and (b) the SymPy expressions in mpmath.

(a) ``attnflow.numerics._reference`` builds the full n x n logit matrix (Gram -> shifted exp ->
normalise -> matmul) and computes the circle field through the R^2 embedding (the attention +
perceptron field ``interp`` through dense products and ``np.maximum``); (b)
``attnflow.symbolic.models.velocity_matrix`` / ``energy_expr`` are explicit SymPy sums for
n <= 4, lambdified with mpmath at 30 digits.  Neither route shares code with the templates.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from attnflow.numerics import _reference as ref
from attnflow.numerics import fields
from attnflow.numerics._generated import causal_alibi as g_alibi
from attnflow.numerics._generated import interp as g_interp
from attnflow.numerics._generated import kuramoto as g_kuramoto
from attnflow.numerics._generated import multihead as g_multihead
from attnflow.numerics._generated import ngpt as g_ngpt
from attnflow.numerics._generated import preln as g_preln
from attnflow.numerics._generated import qkv as g_qkv
from attnflow.numerics._generated import sa as g_sa
from attnflow.numerics._generated import sqrt as g_sqrt
from attnflow.numerics._generated import usa as g_usa
from attnflow.numerics.fields import _dispatch
from attnflow.symbolic import models as sym

SEED = 20261126


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _params(model, rng, d):
    if model == "qkv":
        Q, K, V = rng.standard_normal((3, d, d))
        return {"Q": Q, "K": K, "V": V}
    if model == "multihead":
        return {"M": rng.standard_normal((2, d, d))}
    if model == "multihead_per_head":
        return {"M": rng.standard_normal((2, d, d)), "normalization": "per_head"}
    if model == "ngpt":
        return {"alpha": 0.8}
    if model == "causal_alibi":
        return {"lam": 1.7}
    if model == "interp":
        return _interp_params(rng, d, 2)
    return {}


def _interp_params(rng, d, m):
    V, B = rng.standard_normal((2, d, d))
    return {"V": V, "B": B, "W": rng.standard_normal((d, m)), "U": rng.standard_normal((m, d)),
            "b": rng.standard_normal(m)}


SPHERE = ["sa", "usa", "qkv", "multihead", "multihead_per_head", "ngpt", "sqrt"]
ALL = SPHERE + ["preln", "periln", "kuramoto", "causal_alibi", "interp"]


def _state(model, rng, n, d):
    manifold = fields.MODELS[model.replace("_per_head", "")].manifold
    if manifold == "angles":
        return rng.uniform(-np.pi, np.pi, n)
    x = _sphere(rng, n, d)
    return x * rng.uniform(0.3, 3.0, (n, 1)) if manifold == "euclidean" else x


@pytest.mark.parametrize("beta", [0.0, 1.3, -2.1, 9.0])
@pytest.mark.parametrize("model", ALL)
def test_kernel_matches_numpy_reference(model, beta):
    rng = np.random.default_rng([SEED, ALL.index(model), int(10 * beta) % 97])
    n, d = 57, 5
    p = _params(model, rng, d)
    x = _state(model, rng, n, d)
    name = model.replace("_per_head", "")
    got = fields.velocity(x, model=name, beta=beta, t=0.7, **p)
    want = ref.velocity_ref(x, name, beta, t=0.7, **p)
    assert got.shape == x.shape
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("model", ["kuramoto", "causal_alibi"])
def test_batched_angle_kernels_match_per_prompt(model):
    rng = np.random.default_rng([SEED, 7])
    theta = rng.uniform(0, 2 * np.pi, (9, 23))
    kw = {"lam": 0.6} if model == "causal_alibi" else {}
    want = np.stack([ref.velocity_ref(row, model, 1.5, **kw) for row in theta])
    np.testing.assert_allclose(fields.make_field(model, beta=1.5, **kw)(0.0, theta), want, rtol=0, atol=1e-13)
    np.testing.assert_allclose(fields.velocity(theta, model=model, beta=1.5, **kw), want, rtol=0, atol=1e-13)


def _mp_eval(expr_fn, syms, values):
    """Evaluate lambdified SymPy expressions with mpmath at 30 digits."""
    flat_syms, flat_vals = [], []
    for key, sv in syms.items():
        val = values[key]
        if isinstance(sv, sp.Matrix):
            flat_syms += list(sv)
            flat_vals += [mpmath.mpf(float(v)) for v in np.asarray(val).ravel()]
        elif isinstance(sv, list) and sv and isinstance(sv[0], sp.Matrix):
            for Ms, Mv in zip(sv, val):
                flat_syms += list(Ms)
                flat_vals += [mpmath.mpf(float(v)) for v in np.asarray(Mv).ravel()]
        elif isinstance(sv, list):
            flat_syms += sv
            flat_vals += [mpmath.mpf(float(v)) for v in val]
        else:
            flat_syms.append(sv)
            flat_vals.append(mpmath.mpf(float(val)))
    f = sp.lambdify(flat_syms, expr_fn, modules="mpmath")
    with mpmath.workdps(30):
        out = f(*flat_vals)
        return np.array([[float(c) for c in row] for row in out.tolist()]) if hasattr(out, "tolist") else out


@pytest.mark.parametrize("model", ALL + ["sa_negative_beta"])
def test_kernel_matches_sympy_in_mpmath(model):
    beta = -0.9 if model == "sa_negative_beta" or ALL.index(model) % 2 else 1.7
    model = model.replace("_negative_beta", "")
    rng = np.random.default_rng([SEED, 11, ALL.index(model)])
    n, d = (4, 3) if model in ("sa", "usa", "kuramoto", "causal_alibi") else (3, 3)
    name = model.replace("_per_head", "")
    p = _params(model, rng, d)
    x = _state(model, rng, n, d)
    syms, expr = sym.velocity_matrix(name, n, d, normalization=p.get("normalization", "shared"), heads=2)
    values = {"beta": beta, "t": 0.7}
    if "theta" in syms:
        values["theta"] = x
    else:
        values["x"] = x
    for k in ("Q", "K", "V", "M", "lam", "alpha", "B", "W", "U", "b"):
        if k in syms:
            values[k] = p[k]
    values = {k: values[k] for k in syms}
    want = _mp_eval(sp.Matrix(expr) if isinstance(expr, list) else expr, syms, values)
    want = np.asarray(want, dtype=float).reshape(x.shape)
    got = fields.velocity(x, model=name, beta=beta, t=0.7, **p)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * max(1.0, float(np.max(np.abs(want)))))


@pytest.mark.parametrize("beta, m, scale", [(1.0, 0, 1.0), (-0.9, 3, 1.0), (1.0, 2, 40.0)])
def test_interp_kernel_matches_sympy_in_mpmath(beta, m, scale):
    """The attention + perceptron field (family ``interp``): n = 4, d = 3, m hidden units; scale = 40
    multiplies B (logits up to ~100: unshifted exponentials would lose everything to rounding)."""
    rng = np.random.default_rng([SEED, 59, m, int(scale)])
    n, d = 4, 3
    x = _sphere(rng, n, d)
    p = _interp_params(rng, d, m)
    p["B"] = scale * p["B"]
    syms, expr = sym.velocity_matrix("interp", n, d, hidden=m)
    values = {"beta": beta, "x": x, **p}
    want = np.asarray(_mp_eval(expr, syms, {k: values[k] for k in syms}), dtype=float).reshape(x.shape)
    got = fields.velocity(x, model="interp", beta=beta, **p)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * max(1.0, float(np.max(np.abs(want)))))
    # the kernel called directly (query rows B x_j, keys and values x_j) against the reference
    out = np.empty_like(x)
    g_interp.interp_velocity(x, x @ p["B"].T, x, x, beta, p["V"], p["W"], p["U"], p["b"], out)
    want = ref.velocity_ref(x, "interp", beta, **p)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-13 * max(1.0, float(np.max(np.abs(want)))))


def test_interp_parallel_path_and_pointwise_layers():
    """n^2 >= PARALLEL_MIN_PAIRS: the parallel kernel; V = 0: the pointwise field (attention skipped)."""
    rng = np.random.default_rng([SEED, 61])
    x = _sphere(rng, 260, 3)
    p = _interp_params(rng, 3, 4)
    want = ref.velocity_ref(x, "interp", 1.0, **p)
    np.testing.assert_allclose(fields.velocity(x, model="interp", beta=1.0, **p), want, rtol=0,
                               atol=1e-13 * max(1.0, float(np.max(np.abs(want)))))
    p["V"] = np.zeros((3, 3))
    p["B"] = 1e6 * p["B"]  # irrelevant when V = 0 (and never evaluated)
    want = ref.project(x, np.maximum(x @ p["U"].T + p["b"], 0.0) @ p["W"].T)
    np.testing.assert_allclose(fields.velocity(x, model="interp", beta=1.0, **p), want, rtol=0, atol=1e-14)


def test_interp_symbolic_field_is_the_formula_of_the_notes():
    """The SymPy pair expressions of ``interp`` are the logit beta*s, the shifted weight and the ReLU:
    exp(l - m) * exp(m) = exp(beta s) (proved by SymPy) and Max(u, 0) = (u + |u|)/2 at three points."""
    from attnflow.symbolic.proof import prove_zero

    e = sym.KERNEL_EXPRESSIONS["interp"]
    assert e["l"] == sym.beta * sym.s
    assert prove_zero((e["w"] * sp.exp(sym.m)).subs(sym.l, e["l"]) - sp.exp(sym.beta * sym.s)).status == "proved"
    for u in (-1.5, 0.0, 2.25):
        assert float(e["h"].subs(sym.u, u)) == (u + abs(u)) / 2


@pytest.mark.parametrize("model", ["sa", "usa", "qkv", "multihead", "kuramoto"])
def test_energy_matches_sympy_in_mpmath(model):
    rng = np.random.default_rng([SEED, 13, len(model)])
    n, d = 4, 3
    beta = 1.9
    p = {}
    if model == "qkv":
        A = rng.standard_normal((d, d))
        V = A + A.T
        p = {"Q": np.eye(d), "K": V, "V": V}
    elif model == "multihead":
        A = rng.standard_normal((2, d, d))
        p = {"M": A + A.transpose(0, 2, 1)}
    x = rng.uniform(-3, 3, n) if model == "kuramoto" else _sphere(rng, n, d)
    syms, expr = sym.energy_expr(model, n, d, heads=2)
    values = {"beta": beta}
    values["theta" if model == "kuramoto" else "x"] = x
    if "V" in syms:
        values["V"] = p["V"]
    if "M" in syms:
        values["M"] = p["M"]
    values = {k: values[k] for k in syms}
    want = float(_mp_eval(expr, syms, values))
    got = fields.energy(x, model=model, beta=beta, **p)
    assert got == pytest.approx(want, rel=1e-13)


def test_sa_kernel_large_beta_no_overflow():
    """At beta = 5000 raw e^{beta <x,y>} overflows; the shifted kernel stays finite and correct."""
    rng = np.random.default_rng([SEED, 17])
    x = _sphere(rng, 40, 3)
    for beta in (5000.0, -5000.0):
        got = fields.velocity(x, model="sa", beta=beta)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref.velocity_ref(x, "sa", beta), atol=1e-12)
    # qkv and per-head multihead use the online maximum with rescaling
    Q, K, V = rng.standard_normal((3, 3, 3))
    got = fields.velocity(x, model="qkv", beta=3000.0, Q=Q, K=K, V=V)
    np.testing.assert_allclose(got, ref.velocity_ref(x, "qkv", 3000.0, Q=Q, K=K, V=V), atol=1e-10)
    # interp: logits 3000 <B x_i, x_j> (online maximum with rescaling), either sign
    p = _interp_params(rng, 3, 2)
    for beta in (3000.0, -3000.0):
        got = fields.velocity(x, model="interp", beta=beta, **p)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref.velocity_ref(x, "interp", beta, **p), atol=1e-10)


def test_sa_weights_are_the_shifted_exponential_for_nonnegative_beta():
    """For beta >= 0 the self logit is the row maximum: logz_i = beta + log sum_j e^{beta(<x_i,x_j> - 1)}."""
    rng = np.random.default_rng([SEED, 19])
    x = _sphere(rng, 31, 4)
    beta = 3.0
    out = np.empty_like(x)
    logz = np.empty(31)
    g_sa.sa_velocity(x, beta, out, logz)
    G = x @ x.T
    want = beta + np.log(np.exp(beta * (G - 1.0)).sum(axis=1))
    np.testing.assert_allclose(logz, want, rtol=1e-14)


def test_unprojected_attention_and_row_lse():
    rng = np.random.default_rng([SEED, 23])
    x = _sphere(rng, 29, 3)
    out = np.empty_like(x)
    logz = np.empty(29)
    g_sa.sa_velocity(x, -1.4, out, logz)
    A, lz = ref.softmax_attention(x, -1.4)
    np.testing.assert_allclose(out, ref.project(x, A), atol=1e-14)
    np.testing.assert_allclose(logz, lz, rtol=1e-14)
    g_preln.preln_velocity(x, -1.4, out)  # the unprojected attention output (unit rows: theta = x)
    np.testing.assert_allclose(out, A, atol=1e-14)
    m = np.empty(29)
    z = np.empty(29)
    g_sa.sa_energy_rows(x, x, -1.4, m, z)
    np.testing.assert_allclose(m + np.log(z), lz, rtol=1e-14)


def test_kernel_functions_exist_and_are_numba_dispatchers():
    import importlib

    from attnflow.symbolic.codegen import generated_models, kernel_plan

    seen = set()
    for decl in generated_models():
        plan = kernel_plan(decl)
        mod = importlib.import_module(plan.module)
        for k in plan.kernels:
            f = getattr(mod, k.name)
            seen.add(k.name)
            if not k.njit:
                assert not hasattr(f, "py_func"), k.name  # the blocked path and the energy prefactor: NumPy/Python
                continue
            assert f.targetoptions.get("parallel") is True
            assert f.targetoptions.get("fastmath") is False
            assert f._cache.__class__.__name__ != "NullCache"  # cache=True
    assert {"sa_velocity", "sa_velocity_blocked", "usa_velocity", "qkv_velocity", "multihead_shared_velocity",
            "multihead_per_head_velocity", "kuramoto_velocity_batched", "kuramoto_energy_rows",
            "causal_alibi_velocity_batched", "interp_velocity", "interp_attention_velocity"} <= seen


def test_causal_alibi_first_token_fixed_and_lam_zero_is_uniform_average():
    rng = np.random.default_rng([SEED, 29])
    theta = rng.uniform(0, 2 * np.pi, 12)
    beta = 1.1
    v = fields.velocity(theta, model="causal_alibi", beta=beta, lam=0.0)
    assert v[0] == 0.0
    # lam = 0: plain average of w_beta'(theta_j - theta_k) over k < j (closed form, independent)
    for j in range(1, 12):
        dk = theta[j] - theta[:j]
        assert v[j] == pytest.approx(np.mean(-beta * np.sin(dk) * np.exp(beta * np.cos(dk))), rel=1e-13, abs=1e-15)


# --------------------------------------------------------------------------------------------
# the blocked BLAS path (d >= fields.BLAS_MIN_DIM) and the serial twins


@pytest.mark.parametrize("beta", [0.0, 1.3, -2.1, 9.0, 5000.0, -5000.0])
def test_blocked_sa_path_matches_numpy_reference(beta):
    rng = np.random.default_rng([SEED, 31, int(beta) % 89])
    n, d = 300, fields.BLAS_MIN_DIM + 8
    x = _sphere(rng, n, d)
    got = fields.velocity(x, model="sa", beta=beta)  # n^2 >= PARALLEL_MIN_PAIRS, d >= BLAS_MIN_DIM
    want = ref.velocity_ref(x, "sa", beta)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * max(1.0, float(np.max(np.abs(want)))))
    # the fused kernel on the same input agrees to rounding
    out = np.empty_like(x)
    logz = np.empty(n)
    g_sa.sa_velocity(x, beta, out, logz)
    np.testing.assert_allclose(got, out, rtol=0, atol=1e-13 * max(1.0, float(np.max(np.abs(want)))))


def test_blocked_sa_rows_ranges_and_logz():
    """Any block size and row split gives the same rows and log-partition functions."""
    rng = np.random.default_rng([SEED, 37])
    x = _sphere(rng, 53, 6)
    A, lz = ref.softmax_attention(x, -1.4)
    for rows, cuts in [(1, (0, 53)), (7, (0, 20, 53)), (53, (0, 53)), (100, (0, 1, 52, 53))]:
        out = np.full_like(x, np.nan)
        logz = np.full(53, np.nan)
        for a, b in zip(cuts[:-1], cuts[1:]):
            g_sa.sa_velocity_blocked(x, -1.4, out, logz, a, b, rows)
        np.testing.assert_allclose(out, ref.project(x, A), rtol=0, atol=1e-14)
        np.testing.assert_allclose(logz, lz, rtol=1e-14)


def test_blocked_sa_matches_sympy_in_mpmath():
    rng = np.random.default_rng([SEED, 41])
    n, d, beta = 4, 3, 1.7
    x = _sphere(rng, n, d)
    syms, expr = sym.velocity_matrix("sa", n, d)
    want = np.asarray(_mp_eval(sp.Matrix(expr) if isinstance(expr, list) else expr, syms,
                               {k: {"beta": beta, "x": x}[k] for k in syms}), dtype=float).reshape(x.shape)
    out = np.empty_like(x)
    logz = np.empty(n)
    g_sa.sa_velocity_blocked(x, beta, out, logz, 0, n, 3)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-14)


def test_serial_twins_are_bit_identical_to_parallel_kernels():
    rng = np.random.default_rng([SEED, 43])
    x = _sphere(rng, 37, 4)
    M = rng.standard_normal((2, 4, 4))
    mx = np.ascontiguousarray(x @ np.transpose(M, (0, 2, 1)))
    theta = rng.uniform(-np.pi, np.pi, 37)
    thetas = rng.uniform(-np.pi, np.pi, (3, 11))
    cases = [
        (g_sa, "sa_velocity", lambda: (x, -0.8, np.empty_like(x), np.empty(37))),
        (g_qkv, "qkv_velocity", lambda: (x, mx[0], mx[1], x, 1.1, np.empty_like(x), np.empty(37))),
        (g_multihead, "multihead_per_head_velocity", lambda: (x, mx, 0.9, np.empty_like(x))),
        (g_usa, "usa_velocity", lambda: (x, 2.2, np.empty_like(x))),
        (g_multihead, "multihead_shared_velocity", lambda: (x, mx, 0.9, np.empty_like(x))),
        (g_sa, "sa_energy_rows", lambda: (x, mx[0], 1.3, np.empty(37), np.empty(37))),
        (g_ngpt, "ngpt_velocity", lambda: (x, 0.6, 0.8, np.empty_like(x))),
        (g_sqrt, "sqrt_velocity", lambda: (x, 0.6, 0.7, np.empty_like(x))),
        (g_kuramoto, "kuramoto_velocity", lambda: (theta, 1.5, np.empty(37))),
        (g_kuramoto, "kuramoto_velocity_batched", lambda: (thetas, 1.5, np.empty((3, 11)))),
        (g_kuramoto, "kuramoto_energy_rows", lambda: (theta, -1.5, np.empty(37), np.empty(37))),
        (g_alibi, "causal_alibi_velocity", lambda: (theta, 1.2, 0.7, np.empty(37))),
        (g_alibi, "causal_alibi_velocity_batched", lambda: (thetas, 1.2, 0.7, np.empty((3, 11)))),
        (g_interp, "interp_velocity", lambda: (x, mx[1], x, x, 1.3, M[0], np.ascontiguousarray(M[0][:, :3]),
                                               np.ascontiguousarray(M[1][:3]), M[0, 0, :3].copy(),
                                               np.empty_like(x))),
    ]
    for mod, name, make in cases:
        par_args, ser_args = make(), make()
        getattr(mod, name)(*par_args)
        serial = getattr(mod, name + "_serial")
        assert serial.targetoptions.get("parallel") is False and serial.targetoptions.get("fastmath") is False
        serial(*ser_args)
        for a, b in zip(par_args, ser_args):
            if isinstance(a, np.ndarray) and a is not x:
                np.testing.assert_array_equal(a, b, err_msg=name)


def test_dispatch_serial_below_threshold_and_blas_threads_restored():
    from threadpoolctl import threadpool_info

    usa = _dispatch.bind(fields.MODELS["usa"])
    kern = usa.plan.get("velocity")
    assert usa.pick(kern, fields.PARALLEL_MIN_PAIRS - 1) is g_usa.usa_velocity_serial
    assert usa.pick(kern, fields.PARALLEL_MIN_PAIRS) is g_usa.usa_velocity
    kur = _dispatch.bind(fields.MODELS["kuramoto"])
    assert kur.pick(kur.plan.get("velocity_batched"), 10) is g_kuramoto.kuramoto_velocity_batched_serial

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    rng = np.random.default_rng([SEED, 47])
    fields.velocity(_sphere(rng, 260, fields.BLAS_MIN_DIM), model="sa", beta=1.0)  # the blocked path
    assert blas_threads() == before


def test_blocked_sa_path_allocates_no_square_array():
    """Traced peak memory of the blocked path is O(workers rows n + n d), far below one n x n array."""
    import tracemalloc

    import numba

    rng = np.random.default_rng([SEED, 53])
    n, d = 2048, 8
    x = _sphere(rng, n, d)
    fields.velocity(x, model="sa", beta=1.0)  # warm-up (thread pool, imports)
    tracemalloc.start()
    try:
        fields.velocity(x, model="sa", beta=1.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows = _dispatch._block_rows(n)
    workers = max(1, min(numba.get_num_threads(), n // rows))
    budget = workers * 8 * rows * n + 16 * 8 * n * d  # the workers' buffers + O(n d) copies and outputs
    assert peak <= budget < 8 * n * n // 4, (peak, budget)
