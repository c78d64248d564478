"""The benchmark entry point: this machine's limits, then every kernel against them and against
NumPy, JAX and PyTorch, measured in the same run.

One command (prints the table, writes JSON and a log-log plot)::

    .venv/bin/python bench/run.py                              # SA at n in {4096, 16384}, d in {3, 16, 64} + families
    .venv/bin/python bench/run.py --sizes 4096 16384 65536 --dims 3 --repeat 5
    .venv/bin/python bench/run.py --quick                      # n = 1024 only, 1 repeat (a smoke run)

Optional references (the ``bench`` extra: ``pip install -e ".[bench]"`` installs JAX; PyTorch's CPU
wheel is installed by hand, ``pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu``,
because a bare ``torch`` requirement may pull a multi-GB CUDA build).  Each is skipped with a message
when it is not importable.

What is measured, all on the same inputs (unit vectors from ``numpy.random.default_rng(seed)``,
``beta``), best of ``--repeat`` after one warm-up, at ``--threads`` threads (numba, BLAS, JAX's
XLA CPU client, torch):

* limits of this machine: BLAS GFLOP/s (``np.matmul`` of two 2048 x 2048 float64 matrices) and the
  throughput of the generated vectorised ``_vexp`` and of NumPy's ``exp`` on one core;
* roofline of a kernel at dimension d, in token pairs per second: a pair costs 4d flops in the two
  matrix products and one exponential, so the bound is ``1 / max(4 d / F, 1 / (T E))`` (F the BLAS
  flop rate, E the vectorised exp rate per core, T the threads);
* ``before``: the blocked BLAS path with the row maximum as shift (``<model>_velocity_blocked``, what
  the dispatch ran before the fast path); ``shifted``: the per-row a-priori-shift path
  (``<model>_velocity_shifted``, what the dispatch runs at 9 <= d < ``SYMMETRIC_MIN_DIM``, and ran at
  d = 2..8 before the rows-in-lanes kernel); ``after``:
  ``attnflow.numerics.velocity`` (the dispatch);
* the symmetric path (d >= ``SYMMETRIC_MIN_DIM``) computes each weight once for i <= j: 3d flops and
  half an exponential per pair, so ``after/roof`` may exceed 100% there (the 4d-flop roofline bounds
  the non-symmetric algorithms); ``after/roof3`` is the fraction of its own bound
  ``1 / max(3 d / F, 1 / (2 T E))``;
* NumPy: the same computation on row blocks of 1024 (Gram block -> shifted exp -> normalise ->
  matmul -> projection; memory O(1024 n));
* JAX: ``jax.jit`` of the same, float64 (``jax_enable_x64``), row blocks by ``jax.lax.map``;
* PyTorch: ``torch.nn.functional.scaled_dot_product_attention(x, x, x, scale=beta)`` float64 plus
  the projection (the fused CPU attention).

``--keyed`` (on by default; ``--only-keyed`` alone) adds Q/K/V, multi-head (shared and per head) and a
user's sigmoid Q/K/V model: the dispatch (BLAS path) against the fused kernel, NumPy on row blocks,
JAX and ``scaled_dot_product_attention`` (softmax cases), and SA per pair in the same run.

``--families`` (on by default) adds one row per model family through the public API (USA, Q/K/V,
multi-head) against its NumPy reference (``attnflow.numerics._reference``), and the rows of
``bench/fast_families.py`` (the circle models, causal ALiBi, interp: before / after, SA per pair at
the same n, blocked NumPy, JAX, PyTorch, timed back to back).

Speed numbers are only meaningful on a quiet machine: the table prints the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench/_common.py, bench/fast_families.py
from _common import load as _load  # noqa: E402


def _parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384], help="numbers of tokens n")
    ap.add_argument("--dims", type=int, nargs="+", default=[3, 16, 64], help="dimensions d")
    ap.add_argument("--beta", type=float, default=4.0, help="inverse temperature (default 4)")
    ap.add_argument("--repeat", type=int, default=3, help="timings per entry, the best is kept (default 3)")
    ap.add_argument("--threads", type=int, default=None, help="threads for every implementation (default: numba's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-families", dest="families", action="store_false", help="SA only")
    ap.add_argument("--no-keyed", dest="keyed", action="store_false",
                    help="skip the Q/K/V and multi-head rows (BLAS path vs fused kernel, NumPy, JAX, PyTorch)")
    ap.add_argument("--only-keyed", action="store_true", help="the Q/K/V and multi-head rows only")
    ap.add_argument("--family-n", type=int, default=4096, help="n of the family rows (default 4096)")
    ap.add_argument("--family-d", type=int, default=16, help="d of the family rows (default 16)")
    ap.add_argument("--quick", action="store_true", help="n = 1024, d = 3 and 16, one repeat")
    ap.add_argument("--json", default="bench_results.json", help="output JSON path (default bench_results.json)")
    ap.add_argument("--plot", default="bench_throughput.png", help="output plot path ('' for none)")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.dims, a.repeat, a.family_n = [1024], [3, 16], 1, 1024
    for name in ("repeat",):
        if getattr(a, name) < 1:
            ap.error(f"--{name} must be >= 1")
    if min(a.sizes) < 1 or min(a.dims) < 1:
        ap.error("--sizes and --dims must be positive")
    return a


def _set_threads(threads: int | None) -> int:
    import numba

    t = threads or numba.get_num_threads()
    numba.set_num_threads(t)
    os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={t}")
    return t


def _best(fn, repeat: int) -> float:
    fn()  # warm-up (compilation, caches)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# ----------------------------------------------------------------------------------------------
# limits of this machine


def machine_limits(threads: int, repeat: int) -> dict:
    import numpy as np
    from numba import njit
    from threadpoolctl import threadpool_limits

    from attnflow.numerics._generated import sa as g_sa

    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2048, 2048)), rng.standard_normal((2048, 2048))
    c = np.empty_like(a)
    with threadpool_limits(threads):
        t = _best(lambda: np.matmul(a, b, out=c), repeat)
    vexp = g_sa._vexp

    @njit(cache=False, fastmath={"contract"}, error_model="numpy")
    def vexp_loop(v, out):
        for i in range(v.shape[0]):
            out[i] = vexp(v[i])

    v = rng.uniform(-30.0, 0.0, 2**21)
    out = np.empty_like(v)
    t_vexp = _best(lambda: vexp_loop(v, out), repeat)
    with threadpool_limits(1):
        t_np = _best(lambda: np.exp(v, out=out), repeat)
    return {"blas_gflops": 2 * 2048**3 / t / 1e9, "vexp_per_core": v.size / t_vexp,
            "numpy_exp_per_core": v.size / t_np, "threads": threads}


def roofline(d: int, lim: dict) -> float:
    """Token pairs per second at most: 4 d flops in BLAS and one vectorised exp per pair."""
    return 1.0 / max(4 * d / (lim["blas_gflops"] * 1e9), 1.0 / (lim["threads"] * lim["vexp_per_core"]))


# ----------------------------------------------------------------------------------------------
# the implementations


def numpy_sa(x, beta, rows: int = 1024):
    import numpy as np

    n = x.shape[0]
    out = np.empty_like(x)
    for i0 in range(0, n, rows):
        xb = x[i0:i0 + rows]
        G = xb @ x.T
        G *= beta
        G -= G.max(axis=1, keepdims=True)
        np.exp(G, out=G)
        A = (G @ x) / G.sum(axis=1, keepdims=True)
        out[i0:i0 + rows] = A - np.sum(xb * A, axis=1, keepdims=True) * xb
    return out


def jax_sa():
    """A jit-compiled float64 SA field (row blocks of 1024 by lax.map), or None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except Exception as exc:
        print(f"JAX not importable ({type(exc).__name__}: {str(exc)[:80]})")
        return None
    jax.config.update("jax_enable_x64", True)

    def field(x, beta):
        n, d = x.shape
        rows = min(1024, n)
        nb = -(-n // rows)
        xp = jnp.concatenate([x, jnp.zeros((nb * rows - n, d), x.dtype)]).reshape(nb, rows, d)

        def block(xb):
            G = beta * (xb @ x.T)
            P = jax.nn.softmax(G, axis=1)
            A = P @ x
            return A - jnp.sum(xb * A, axis=1, keepdims=True) * xb

        return jax.lax.map(block, xp).reshape(nb * rows, d)[:n]

    f = jax.jit(field)
    return lambda x, beta: f(x, beta).block_until_ready()


def torch_sa(threads: int):
    """PyTorch's fused CPU attention in float64 plus the projection, or None without torch."""
    try:
        import torch
        import torch.nn.functional as F
    except Exception as exc:  # not installed, or a broken install (e.g. a CUDA build without its libraries)
        print(f"PyTorch not importable ({type(exc).__name__}: {str(exc)[:80]})")
        return None
    torch.set_num_threads(threads)

    def field(x, beta):
        t = torch.from_numpy(x)[None, None]
        with torch.no_grad():
            A = F.scaled_dot_product_attention(t, t, t, scale=beta)[0, 0]
            xt = t[0, 0]
            return (A - (xt * A).sum(dim=1, keepdim=True) * xt).numpy()

    return field


def roofline_symmetric(d: int, lim: dict) -> float:
    """Token pairs per second at most for the symmetric path: 3 d flops and half an exp per pair."""
    return 1.0 / max(3 * d / (lim["blas_gflops"] * 1e9), 0.5 / (lim["threads"] * lim["vexp_per_core"]))


def shifted_sa(x, beta):
    """The per-row a-priori-shift path (``sa_velocity_shifted`` on row ranges, as the dispatch runs it)."""
    import numpy as np

    from attnflow.numerics._generated import sa as g_sa
    from attnflow.numerics.fields._dispatch import _run_blocked, _shifted_rows

    out = np.empty_like(x)
    n, d = x.shape
    _run_blocked(g_sa.sa_velocity_shifted, x, (beta,), (out, np.empty(n)), _shifted_rows(n, d))
    return out


def before_sa(x, beta):
    """The blocked path with the row maximum (what the dispatch ran before the fast path)."""
    import numpy as np

    from attnflow.numerics._generated import sa as g_sa
    from attnflow.numerics.fields._dispatch import _run_blocked

    out = np.empty_like(x)
    _run_blocked(g_sa.sa_velocity_blocked, x, (beta,), (out, np.empty(x.shape[0])))
    return out


# ----------------------------------------------------------------------------------------------


def sa_rows(a, lim: dict) -> list[dict]:
    import numpy as np

    from attnflow.numerics import velocity

    jx, tc = jax_sa(), torch_sa(lim["threads"])
    if jx is None:
        print("JAX not installed: skipped (pip install -e '.[bench]')")
    if tc is None:
        print("PyTorch not installed: skipped (pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)")
    rows = []
    for d in a.dims:
        for n in a.sizes:
            rng = np.random.default_rng([a.seed, n, d])
            x = rng.standard_normal((n, d))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            impls = {"before": lambda: before_sa(x, a.beta), "shifted": lambda: shifted_sa(x, a.beta),
                     "after": lambda: velocity(x, model="sa", beta=a.beta),
                     "numpy": lambda: numpy_sa(x, a.beta)}
            if jx is not None:
                impls["jax"] = lambda: jx(x, a.beta)
            if tc is not None:
                impls["torch"] = lambda: tc(x, a.beta)
            ref = numpy_sa(x, a.beta)
            row = {"row": "sa", "model": "sa", "n": n, "d": d, "load": _load(), "roofline": roofline(d, lim),
                   "roofline_symmetric": roofline_symmetric(d, lim)}
            for name, fn in impls.items():
                t = _best(fn, a.repeat)
                row[name] = n * n / t
                row[name + "_maxerr"] = float(np.abs(np.asarray(fn()) - ref).max())
            rows.append(row)
            _print_sa(row, first=len(rows) == 1)
    return rows


def _print_sa(r: dict, first: bool) -> None:
    cols = ["before", "shifted", "after", "numpy", "jax", "torch"]
    if first:
        print(f"{'model':<14}{'n':>7}{'d':>4}  " + "".join(f"{c + ' pairs/s':>15}" for c in cols)
              + f"{'roof':>10}{'after/roof':>11}{'after/roof3':>12}{'vs before':>10}{'vs shifted':>11}{'vs NumPy':>9}"
              + f"{'vs JAX':>8}{'vs torch':>9}{'load':>6}")
    after = r["after"]
    ratio = lambda k: f"{after / r[k]:.2f}x" if k in r else "-"  # noqa: E731
    roof3 = f"{after / r['roofline_symmetric']:.0%}" if "roofline_symmetric" in r else "-"
    print(f"{r['model']:<14}{r['n']:>7}{r['d']:>4}  " + "".join(f"{r[c]:>15.3e}" if c in r else f"{'-':>15}" for c in cols)
          + f"{r['roofline']:>10.2e}{after / r['roofline']:>11.0%}{roof3:>12}{ratio('before'):>10}{ratio('shifted'):>11}"
          + f"{ratio('numpy'):>9}{ratio('jax'):>8}{ratio('torch'):>9}{r['load']:>6}", flush=True)


#: One row per family: (model, parameters(d, rng) -> dict, circle?)
def _families():
    import numpy as np

    def mats(*names, heads=None):
        def build(d, rng):
            p = {}
            for nm in names:
                shape = (d, d) if heads is None else (heads, d, d)
                p[nm] = rng.standard_normal(shape) / np.sqrt(d)
            return p
        return build

    return [("sa", mats(), False), ("usa", mats(), False), ("sqrt", mats(), False), ("ngpt", lambda d, r: {"alpha": 0.5}, False),
            ("qkv", mats("Q", "K", "V"), False), ("multihead", mats("M", heads=2), False)]  # the circle models, causal ALiBi and interp: bench/fast_families.py


def family_rows(a, lim: dict) -> list[dict]:
    import numpy as np

    from attnflow.numerics import _reference as reference
    from attnflow.numerics import velocity
    from attnflow.numerics.fields import MODELS

    rows = []
    n, d = a.family_n, a.family_d
    print(f"\nfamilies at n = {n}, d = {d} (circle models: n angles), pairs/s through attnflow.numerics.velocity "
          "and the NumPy reference (n x n)")
    for model, build, circle in _families():
        if model not in MODELS:
            print(f"{model}: not registered, skipped")
            continue
        rng = np.random.default_rng([a.seed, 7, n])
        try:
            p = build(d, rng)
            if circle:
                x = rng.uniform(-np.pi, np.pi, n)
            else:
                x = rng.standard_normal((n, d))
                x /= np.linalg.norm(x, axis=1, keepdims=True)
            t_after = _best(lambda: velocity(x, model=model, beta=a.beta, **p), a.repeat)
            t_np = _best(lambda: reference.velocity_ref(x, model, a.beta, **p), max(1, a.repeat - 1))
            err = float(np.abs(velocity(x, model=model, beta=a.beta, **p) - reference.velocity_ref(x, model, a.beta, **p)).max())
        except Exception as exc:  # a family whose parameters this script does not know: say so, go on
            print(f"{model}: skipped ({type(exc).__name__}: {exc})")
            continue
        row = {"row": "family", "model": model, "n": n, "d": 1 if circle else d, "after": n * n / t_after, "numpy": n * n / t_np,
               "maxerr_vs_numpy": err, "load": _load()}
        row["roofline"] = roofline(row["d"], lim)
        sa_row = next((r for r in rows if r["model"] == "sa"), row)
        print(f"{model:<14}{row['after']:>12.3e} pairs/s   NumPy {row['numpy']:>10.3e}   x{row['after'] / row['numpy']:.2f}"
              f"   of roofline {row['after'] / row['roofline']:>4.0%}   per pair vs SA x{row['after'] / sa_row['after']:.2f}"
              f"   max|diff| {err:.1e}   load {row['load']}", flush=True)
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------
# Q/K/V and multi-head: the BLAS path against the fused kernel, NumPy, JAX and PyTorch


def _keyed_numpy(x, beta, q, keys, values, weight=None, norm="softmax", rows: int = 1024):
    """NumPy on row blocks: scores ``q_blk keys[h]^T`` per head, the shifted softmax (or ``weight``,
    mean normalisation; ``norm = 'shared'``: e^l / n unnormalised), weighted values summed over heads,
    tangent projection.  Memory O(rows n)."""
    import numpy as np

    n = x.shape[0]
    out = np.empty_like(x)
    for i0 in range(0, n, rows):
        xb = x[i0:i0 + rows]
        A = 0.0
        for k, v in zip(keys, values):
            G = q[i0:i0 + rows] @ k.T
            if weight is not None:
                A = A + weight(beta * G) @ v / n
            elif norm == "shared":
                A = A + np.exp(beta * G) @ v / n
            else:
                G *= beta
                G -= G.max(axis=1, keepdims=True)
                np.exp(G, out=G)
                A = A + (G @ v) / G.sum(axis=1, keepdims=True)
        out[i0:i0 + rows] = A - np.sum(xb * A, axis=1, keepdims=True) * xb
    return out


def _keyed_jax():
    """jit-compiled float64 Q/K/V softmax attention summed over heads (row blocks by lax.map), or None."""
    try:
        import jax
        import jax.numpy as jnp
    except Exception:
        return None
    jax.config.update("jax_enable_x64", True)

    def field(x, q, keys, values, beta):
        n, d = x.shape
        rows = min(1024, n)
        nb = -(-n // rows)
        pad = lambda a: jnp.concatenate([a, jnp.zeros((nb * rows - n, a.shape[1]), a.dtype)]).reshape(nb, rows, -1)  # noqa: E731

        def block(b):
            xb, qb = b
            A = sum(jax.nn.softmax(beta * (qb @ k.T), axis=1) @ v for k, v in zip(keys, values))
            return A - jnp.sum(xb * A, axis=1, keepdims=True) * xb

        return jax.lax.map(block, (pad(x), pad(q))).reshape(nb * rows, d)[:n]

    f = jax.jit(field)
    return lambda *a: f(*a).block_until_ready()


def _keyed_torch(threads: int):
    """``scaled_dot_product_attention`` (float64) with the heads as its head axis, summed, projected; or None."""
    try:
        import torch
        import torch.nn.functional as F
    except Exception:
        return None
    torch.set_num_threads(threads)

    def field(x, q, keys, values, beta):
        import numpy as np

        H = len(keys)
        tq = torch.from_numpy(np.stack([q] * H))[None]
        tk = torch.from_numpy(np.ascontiguousarray(np.stack(keys)))[None]
        tv = torch.from_numpy(np.ascontiguousarray(np.stack(values)))[None]
        with torch.no_grad():
            A = F.scaled_dot_product_attention(tq, tk, tv, scale=beta)[0].sum(dim=0)
            xt = torch.from_numpy(x)
            return (A - (xt * A).sum(dim=1, keepdim=True) * xt).numpy()

    return field


def keyed_rows(a, lim: dict) -> list[dict]:
    """Q/K/V (``qkv``), multi-head (``multihead``, H = 2, shared and per-head) and a user's sigmoid Q/K/V
    model (tests/data/user_models.py) at n = ``--family-n``, d = ``--family-d``: ``after`` the dispatch
    (the BLAS path ``<kernel>_velocity_blas``), ``before`` the fused kernel (``KEYED_BLAS_PATH`` off),
    NumPy on row blocks, JAX and PyTorch where the operation is softmax attention, and SA in the same
    run (``per pair vs SA``: pairs counted as n^2 per call; a multi-head call evaluates H n^2 pairs)."""
    from pathlib import Path

    import numpy as np
    from scipy.special import expit

    from attnflow.models import load
    from attnflow.numerics import velocity
    from attnflow.numerics.fields import _dispatch

    n, d, beta = a.family_n, a.family_d, a.beta
    rng = np.random.default_rng([a.seed, 11, n, d])
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    Q, K, V = rng.standard_normal((3, d, d)) / np.sqrt(d)
    M = rng.standard_normal((2, d, d)) / np.sqrt(d)
    qx, kx, vx = x @ Q.T, x @ K.T, x @ V.T
    mx = [x @ Mh.T for Mh in M]
    user = {m.name: m for m in load(Path(__file__).resolve().parents[1] / "tests" / "data" / "user_models.py",
                                    replace=True)}
    jx, tc = _keyed_jax(), _keyed_torch(lim["threads"])
    cases = [
        ("qkv", dict(model="qkv", Q=Q, K=K, V=V), (x, qx, [kx], [vx]), None, "softmax"),
        ("multihead shared", dict(model="multihead", M=M, normalization="shared"), (x, x, mx, mx), None, "shared"),
        ("multihead per_head", dict(model="multihead", M=M, normalization="per_head"), (x, x, mx, mx), None, "softmax"),
        ("sigmoid_qkv (user)", dict(model=user["sigmoid_qkv"], Q=Q, K=K, V=V), (x, qx, [kx], [vx]), expit, "mean"),
    ]
    t_sa = _best(lambda: velocity(x, model="sa", beta=beta), a.repeat)
    print(f"\nQ/K/V and multi-head at n = {n}, d = {d} (H = 2), pairs/s = n^2 / time; SA {n * n / t_sa:.3e} pairs/s "
          f"in the same run, load {_load()}")
    cols = ["before", "after", "numpy", "jax", "torch"]
    print(f"{'model':<20}" + "".join(f"{c:>11}" for c in cols)
          + f"{'vs before':>10}{'vs NumPy':>9}{'vs JAX':>8}{'vs torch':>9}{'vs SA':>7}{'max|diff|':>10}{'load':>6}")
    rows = []
    for label, kw, (xx, q, keys, values), weight, norm in cases:
        kw = dict(kw, beta=beta)
        impls = {}
        for flag, name in ((False, "before"), (True, "after")):
            def run(flag=flag):
                old = _dispatch.KEYED_BLAS_PATH
                _dispatch.KEYED_BLAS_PATH = flag
                try:
                    return velocity(x, **kw)
                finally:
                    _dispatch.KEYED_BLAS_PATH = old
            impls[name] = run
        impls["numpy"] = lambda: _keyed_numpy(xx, beta, q, keys, values, weight, norm)
        if norm == "softmax" and jx is not None:
            impls["jax"] = lambda: jx(xx, q, keys, values, beta)
        if norm == "softmax" and tc is not None:
            impls["torch"] = lambda: tc(xx, q, keys, values, beta)
        want = impls["numpy"]()
        row = {"row": "keyed", "model": label, "n": n, "d": d, "load": _load(), "sa": n * n / t_sa,
               "roofline": roofline(d, lim)}
        for name, fn in impls.items():
            row[name] = n * n / _best(fn, a.repeat)
            row[name + "_maxerr"] = float(np.abs(np.asarray(fn()) - want).max())
        r = lambda k: f"{row['after'] / row[k]:.2f}x" if k in row else "-"  # noqa: E731
        print(f"{label:<20}" + "".join(f"{row[c]:>11.3e}" if c in row else f"{'-':>11}" for c in cols)
              + f"{r('before'):>10}{r('numpy'):>9}{r('jax'):>8}{r('torch'):>9}{r('sa'):>7}"
              + f"{row['after_maxerr']:>10.1e}{row['load']:>6}", flush=True)
        rows.append(row)
    return rows


def plot(rows: list[dict], lim: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    dims = sorted({r["d"] for r in rows if r["row"] == "sa"})
    colors = dict(zip(dims, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    styles = {"after": "-o", "before": "--s", "numpy": ":^", "jax": "-.v", "torch": "-.x"}
    for d in dims:
        rs = sorted((r for r in rows if r["row"] == "sa" and r["d"] == d), key=lambda r: r["n"])
        ns = [r["n"] for r in rs]
        for impl, st in styles.items():
            if all(impl in r for r in rs):
                ax.plot(ns, [r[impl] for r in rs], st, color=colors[d], label=f"{impl} d={d}", alpha=1 if impl == "after" else 0.6)
        ax.axhline(roofline(d, lim), color=colors[d], lw=0.8, ls=(0, (1, 3)))
        ax.annotate(f"roofline d={d}", (ns[0], roofline(d, lim)), fontsize=7, color=colors[d], va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tokens n")
    ax.set_ylabel("token pairs per second")
    ax.set_title(f"SA velocity, beta = {rows[0].get('beta', '')}; BLAS {lim['blas_gflops']:.0f} GFLOP/s, "
                 f"{lim['threads']} threads", fontsize=9)
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


def main(argv=None) -> int:
    a = _parse(argv)
    threads = _set_threads(a.threads)
    import numpy as np
    from threadpoolctl import threadpool_limits

    print(f"attnflow bench: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, threads {threads}, "
          f"beta {a.beta}, best of {a.repeat}; 1-min load {_load()} (numbers are only indicative on a loaded machine)")
    lim = machine_limits(threads, a.repeat)
    print(f"limits: BLAS {lim['blas_gflops']:.1f} GFLOP/s ({threads} threads); exp per core: vectorised _vexp "
          f"{lim['vexp_per_core']:.3e}/s, NumPy {lim['numpy_exp_per_core']:.3e}/s\n")
    with threadpool_limits(threads):
        rows = [] if a.only_keyed else sa_rows(a, lim)
        if a.only_keyed:
            a.families = False
        if a.families:
            rows += family_rows(a, lim)
            import fast_families  # bench/fast_families.py: the circle models, causal ALiBi, interp

            rows += fast_families.rows(a.family_n, a.family_d, a.beta, a.repeat, threads, a.seed)
        if a.keyed:
            rows += keyed_rows(a, lim)
    for r in rows:
        r["beta"] = a.beta
    doc = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
                       "numpy": np.__version__}, "limits": lim, "args": vars(a), "rows": rows}
    with open(a.json, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"\nJSON: {a.json}")
    if a.plot:
        plot(rows, lim, a.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
