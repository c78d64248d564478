"""Benchmark: the rows-in-lanes SA kernel against the generated module of an earlier revision, in one run.

Run by hand (never asserted in tests)::

    .venv/bin/python bench/bench_lanes.py                       # before = git revision ce9deec
    .venv/bin/python bench/bench_lanes.py --before main --sizes 4096 16384 65536

The "before" module is ``numerics/_generated/sa.py`` of ``--before`` (``git show``), imported from a
temporary folder under another name (a generated module imports only math, numpy and numba), so both
versions are timed in the same process, back to back, on the same inputs (unit tokens, beta = 4),
best of ``--repeat`` after a warm-up (compilation excluded):

* large n, d = 2 and 3: the dispatch's path before (the a-priori-shift BLAS path
  ``sa_velocity_shifted`` on numba's threads, as ``fields._dispatch._run_blocked`` runs it) and after
  (``attnflow.numerics.velocity``: the rows-in-lanes kernel), token pairs per second;
* one system of n = 32, d = 3: the small-system kernel (one call) and one RK4 step of the compiled
  loop (``_sa_integrate_fixed``), microseconds;
* B = 2048 systems of n = 32, d = 2 and 3: RK4 through ``_sa_integrate_fixed_ensemble`` (parallel over
  systems), microseconds per system-step.

Also printed: the vectorised ``_vexp`` throughput on one core, before and after (strict floating
point, as the kernels call it), the large-n rows per second of process CPU time (all threads: the work
per core-second, steadier than wall time on a loaded machine), and the 1-minute load average with
every row.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import git_show, import_path, load  # bench/_common.py (the script's folder is on sys.path)


def best(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def best_cpu(fn, repeat: int) -> float:
    """Best CPU time of the process (all its threads): the work done, steadier than wall time on a
    loaded machine (a thread waiting for a core costs no CPU time)."""
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        ts.append(time.process_time() - t0)
    return min(ts)


def before_module(rev: str, folder: str):
    path = Path(folder) / "sa_before.py"
    path.write_text(git_show(rev, "numerics/_generated/sa.py"))
    return import_path(path, "sa_before")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", default="ce9deec", help="git revision of the 'before' generated module")
    p.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384, 65536])
    p.add_argument("--dims", type=int, nargs="+", default=[3, 2])
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()

    import numba
    from numba import njit

    from attnflow.numerics import velocity
    from attnflow.numerics._generated import sa as after
    from attnflow.numerics.fields._dispatch import _run_blocked, _shifted_rows

    with tempfile.TemporaryDirectory() as folder:
        before = before_module(args.before, folder)
        print(f"before = {args.before}, numba threads {numba.get_num_threads()}, load {load()}")

        for name, mod in (("before", before), ("after", after)):
            vexp = mod._vexp

            @njit(cache=False, fastmath=False, error_model="numpy")
            def loop(v, out):
                for i in range(v.shape[0]):
                    out[i] = vexp(v[i])

            v = np.random.default_rng(1).uniform(-30.0, 0.0, 2**21)
            out = np.empty_like(v)
            t = best(lambda: loop(v, out), args.repeat)
            print(f"_vexp {name:<6} (strict fp, one core): {v.size / t:.3e} exp/s   load {load()}")

        print(f"\n{'n':>7}{'d':>3}{'before pairs/s':>16}{'after pairs/s':>15}{'after/before':>13}"
              f"{'before /cpu-s':>15}{'after /cpu-s':>14}{'load':>6}")
        for d in args.dims:
            for n in args.sizes:
                rng = np.random.default_rng([n, d])
                x = rng.standard_normal((n, d))
                x /= np.linalg.norm(x, axis=1, keepdims=True)
                o, lz = np.empty_like(x), np.empty(n)
                rep = max(1, min(args.repeat, int(3 * 4096**2 / n**2) or 1))
                run_b = lambda: _run_blocked(before.sa_velocity_shifted, x, (4.0,), (o, lz), _shifted_rows(n, d))  # noqa: E731
                run_a = lambda: velocity(x, model="sa", beta=4.0)  # noqa: E731
                tb, ta = best(run_b, rep), best(run_a, rep)
                cb, ca = best_cpu(run_b, rep), best_cpu(run_a, rep)
                print(f"{n:>7}{d:>3}{n * n / tb:>16.3e}{n * n / ta:>15.3e}{tb / ta:>12.2f}x"
                      f"{n * n / cb:>15.3e}{n * n / ca:>14.3e}{load():>6}", flush=True)

        x = np.random.default_rng(5).standard_normal((32, 3))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        o, lz = np.empty_like(x), np.empty(32)
        print("\none system, n = 32, d = 3 (us)")
        for name, mod in (("before", before), ("after", after)):
            reps = 2000
            t_call = best(lambda: [mod._sa_velocity_small(x, 4.0, o, lz) for _ in range(reps)], args.repeat) / reps
            steps = 200
            states = np.empty((2, 32, 3))
            grid, save = np.empty(0), np.empty(0, dtype=np.bool_)

            def rk4():
                y = x.copy()
                mod._sa_integrate_fixed(y, 0.0, 0.01, steps * 0.01, steps, steps, grid, save, 1, 4.0, states)

            t_step = best(rk4, args.repeat) / steps
            print(f"  {name:<6} small kernel {t_call * 1e6:6.2f}   RK4 step {t_step * 1e6:6.2f}   load {load()}")

        print(f"\nensemble B = {args.batch}, n = 32, RK4, {args.steps} steps (us per system-step)")
        for d in (2, 3):
            x0 = np.random.default_rng([7, d]).standard_normal((args.batch, 32, d))
            x0 /= np.linalg.norm(x0, axis=-1, keepdims=True)
            res = {}
            for name, mod in (("before", before), ("after", after)):
                states = np.empty((2, args.batch, 32, d))
                failed = np.zeros(args.batch, dtype=np.int64)
                grid, save = np.empty(0), np.empty(0, dtype=np.bool_)

                def ens():
                    y = x0.copy()
                    mod._sa_integrate_fixed_ensemble(y, 0.0, 0.02, args.steps * 0.02, args.steps, args.steps,
                                                     grid, save, 1, 2.0, states, failed)

                res[name] = best(ens, args.repeat) / (args.batch * args.steps)
            print(f"  d = {d}: before {res['before'] * 1e6:6.2f}   after {res['after'] * 1e6:6.2f}   "
                  f"after/before speed {res['before'] / res['after']:.2f}x   load {load()}")


if __name__ == "__main__":
    main()
