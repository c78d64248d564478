"""Benchmark: the generated, fused SA velocity kernel vs a plain NumPy implementation.

Run by hand (not part of the tests)::

    .venv/bin/python bench/bench_kernels.py                    # n in {1024, 4096, 16384}, d in {3, 16, 64}
    .venv/bin/python bench/bench_kernels.py --sizes 1024 4096 --dims 3 --repeat 5
    .venv/bin/python bench/bench_kernels.py --rk4              # also a full RK4 run (n=4096, d=3, 1000 steps)

For every (n, d) both implementations run in the same process on the same points (unit vectors,
``numpy.random.default_rng(seed)``), best of ``--repeat`` timings after one warm-up call:

* numba: ``attnflow.numerics.velocity(x, model="sa", beta=beta)`` (fused, parallel over tokens,
  O(n d) memory);
* NumPy: Gram matrix ``x x^T`` -> shifted exponential ``exp(beta (G - 1))`` -> normalise ->
  matmul -> tangent projection, done in place on one n x n array (the lean NumPy version).

Peak memory: NumPy allocations are traced with :mod:`tracemalloc` (NumPy reports its buffers to
it); numba's allocations are not visible to tracemalloc, so for both we also report the increase of
the process resident-set high-water mark (``VmHWM`` in ``/proc/self/status``, reset before each call
by writing ``5`` to ``/proc/self/clear_refs``; Linux only).  The kernel's own allocations are
O(n d): the output, ``logz`` (n floats) and four length-d accumulators per block of rows.

The cold-start section times the first call in fresh subprocesses: with an empty numba cache
(``NUMBA_CACHE_DIR`` pointed at a temporary directory, i.e. compilation) and with the checked-in
kernels' on-disk cache (cache load), against the second (warm) call.

Targets (issue 3): >= 3x faster than NumPy at n = 16384 for d <= 16; not slower at d = 64.
Timings depend on the machine load: the table prints the load average next to the results.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np


def numpy_sa(x: np.ndarray, beta: float) -> np.ndarray:
    """Plain NumPy SA field: Gram -> shifted exp -> normalise -> matmul -> project (O(n^2) memory)."""
    G = x @ x.T
    G -= 1.0
    G *= beta
    np.exp(G, out=G)
    z = G.sum(axis=1)
    A = G @ x
    A /= z[:, None]
    return A - np.sum(A * x, axis=1, keepdims=True) * x


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def _rss_peak_delta_mb(fn) -> float:
    """Increase of the resident-set high-water mark during ``fn()`` (MB), or nan if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return float("nan")
    before = _status_kb("VmRSS")
    fn()
    return (_status_kb("VmHWM") - before) / 1024.0


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _cold_start(n: int, d: int) -> dict[str, float]:
    code = (
        "import time, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "from attnflow.numerics import velocity\n"
        "t1 = time.perf_counter()\n"
        f"rng = np.random.default_rng(0); x = rng.standard_normal(({n}, {d}))\n"
        "x /= np.linalg.norm(x, axis=1, keepdims=True)\n"
        "t2 = time.perf_counter(); velocity(x, model='sa', beta=1.0); t3 = time.perf_counter()\n"
        "velocity(x, model='sa', beta=1.0); t4 = time.perf_counter()\n"
        "print(t1 - t0, t3 - t2, t4 - t3)\n"
    )
    out = {}
    with tempfile.TemporaryDirectory() as empty:
        for label, env in (("compile", {"NUMBA_CACHE_DIR": empty}), ("cache load", {})):
            res = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
                                 text=True, check=True)
            imp, first, second = map(float, res.stdout.split())
            out[label] = first
            out[f"{label} import"] = imp
            out["warm"] = second
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 16384], help="numbers of tokens n")
    ap.add_argument("--dims", type=int, nargs="+", default=[3, 16, 64], help="dimensions d")
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3, help="timings per case (best is reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start subprocesses")
    ap.add_argument("--rk4", action="store_true", help="also time a full RK4 run (n=4096, d=3)")
    ap.add_argument("--rk4-steps", type=int, default=1000)
    args = ap.parse_args(argv)
    for name in ("sizes", "dims"):
        if any(v < 1 for v in getattr(args, name)):
            raise SystemExit(f"--{name}: values must be >= 1")
    if args.repeat < 1:
        raise SystemExit("--repeat: must be >= 1")
    if sys.platform.startswith("linux") and os.environ.get("MALLOC_MMAP_THRESHOLD_") is None:
        # glibc would otherwise keep freed large buffers resident and reuse them, hiding the
        # resident-set growth of later calls; a fixed mmap threshold returns them to the OS.
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)

    from attnflow.numerics import velocity

    import numba

    print(f"numba {numba.__version__}, numpy {np.__version__}, threads {numba.get_num_threads()}, "
          f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(args.seed)
    warm = rng.standard_normal((8, 3))
    velocity(warm / np.linalg.norm(warm, axis=1, keepdims=True), model="sa", beta=args.beta)

    head = (f"{'n':>6} {'d':>3} | {'numba s':>9} {'numpy s':>9} {'speedup':>8} | {'np trace MB':>11} "
            f"{'np RSS MB':>9} {'nb RSS MB':>9} | {'max |diff|':>10} {'load':>5}")
    print(head)
    print("-" * len(head))
    for n in args.sizes:
        for d in args.dims:
            x = rng.standard_normal((n, d))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            v_nb = velocity(x, model="sa", beta=args.beta)
            t_nb = _best(lambda: velocity(x, model="sa", beta=args.beta), args.repeat)
            rss_nb = _rss_peak_delta_mb(lambda: velocity(x, model="sa", beta=args.beta))
            tracemalloc.start()
            v_np = numpy_sa(x, args.beta)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            t_np = _best(lambda: numpy_sa(x, args.beta), args.repeat)
            rss_np = _rss_peak_delta_mb(lambda: numpy_sa(x, args.beta))
            diff = float(np.max(np.abs(v_nb - v_np)))
            print(f"{n:>6} {d:>3} | {t_nb:>9.4f} {t_np:>9.4f} {t_np / t_nb:>7.2f}x | {peak / 2**20:>11.1f} "
                  f"{rss_np:>9.1f} {rss_nb:>9.1f} | {diff:>10.1e} {os.getloadavg()[0]:>5.1f}", flush=True)
            del v_np, v_nb

    if not args.no_cold:
        c = _cold_start(1024, 3)
        print(f"\ncold start (n=1024, d=3, fresh process): first call compiling {c['compile']:.2f} s, "
              f"first call loading the on-disk cache {c['cache load']:.3f} s, warm call {c['warm']:.4f} s "
              f"(import attnflow.numerics: {c['cache load import']:.2f} s)")

    if args.rk4:
        from attnflow.numerics import make_field

        f = make_field("sa", beta=args.beta)
        x = rng.standard_normal((4096, 3))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        h = 0.01
        try:
            from attnflow.numerics.integrators import rk4_step

            step = lambda t, y: rk4_step(f, t, y, h, "sphere")  # noqa: E731
            how = "attnflow.numerics.integrators.rk4_step"
        except ImportError:
            def step(t, y):
                k1 = f(t, y)
                k2 = f(t + h / 2, y + h / 2 * k1)
                k3 = f(t + h / 2, y + h / 2 * k2)
                k4 = f(t + h, y + h * k3)
                y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
                return y / np.linalg.norm(y, axis=1, keepdims=True)
            how = "inline RK4 + retraction"
        t0 = time.perf_counter()
        y = x
        for s in range(args.rk4_steps):
            y = step(s * h, y)
        el = time.perf_counter() - t0
        print(f"\nRK4 ({how}), n=4096, d=3, {args.rk4_steps} steps of h={h}: {el:.1f} s "
              f"({el / args.rk4_steps * 1e3:.1f} ms/step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
