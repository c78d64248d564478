"""Benchmark: the SA velocity (generated kernels, dispatched by size) vs a plain NumPy implementation.

Run by hand (not part of the tests)::

    .venv/bin/python bench/bench_kernels.py                    # n in {1024, 4096, 16384}, d in {3, 16, 64}
    .venv/bin/python bench/bench_kernels.py --sizes 1024 4096 --dims 3 --repeat 5
    .venv/bin/python bench/bench_kernels.py --small --rk4      # + small-n calls and a full RK4 run
    .venv/bin/python bench/bench_kernels.py --rk4 --rk4-steps 200   # shorter RK4 run, extrapolated to 1000

For every (n, d) both implementations run in the same process on the same points (unit vectors,
``numpy.random.default_rng(seed)``), interleaved, best of ``--repeat`` timings after one warm-up:

* attnflow: ``attnflow.numerics.velocity(x, model="sa", beta=beta)``, i.e. the path that
  ``attnflow.numerics.fields`` dispatches to: ``serial`` fused kernel (n^2 < PARALLEL_MIN_PAIRS),
  ``blocked`` BLAS path (d >= BLAS_MIN_DIM) or ``fused`` parallel kernel;
* NumPy: Gram matrix ``x x^T`` -> shifted exponential ``exp(beta (G - 1))`` -> normalise ->
  matmul -> tangent projection, done in place on one n x n array (the lean NumPy version);
* for the blocked rows, also the fused parallel kernel (``sa_velocity``) it replaces.

Peak memory: NumPy allocations (including the blocked path's buffers) are traced with
:mod:`tracemalloc`; numba's own allocations are not visible to it, so for both we also report the
increase of the process resident-set high-water mark (``VmHWM`` in ``/proc/self/status``, reset
before each call by writing ``5`` to ``/proc/self/clear_refs``; Linux only).

``--small`` times 2000 calls of ``make_field("sa")`` at n = 6 and n = 64 (d = 3; the serial twin
after the dispatch) against the same calls forced through the parallel kernel, best and worst of
five rounds.  ``--rk4`` times ``simulate("sa", ..., method="rk4")`` (n = 4096, d = 3, h = 0.01).
The cold-start section times the first call in fresh subprocesses: with an empty numba cache
(``NUMBA_CACHE_DIR`` pointed at a temporary directory, i.e. compilation) and with the checked-in
kernels' on-disk cache (cache load), against the second (warm) call.

``--models`` times every model through the public API (``velocity``, and ``energy`` where the model has
one) at n = 64 (serial twins) and n = 1024 (parallel kernels or the blocked path), d = 3 (angles for
the circle models), best of ``--repeat``: the table to compare before and after a change of the code
generator (the script runs unchanged on older trees, whose SA kernel was ``sphere_attention.sa_attention``).

Targets: >= 3x faster than NumPy at n = 16384 for d <= 16; not slower at d = 64.
The machine is shared: the table prints the 1-minute load average next to every row.
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


def _cold_start() -> dict[str, dict[str, float]]:
    """First-call times in fresh processes, for the three SA paths, compiling vs loading the cache."""
    code = (
        "import time, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "from attnflow.numerics import velocity\n"
        "t1 = time.perf_counter()\n"
        "rng = np.random.default_rng(0); x = rng.standard_normal((1024, 3))\n"
        "x /= np.linalg.norm(x, axis=1, keepdims=True); y = x[:64].copy()\n"
        "try:\n"
        "    from attnflow.numerics._generated import sa as att\n"
        "    fz = lambda: att.sa_velocity(x, 1.0, np.empty_like(x), np.empty(1024))\n"
        "except ImportError:\n"
        "    from attnflow.numerics._generated import sphere_attention as att\n"
        "    fz = lambda: att.sa_attention(x, 1.0, True, np.empty_like(x), np.empty(1024))\n"
        "res = [t1 - t0]\n"
        "for f in (lambda: velocity(x, model='sa', beta=1.0), lambda: velocity(y, model='sa', beta=1.0), fz):\n"
        "    a = time.perf_counter(); f(); b = time.perf_counter(); f(); c = time.perf_counter()\n"
        "    res += [b - a, c - b]\n"
        "print(*res)\n"
    )
    out = {}
    with tempfile.TemporaryDirectory() as empty:
        for label, env in (("compile", {"NUMBA_CACHE_DIR": empty}), ("cache load", {})):
            res = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
                                 text=True, check=True)
            v = list(map(float, res.stdout.split()))
            out[label] = {"import": v[0], "blocked": v[1], "blocked warm": v[2], "serial": v[3],
                          "serial warm": v[4], "fused": v[5], "fused warm": v[6]}
    return out


def _fused_sa(beta: float):
    """The fused parallel SA kernel called directly (this tree's name, or the older trees')."""
    try:
        from attnflow.numerics._generated import sa as gen

        def fused(x):
            out = np.empty_like(x)
            gen.sa_velocity(x, beta, out, np.empty(x.shape[0]))
            return out
    except ImportError:
        from attnflow.numerics._generated import sphere_attention as gen

        def fused(x):
            out = np.empty_like(x)
            gen.sa_attention(x, beta, True, out, np.empty(x.shape[0]))
            return out
    return fused


def _models_table(repeat: int, beta: float) -> None:
    from attnflow.numerics import MODELS, energy, velocity

    rng = np.random.default_rng(1)
    print(f"\nmodels through the public API, d = 3, best of {max(repeat, 5)} (load {os.getloadavg()[0]:.1f})")
    print(f"{'model':>13} {'n':>5} | {'velocity s':>11} {'energy s':>10}")
    for n in (64, 1024):
        x = rng.standard_normal((n, 3))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        th = rng.uniform(-np.pi, np.pi, n)
        M = rng.standard_normal((2, 3, 3)) / np.sqrt(3)
        M = 0.5 * (M + M.transpose(0, 2, 1))
        V = M[0]
        params = {"qkv": {"Q": np.eye(3), "K": V, "V": V}, "multihead": {"M": M},
                  "interp": {"V": np.eye(3), "B": V, "W": rng.standard_normal((3, 4)), "U": rng.standard_normal((4, 3)),
                             "b": rng.standard_normal(4)}}
        for name, spec in MODELS.items():
            state = th if spec.manifold == "angles" else (2.0 * x if spec.manifold == "euclidean" else x)
            p = params.get(name, {})
            f = lambda: velocity(state, model=name, beta=beta, t=0.5, **p)  # noqa: E731
            f()
            tv = _best(f, max(repeat, 5))
            te = float("nan")
            if spec.has_energy:
                g = lambda: energy(state, model=name, beta=beta, **p)  # noqa: E731
                g()
                te = _best(g, max(repeat, 5))
            print(f"{name:>13} {n:>5} | {tv:>11.6f} {te:>10.6f}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 16384], help="numbers of tokens n")
    ap.add_argument("--dims", type=int, nargs="+", default=[3, 16, 64], help="dimensions d")
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3, help="timings per case (best is reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start subprocesses")
    ap.add_argument("--rk4", action="store_true", help="also time a full RK4 run (n=4096, d=3)")
    ap.add_argument("--small", action="store_true", help="also time 2000 calls at n = 6 and n = 64")
    ap.add_argument("--rk4-steps", type=int, default=1000)
    ap.add_argument("--models", action="store_true", help="time every model through the public API")
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

    from attnflow.numerics import fields, make_field, velocity

    import numba

    print(f"numba {numba.__version__}, numpy {np.__version__}, threads {numba.get_num_threads()}, "
          f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; dispatch: serial below "
          f"{fields.PARALLEL_MIN_PAIRS} pairs, blocked BLAS for d >= {fields.BLAS_MIN_DIM} "
          f"(rows {fields.BLOCK_ROWS}), else fused parallel")
    rng = np.random.default_rng(args.seed)
    warm = rng.standard_normal((300, 64))
    for dd in (3, 64):
        w = warm[:, :dd] / np.linalg.norm(warm[:, :dd], axis=1, keepdims=True)
        velocity(w, model="sa", beta=args.beta)

    fused = _fused_sa(args.beta)

    head = (f"{'n':>6} {'d':>3} {'path':>7} | {'attnflow s':>10} {'numpy s':>9} {'speedup':>8} | "
            f"{'fused s':>8} {'vs numpy':>8} | {'np trace MB':>11} {'np RSS MB':>9} {'af trace MB':>11} "
            f"{'af RSS MB':>9} | {'rel diff':>8} {'load':>5}")
    print(head)
    print("-" * len(head))
    for n in args.sizes:
        for d in args.dims:
            x = rng.standard_normal((n, d))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            path = ("serial" if n * n < fields.PARALLEL_MIN_PAIRS else
                    "blocked" if d >= fields.BLAS_MIN_DIM else "fused")
            tracemalloc.start()
            v_nb = velocity(x, model="sa", beta=args.beta)
            _, peak_nb = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            tracemalloc.start()
            v_np = numpy_sa(x, args.beta)
            _, peak_np = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            t_nb = t_np = t_fu = float("inf")
            for _ in range(args.repeat):
                t_nb = min(t_nb, _best(lambda: velocity(x, model="sa", beta=args.beta), 1))
                t_np = min(t_np, _best(lambda: numpy_sa(x, args.beta), 1))
                if path == "blocked":
                    t_fu = min(t_fu, _best(lambda: fused(x), 1))
            rss_nb = _rss_peak_delta_mb(lambda: velocity(x, model="sa", beta=args.beta))
            rss_np = _rss_peak_delta_mb(lambda: numpy_sa(x, args.beta))
            diff = float(np.max(np.abs(v_nb - v_np)) / np.max(np.abs(v_np)))
            fu = f"{t_fu:>8.3f} {t_np / t_fu:>7.2f}x" if path == "blocked" else f"{'-':>8} {'-':>8}"
            print(f"{n:>6} {d:>3} {path:>7} | {t_nb:>10.4f} {t_np:>9.4f} {t_np / t_nb:>7.2f}x | {fu} | "
                  f"{peak_np / 2**20:>11.1f} {rss_np:>9.1f} {peak_nb / 2**20:>11.1f} {rss_nb:>9.1f} | "
                  f"{diff:>8.1e} {os.getloadavg()[0]:>5.1f}", flush=True)
            del v_np, v_nb

    if args.small:
        f = make_field("sa", beta=args.beta)
        print(f"\nsmall n: 2000 calls, d = 3, best / worst of 5 rounds (load {os.getloadavg()[0]:.1f})")
        for n in (6, 64):
            x = rng.standard_normal((n, 3))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            res = {}
            for label, g in (("dispatched (serial twin)", lambda: f(0.0, x)), ("parallel kernel", lambda: fused(x))):
                g()
                rounds = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    for _ in range(2000):
                        g()
                    rounds.append(time.perf_counter() - t0)
                res[label] = (min(rounds), max(rounds))
            print(f"  n={n:>3}: " + "; ".join(f"{k} {a:.3f} / {b:.3f} s" for k, (a, b) in res.items()), flush=True)

    if not args.no_cold:
        c = _cold_start()
        print("\ncold start, fresh process, first call / second call (s):", flush=True)
        for label, v in c.items():
            print(f"  {label + ':':<11} import attnflow.numerics {v['import']:.2f}; "
                  f"velocity n=1024 d=3 (blocked path, no JIT) {v['blocked']:.3f} / {v['blocked warm']:.4f}; "
                  f"velocity n=64 (serial twin) {v['serial']:.3f} / {v['serial warm']:.5f}; "
                  f"sa_velocity n=1024 (fused parallel) {v['fused']:.3f} / {v['fused warm']:.4f}", flush=True)

    if args.models:
        _models_table(args.repeat, args.beta)

    if args.rk4:
        from attnflow.numerics import simulate

        x = rng.standard_normal((4096, 3))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        h = 0.01
        steps = args.rk4_steps
        simulate("sa", x[:300], beta=args.beta, t_final=2 * h, dt=h, method="rk4", save_every=2)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        traj = simulate("sa", x, beta=args.beta, t_final=steps * h, dt=h, method="rk4", save_every=steps)
        el = time.perf_counter() - t0
        extra = "" if steps == 1000 else f", extrapolated to 1000 steps: {el / steps * 1000:.1f} s"
        energy = "" if traj.energy is None else f"; energy {traj.energy[0]:.6g} -> {traj.energy[-1]:.6g}"
        print(f"\nRK4 (attnflow.numerics.simulate, method='rk4'), n=4096, d=3, {steps} steps of h={h}: "
              f"{el:.1f} s ({el / steps * 1e3:.1f} ms/step{extra}); load {load0:.1f} -> "
              f"{os.getloadavg()[0]:.1f}{energy}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
