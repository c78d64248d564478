"""Benchmark: batched ensembles (``simulate`` on (B, n, d)) vs a batched NumPy step, and sweep throughput.

Run by hand (never asserted in tests)::

    .venv/bin/python bench/bench_ensembles.py                    # B = 2048, n = 32, d = 2, 3; 1 vs 2 workers
    .venv/bin/python bench/bench_ensembles.py --steps 20 --no-sweep

Part 1, per system-step: for SA and USA, d = 2 and 3, B = 2048 systems of n = 32 tokens,

* attnflow: ``simulate(model, x0, beta, t_final=steps*h, dt=h, method=M, energy=False)`` with
  ``M = "authors"`` (the normalised residual layer, one attention evaluation per step) and ``M = "rk4"``
  (four field evaluations per step): one ensemble-kernel call per stage covers the batch;
* NumPy: the authors' batched step (their ``phase-diagrams.py`` in NumPy): ``G = einsum('bid,bjd->bij')``,
  shifted softmax ``exp(beta (G - max_j G))`` normalised over j (SA) or ``exp(beta (G - 1)) / n`` times
  ``e^beta`` folded into the step (USA), ``A = einsum('bij,bjd->bid')``, ``x <- normalise(x + eta A)``.

The table gives seconds per system-step and the ratio NumPy / attnflow (> 1: attnflow faster); the
``authors`` row compares like with like (one attention per step); the ``rk4`` row does four.
The same numbers of steps, best of ``--repeat`` after one warm-up run (compilation excluded).

Part 2, sweep throughput: the same small phase-diagram sweep (SA, n = 32, d = 3) run with
``attnflow.sweep(n_workers=1)`` and ``n_workers=2`` (embedded LocalCluster), systems per second;
cluster start-up is included (it is part of a user's wall time).

The machine is shared: the 1-minute load average is printed with every row.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover
        return "?"


def numpy_authors_step(x: np.ndarray, beta: float, eta: float, softmax: bool) -> np.ndarray:
    """One batched step x <- normalise(x + eta * attention(x)) as in the authors' script (NumPy)."""
    g = np.einsum("bid,bjd->bij", x, x)
    if softmax:
        g -= g.max(axis=2, keepdims=True)
        g *= beta
        np.exp(g, out=g)
        g /= g.sum(axis=2, keepdims=True)
    else:
        g -= 1.0
        g *= beta
        np.exp(g, out=g)
        g *= np.exp(beta) / x.shape[1]
    y = x + eta * np.einsum("bij,bjd->bid", g, x)
    y /= np.linalg.norm(y, axis=2, keepdims=True)
    return y


def best(fn, repeat: int) -> float:
    fn()  # warm-up (compilation, caches)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def part1(args) -> None:
    from attnflow.numerics import random_sphere, simulate

    rng = np.random.default_rng(0)
    print(f"Part 1: B = {args.batch}, n = {args.n}, {args.steps} steps, h = {args.h}, beta = {args.beta}; "
          f"seconds per system-step (best of {args.repeat})")
    print(f"{'model':<5} {'d':>2} {'method':<8} {'attnflow':>11} {'numpy':>11} {'numpy/attnflow':>15} {'load':>6}")
    for model in ("sa", "usa"):
        for d in (2, 3):
            x0 = rng.standard_normal((args.batch, args.n, d))
            x0 /= np.linalg.norm(x0, axis=2, keepdims=True)
            eta_np = args.h if model == "sa" else args.h / max(np.sqrt(args.beta) * np.exp(args.beta - 0.5), 1.0)

            def run_np():
                x = x0.copy()
                for _ in range(args.steps):
                    x = numpy_authors_step(x, args.beta, eta_np, model == "sa")
                return x

            t_np = best(run_np, args.repeat) / (args.batch * args.steps)
            for method in ("authors", "rk4"):
                # the authors' USA step is h / scale: the same number of steps needs t_final = steps * h / scale
                dt = args.h
                t_final = args.steps * (eta_np if method == "authors" else args.h)

                def run_af():
                    return simulate(model, x0, beta=args.beta, t_final=t_final, dt=dt, method=method, energy=False,
                                    save_every=args.steps)

                t_af = best(run_af, args.repeat) / (args.batch * args.steps)
                print(f"{model:<5} {d:>2} {method:<8} {t_af:11.3e} {t_np:11.3e} {t_np / t_af:15.2f} {load():>6}",
                      flush=True)
    del random_sphere


def part2(args) -> None:
    from attnflow.sweeps import sweep

    spec = {"model": "sa", "n": 32, "d": 3, "beta": {"start": 0.5, "stop": 4.0, "num": 4}, "seeds": args.sweep_seeds,
            "seed_block": 16, "t": {"stop": 10.0, "num": 11}, "dt": 0.05, "observables": ["pair_fraction"]}
    systems = 4 * args.sweep_seeds
    print(f"\nPart 2: sweep of {systems} systems (SA, n = 32, d = 3, 200 RK4 steps each), embedded LocalCluster")
    print(f"{'workers':>7} {'wall s':>8} {'systems/s':>10} {'load':>6}")
    base = tempfile.mkdtemp(prefix="bench_sweep_")
    try:
        rates = {}
        for workers in (1, 2):
            out = os.path.join(base, f"w{workers}.zarr")
            t0 = time.perf_counter()
            sweep(spec, out, n_workers=workers, progress=False)
            wall = time.perf_counter() - t0
            rates[workers] = systems / wall
            print(f"{workers:>7} {wall:8.2f} {rates[workers]:10.1f} {load():>6}", flush=True)
        print(f"speed-up 2 workers / 1: {rates[2] / rates[1]:.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--h", type=float, default=0.02)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sweep-seeds", type=int, default=64)
    p.add_argument("--no-sweep", action="store_true")
    args = p.parse_args()
    print(f"cores: {os.cpu_count()}; 1-minute load at start: {load()} (a shared machine: numbers are indicative)")
    part1(args)
    if not args.no_sweep:
        part2(args)


if __name__ == "__main__":
    main()
