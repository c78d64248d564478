"""Benchmark: the symmetric rows-in-lanes path against the per-row rows-in-lanes kernel and JAX, in one run.

Run by hand (never asserted in tests)::

    .venv/bin/python bench/bench_lanes_symmetric.py
    .venv/bin/python bench/bench_lanes_symmetric.py --cases 3:4096 3:16384 3:65536 --repeat 5
    .venv/bin/python bench/bench_lanes_symmetric.py --cases 3:256 3:512 3:1024 3:2048 --no-jax   # crossover

For every case ``d:n`` (unit tokens, seeded, beta = 4) the SA field through the public
``attnflow.numerics.velocity`` on numba's threads:

* ``per-row``: the rows-in-lanes kernels ``_sa_velocity_lanes_d<d>`` (``LANES_SYMMETRIC_PATH = False``),
  what the dispatch ran before;
* ``symmetric``: ``_sa_velocity_lanes_symmetric`` (forced at every n: ``LANES_SYMMETRIC_MIN_N = 0``);
* ``jax``: ``jax.jit`` of the float64 SA field of ``bench/run.py`` (``jax_sa``), timed in a subprocess
  of ``--jax-python`` (this interpreter if it imports JAX, else ``/work/main/.venv/bin/python`` where
  that exists) on the same tokens, after the two others, so nothing runs concurrently.

``--cpu``: one numba thread and process CPU time instead (no JAX): the work per core-second, steadier than
wall time when other processes share the cores.

The two numba paths are timed alternately, ``--repeat`` rounds, best of each (wall time, token pairs
n^2 per second); the 1-minute load average is printed with every row.  Ratios within a row are the
meaningful numbers on a shared machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_JAX_CHILD = r"""
import importlib.util, sys, time
import numpy as np
spec = importlib.util.spec_from_file_location("bench_run", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
f = mod.jax_sa()
d, n, repeat = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.random.default_rng([n, d]).standard_normal((n, d))
x /= np.linalg.norm(x, axis=1, keepdims=True)
f(x, 4.0)
best = min((lambda t0: (f(x, 4.0), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(repeat))
print(best)
"""

from _common import load  # noqa: E402  (bench/_common.py; the script's folder is on sys.path)


def tokens(d: int, n: int) -> np.ndarray:
    x = np.random.default_rng([n, d]).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def jax_python(arg: str | None) -> str | None:
    if arg:
        return arg
    try:
        import jax  # noqa: F401

        return sys.executable
    except ImportError:
        main = "/work/main/.venv/bin/python"
        return main if shutil.which(main) else None


def jax_time(python: str, d: int, n: int, repeat: int) -> float | None:
    try:
        res = subprocess.run([python, "-c", _JAX_CHILD, str(ROOT / "bench" / "run.py"), str(d), str(n), str(repeat)],
                             capture_output=True, text=True, timeout=1800, check=True)
        return float(res.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as exc:
        print(f"  JAX timing failed: {type(exc).__name__}", flush=True)
        return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", default=["2:4096", "2:16384", "3:4096", "3:16384", "3:65536", "8:4096", "8:16384"],
                   help="d:n pairs")
    p.add_argument("--repeat", type=int, default=3, help="rounds (the best of each path is kept)")
    p.add_argument("--no-jax", dest="jax", action="store_false")
    p.add_argument("--jax-python", default=None, help="interpreter that imports JAX")
    p.add_argument("--cpu", action="store_true", help="one numba thread, process CPU time, no JAX")
    args = p.parse_args()

    import numba

    from attnflow.numerics import velocity
    from attnflow.numerics.fields import _dispatch

    if args.cpu:
        numba.set_num_threads(1)
    clock = time.process_time if args.cpu else time.perf_counter
    jpy = jax_python(args.jax_python) if args.jax and not args.cpu else None
    print(f"{'CPU time' if args.cpu else 'wall time'}, numba threads {numba.get_num_threads()}, JAX from {jpy or '-'}, load {load()}")
    print(f"{'d':>3}{'n':>7}{'per-row pairs/s':>17}{'symmetric':>12}{'jax':>11}{'sym/per-row':>13}{'sym/jax':>9}"
          f"{'per-row/jax':>13}{'maxdiff':>9}{'load':>6}", flush=True)
    for case in args.cases:
        d, n = map(int, case.split(":"))
        x = tokens(d, n)
        rounds = max(1, args.repeat if n <= 16384 else min(args.repeat, 2))
        best = {}
        outs = {}
        old = (_dispatch.LANES_SYMMETRIC_PATH, _dispatch.LANES_SYMMETRIC_MIN_N)
        try:
            for r in range(rounds + 1):  # round 0: warm-up
                for name, on in (("per-row", False), ("symmetric", True)):
                    _dispatch.LANES_SYMMETRIC_PATH, _dispatch.LANES_SYMMETRIC_MIN_N = on, 0
                    t0 = clock()
                    outs[name] = velocity(x, model="sa", beta=4.0)
                    t = clock() - t0
                    if r:
                        best[name] = min(best.get(name, np.inf), t)
        finally:
            _dispatch.LANES_SYMMETRIC_PATH, _dispatch.LANES_SYMMETRIC_MIN_N = old
        tj = jax_time(jpy, d, n, rounds) if jpy else None
        pr, sy = n * n / best["per-row"], n * n / best["symmetric"]
        jx = n * n / tj if tj else float("nan")
        diff = float(np.abs(outs["per-row"] - outs["symmetric"]).max())
        print(f"{d:>3}{n:>7}{pr:>17.3e}{sy:>12.3e}{jx:>11.3e}{sy / pr:>12.2f}x{sy / jx:>8.2f}x{pr / jx:>12.2f}x"
              f"{diff:>9.1e}{load():>6}", flush=True)


if __name__ == "__main__":
    main()
