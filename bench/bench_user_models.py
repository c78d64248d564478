"""Benchmark: the generated kernel of a user's model vs a NumPy evaluation of the same declaration.

Run by hand (not part of the tests)::

    .venv/bin/python bench/bench_user_models.py                           # tests/data/user_models.py
    .venv/bin/python bench/bench_user_models.py --models my_models.py --sizes 1024 4096 --dims 3 16

Loading a models file runs it (it is your own Python code, like a pytest ``conftest.py``).

For every sphere model of the file with the default output map (the tangent projection) both
routes run in the same process on the same points and parameters, interleaved, best of
``--repeat`` after one warm-up:

* attnflow: ``attnflow.numerics.velocity(x, model=name, beta=beta, **params)`` (the kernel generated
  from the declaration, dispatched by size);
* NumPy: the declaration's weight :math:`w(s)` lambdified to NumPy and applied to the full score
  matrix :math:`S = (Qx)(Kx)^\\top` (identity where no matrix is declared), then
  :math:`A_i = N_i^{-1}\\sum_j w(S_{ij}) Vx_j` with :math:`N_i = \\sum_j w` (softmax) or :math:`n` (mean),
  and the projection :math:`A_i - \\langle x_i, A_i\\rangle x_i` -- an n x n array, as a NumPy user
  would write it.

Both results are compared (max relative difference printed) before any timing.  The machine is
shared: the table prints the 1-minute load average next to every row.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]


def numpy_route(decl, beta: float, params: dict):
    """A NumPy evaluation of a sphere declaration with the tangent-projection output."""
    from attnflow.models import XA, A, X, beta as B, s as S

    if decl.manifold != "sphere" or sp.expand(decl.output - (A - XA * X)) != 0 or decl.heads or decl.perceptron \
            or decl.readout:
        return None
    reals = decl.real_params
    wfun = sp.lambdify([S, B, *[p.sym() for p in reals]], decl.weight, "numpy")
    rvals = [float(params.get(p.name, p.default)) for p in reals]
    mode = decl.normalization_for(params)
    Q = params.get(decl.query) if decl.query else None
    K = params.get(decl.key) if decl.key else None
    V = params.get(decl.value) if decl.value else None

    def field(x):
        q = x @ Q.T if Q is not None else x
        k = x @ K.T if K is not None else x
        v = x @ V.T if V is not None else x
        W = wfun(q @ k.T, beta, *rvals)
        A = W @ v
        A /= W.sum(axis=1, keepdims=True) if mode == "softmax" else len(x)
        return A - np.sum(A * x, axis=1, keepdims=True) * x

    return field


def _best(fn, repeat: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=str(ROOT / "tests" / "data" / "user_models.py"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--dims", type=int, nargs="+", default=[3, 16])
    ap.add_argument("--beta", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from attnflow.models import load
    from attnflow.numerics import random_sphere, velocity

    models = load(args.models)
    print(f"{'model':14s} {'n':>6s} {'d':>4s} {'attnflow s':>11s} {'NumPy s':>10s} {'speed-up':>9s} "
          f"{'max rel diff':>12s}  load")
    for decl in models:
        for d in args.dims:
            params = decl.draw_params(d, args.seed, symmetric=True) if decl.draw_params else {}
            route = numpy_route(decl, args.beta, params)
            if route is None:
                print(f"{decl.name:14s} skipped: not a sphere model with the tangent-projection output")
                break
            for n in args.sizes:
                x = random_sphere(n, d, seed=args.seed)
                ours = velocity(x, model=decl.name, beta=args.beta, **params)
                ref = route(x)
                diff = float(np.max(np.abs(ours - ref)) / max(1e-300, np.max(np.abs(ref))))
                t_ours = _best(lambda: velocity(x, model=decl.name, beta=args.beta, **params), args.repeat)
                t_np = _best(lambda: route(x), args.repeat)
                print(f"{decl.name:14s} {n:6d} {d:4d} {t_ours:11.4f} {t_np:10.4f} {t_np / t_ours:8.2f}x "
                      f"{diff:12.2e}  {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
