"""Benchmark rows of the circle models, causal ALiBi and interp against NumPy, JAX and PyTorch.

Called by ``bench/run.py`` (``--families``, on by default); alone::

    .venv/bin/python bench/fast_families.py --n 4096 --d 16 --repeat 5

One row per model (``kuramoto``, ``kuramoto_rescaled``, ``causal_alibi``, ``interp``,
``interp_attention``), all on the same inputs, best of ``--repeat`` with the implementations timed
back to back in each repetition (a load change hits all of them alike):

* ``after``: ``attnflow.numerics.velocity`` (the dispatch: the a-priori-shift kernels for beta >= 0);
* ``before``: the exact kernels the dispatch ran before them (``<model>_velocity``: the running
  maximum, scalar libm ``exp``; interp with ``fields._dispatch.SHIFTED_PATH = False``);
* ``sa``: SA (``velocity(model="sa")``) at the same n and the model's natural dimension (d = 2 for
  the circle models, their plane embedding u = (cos, sin); ``--d`` for interp), in the same
  repetitions; ``per pair vs SA`` = (after pairs/s) / (SA pairs/s);
* ``numpy``: the same field in row blocks of 1024 (Gram blocks of the embedding, one ``exp`` per
  pair, memory O(1024 n));
* ``jax``: ``jax.jit`` of the same, float64, row blocks by ``jax.lax.map``;
* ``torch``: PyTorch's fused CPU attention in float64.  The circle fields are not softmax-normalised
  (kuramoto: 1/n; causal ALiBi: by the position weights only), so they need the log partition
  function too: ``torch.ops.aten._scaled_dot_product_flash_attention_for_cpu`` returns it (output and
  logsumexp); causal ALiBi passes the bias -lam (i - j)/N and the causal mask as ``attn_mask``
  (an n x n float64 matrix built once, outside the timing).  interp: ``scaled_dot_product_attention``
  with the queries B x_i, then the read-out, perceptron and projection.

Pairs are counted as the model defines them: n^2 for the full models, n (n - 1) / 2 for causal
ALiBi (token j attends to k < j) -- for every implementation, including those that compute masked
full blocks.  ``maxerr`` is max |F - F_numpy| / max |F_numpy| against the blocked NumPy route.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _common import load as _load  # bench/_common.py (the script's folder is on sys.path)

MODELS = ("kuramoto", "kuramoto_rescaled", "causal_alibi", "interp", "interp_attention")
LAM = 0.3
ROWS = 1024


def _interleaved(impls: dict, repeat: int) -> dict:
    """Best time of each implementation, all timed once per repetition, back to back."""
    for fn in impls.values():
        fn()  # warm-up: compilation, caches
    best = {k: float("inf") for k in impls}
    for _ in range(repeat):
        for k, fn in impls.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def _decl(model: str):
    if model == "interp_attention":  # an auxiliary declaration, not registered
        from attnflow.symbolic.models.builtin.interp import interp_attention

        return interp_attention
    return model


# ----------------------------------------------------------------------------------------------
# NumPy


def _circle_factor(model: str, beta: float, n: int, lam: float):
    """Row factor F_i of sum_j e^{L_ij - M} sin(theta_j - theta_i) with the shift M of the model."""
    if model == "kuramoto":
        return np.full(n, np.exp(beta) / n)
    if model == "kuramoto_rescaled":
        return np.full(n, 1.0 / n)
    g = np.arange(1, n, dtype=float)
    z = np.concatenate([[np.inf], np.cumsum(np.exp(-lam * g / n))])  # row 0 attends to nothing
    return beta * np.exp(beta) / z


def numpy_circle(model: str, theta, beta: float, lam: float = LAM):
    n = theta.shape[0]
    e = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    ep = np.stack([-np.sin(theta), np.cos(theta)], axis=1)  # <u_i^perp, u_j> = sin(theta_j - theta_i)
    f = _circle_factor(model, beta, n, lam)
    out = np.empty(n)
    j = np.arange(n)
    for i0 in range(0, n, ROWS):
        G = e[i0:i0 + ROWS] @ e.T
        S = ep[i0:i0 + ROWS] @ e.T
        G -= 1.0
        G *= beta  # e^{beta (s - 1)}: the self logit as shift
        if model == "causal_alibi":
            gap = np.arange(i0, i0 + G.shape[0])[:, None] - j[None, :]
            G -= lam * gap / n
            G[gap <= 0] = -np.inf
        np.exp(G, out=G)
        out[i0:i0 + ROWS] = np.einsum("ij,ij->i", G, S) * f[i0:i0 + ROWS]
    return out


def numpy_interp(model: str, x, beta: float, p: dict):
    n, d = x.shape
    qx = x @ p["B"].T
    A = np.empty_like(x)
    for i0 in range(0, n, ROWS):
        G = beta * (qx[i0:i0 + ROWS] @ x.T)
        G -= G.max(axis=1, keepdims=True)
        np.exp(G, out=G)
        A[i0:i0 + ROWS] = (G @ x) / G.sum(axis=1, keepdims=True)
    if model == "interp_attention":
        return A
    y = A @ p["V"].T + np.maximum(x @ p["U"].T + p["b"], 0.0) @ p["W"].T
    return y - np.sum(x * y, axis=1, keepdims=True) * x


# ----------------------------------------------------------------------------------------------
# JAX


def jax_impls():
    """``{model: f(inputs, beta) -> array}`` jit-compiled float64, or None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except Exception as exc:
        print(f"JAX not importable ({type(exc).__name__}: {str(exc)[:80]})")
        return None
    jax.config.update("jax_enable_x64", True)

    def blocks(a, rows):
        n = a.shape[0]
        nb = -(-n // rows)
        pad = jnp.zeros((nb * rows - n, *a.shape[1:]), a.dtype)
        return jnp.concatenate([a, pad]).reshape(nb, rows, *a.shape[1:]), nb

    def circle(model):
        def field(theta, beta, f):
            n = theta.shape[0]
            rows = min(ROWS, n)
            e = jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=1)
            ep = jnp.stack([-jnp.sin(theta), jnp.cos(theta)], axis=1)
            eb, nb = blocks(e, rows)
            epb, _ = blocks(ep, rows)
            idx, _ = blocks(jnp.arange(n), rows)
            j = jnp.arange(n)

            def block(args):
                ub, upb, ib = args
                G = beta * (ub @ e.T - 1.0)
                if model == "causal_alibi":
                    gap = ib[:, None] - j[None, :]
                    G = jnp.where(gap > 0, G - LAM * gap / n, -jnp.inf)
                return jnp.sum(jnp.exp(G) * (upb @ e.T), axis=1)

            return jax.lax.map(block, (eb, epb, idx)).reshape(nb * rows)[:n] * f

        return field

    def interp(model):
        def field(x, qx, beta, V=None, W=None, U=None, b=None):
            n, d = x.shape
            rows = min(ROWS, n)
            qb, nb = blocks(qx, rows)
            A = jax.lax.map(lambda q: jax.nn.softmax(beta * (q @ x.T), axis=1) @ x, qb).reshape(nb * rows, d)[:n]
            if model == "interp_attention":
                return A
            y = A @ V.T + jnp.maximum(x @ U.T + b, 0.0) @ W.T
            return y - jnp.sum(x * y, axis=1, keepdims=True) * x

        return field

    out = {}
    for m in MODELS:
        f = jax.jit(circle(m) if m in ("kuramoto", "kuramoto_rescaled", "causal_alibi") else interp(m))
        out[m] = lambda *args, f=f: np.asarray(f(*args).block_until_ready())
    return out


# ----------------------------------------------------------------------------------------------
# PyTorch


def torch_impls(threads: int):
    """``{model: builder(inputs) -> f()}`` with PyTorch's fused CPU attention (float64), or None."""
    try:
        import torch
        import torch.nn.functional as F
    except Exception as exc:
        print(f"PyTorch not importable ({type(exc).__name__}: {str(exc)[:80]})")
        return None
    torch.set_num_threads(threads)
    flash = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu

    def circle(model, theta, beta, lam=LAM):
        n = theta.shape[0]
        u = torch.from_numpy(np.stack([np.cos(theta), np.sin(theta)], axis=1))
        up = torch.from_numpy(np.stack([-np.sin(theta), np.cos(theta)], axis=1))
        f = torch.from_numpy(_circle_factor(model, beta, n, lam))
        mask = None
        if model == "causal_alibi":  # the ALiBi bias on k < j, -inf elsewhere (built once)
            gap = torch.arange(n, dtype=torch.float64)[:, None] - torch.arange(n, dtype=torch.float64)[None, :]
            mask = torch.where(gap > 0, -lam * gap / n, torch.tensor(-torch.inf, dtype=torch.float64))
        q = u[None, None]

        def run():
            with torch.no_grad():
                A, lse = flash(q, q, q, 0.0, False, attn_mask=mask, scale=beta)
                # sum_j e^{beta (s_ij - 1) + bias_ij} sin(theta_j - theta_i) = e^{lse_i - beta} <A_i, u_i^perp>
                v = (A[0, 0] * up).sum(dim=1) * torch.exp(lse[0, 0] - beta) * f
                if model == "causal_alibi":
                    v[0] = 0.0
                return v.numpy()

        return run

    def interp(model, x, beta, p):
        xt = torch.from_numpy(x)
        qt = torch.from_numpy(x @ p["B"].T)
        V, W, U, b = (torch.from_numpy(np.asarray(p[k])) if k in p else None for k in ("V", "W", "U", "b"))

        def run():
            with torch.no_grad():
                A = F.scaled_dot_product_attention(qt[None, None], xt[None, None], xt[None, None], scale=beta)[0, 0]
                if model == "interp_attention":
                    return A.numpy()
                y = A @ V.T + torch.relu(xt @ U.T + b) @ W.T
                return (y - (xt * y).sum(dim=1, keepdim=True) * xt).numpy()

        return run

    return {"circle": circle, "interp": interp}


# ----------------------------------------------------------------------------------------------


def _before(model: str, decl, inputs, beta: float, p: dict):
    from attnflow.numerics.fields import _dispatch

    if model in ("kuramoto", "kuramoto_rescaled", "causal_alibi"):
        import importlib

        mod = importlib.import_module(f"attnflow.numerics._generated.{model}")
        fn = getattr(mod, f"{model}_velocity")
        args = (LAM,) if model == "causal_alibi" else ()
        out = np.empty_like(inputs)

        def run():
            fn(inputs, beta, *args, out)
            return out

        return run

    from attnflow.numerics import velocity

    def run():
        _dispatch.SHIFTED_PATH = False
        try:
            return velocity(inputs, model=decl, beta=beta, **p)
        finally:
            _dispatch.SHIFTED_PATH = True

    return run


def rows(n: int, d: int, beta: float, repeat: int, threads: int, seed: int = 0, models=MODELS) -> list[dict]:
    from attnflow.numerics import velocity

    jx, tc = jax_impls(), torch_impls(threads)
    out = []
    print(f"\ncircle / causal / interp at n = {n} (interp d = {d}, circle models vs SA at d = 2), beta = {beta}; "
          "pairs/s, best of {repeat} timed back to back".format(repeat=repeat))
    head = ["after", "before", "sa", "numpy", "jax", "torch"]
    print(f"{'model':<18}{'pairs':>10}" + "".join(f"{h:>11}" for h in head)
          + f"{'vs SA':>7}{'vs before':>10}{'vs NumPy':>9}{'vs JAX':>8}{'vs torch':>9}{'maxerr':>9}{'load':>6}")
    for model in models:
        rng = np.random.default_rng([seed, 11, n])
        decl = _decl(model)
        circle = model in ("kuramoto", "kuramoto_rescaled", "causal_alibi")
        if circle:
            dd = 2
            inputs = rng.uniform(-np.pi, np.pi, n)
            p = {"lam": LAM} if model == "causal_alibi" else {}
            pairs = n * (n - 1) / 2 if model == "causal_alibi" else float(n * n)
            ref = lambda: numpy_circle(model, inputs, beta)  # noqa: E731
        else:
            dd = d
            inputs = rng.standard_normal((n, d))
            inputs /= np.linalg.norm(inputs, axis=1, keepdims=True)
            p = {k: rng.standard_normal((d, d)) / np.sqrt(d) for k in ("V", "B", "W", "U")}
            p["b"] = rng.standard_normal(d)
            if model == "interp_attention":
                p = {"B": p["B"]}
            pairs = float(n * n)
            ref = lambda: numpy_interp(model, inputs, beta, p)  # noqa: E731
        xs = rng.standard_normal((n, dd))
        xs /= np.linalg.norm(xs, axis=1, keepdims=True)
        impls = {"after": lambda: velocity(inputs, model=decl, beta=beta, **p),
                 "before": _before(model, decl, inputs, beta, p),
                 "sa": lambda: velocity(xs, model="sa", beta=beta), "numpy": ref}
        if jx is not None:
            if circle:
                f = _circle_factor(model, beta, n, LAM)
                impls["jax"] = lambda f=f: jx[model](inputs, beta, f)
            else:
                qx = inputs @ p["B"].T
                mats = () if model == "interp_attention" else (p["V"], p["W"], p["U"], p["b"])
                impls["jax"] = lambda qx=qx, mats=mats: jx[model](inputs, qx, beta, *mats)
        if tc is not None:
            impls["torch"] = tc["circle"](model, inputs, beta) if circle else tc["interp"](model, inputs, beta, p)
        want = ref()
        scale = max(float(np.abs(want).max()), 1e-300)
        errs = {k: float(np.abs(np.asarray(fn()) - want).max()) / scale for k, fn in impls.items() if k != "sa"}
        t = _interleaved(impls, repeat)
        row = {"row": "family_fast", "model": model, "n": n, "d": dd, "pairs": pairs, "beta": beta, "load": _load()}
        for k, tk in t.items():
            row[k] = (n * n if k == "sa" else pairs) / tk
            if k in errs:
                row[k + "_maxerr"] = errs[k]
        ratio = lambda k: f"{row['after'] / row[k]:.2f}x" if k in row else "-"  # noqa: E731
        print(f"{model:<18}{pairs:>10.3g}" + "".join(f"{row[h]:>11.3e}" if h in row else f"{'-':>11}" for h in head)
              + f"{row['after'] / row['sa']:>7.2f}{ratio('before'):>10}{ratio('numpy'):>9}{ratio('jax'):>8}"
              + f"{ratio('torch'):>9}{errs['after']:>9.1e}{row['load']:>6}", flush=True)
        out.append(row)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--d", type=int, default=16, help="d of the interp rows (default 16)")
    ap.add_argument("--beta", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    a = ap.parse_args(argv)
    import numba
    from threadpoolctl import threadpool_limits

    threads = a.threads or numba.get_num_threads()
    numba.set_num_threads(threads)
    with threadpool_limits(threads):
        rows(a.n, a.d, a.beta, a.repeat, threads, models=a.models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
