"""Benchmark: exact W_2 between equal-size uniform clouds on S^2, attnflow vs POT, same run.

Run by hand (never in CI):  .venv/bin/python bench/bench_wasserstein.py [--repeats 3] [--d 3]

For each n we time
  * ours:        attnflow.numerics.wasserstein(x, y)  (validation + cost matrix + assignment),
  * POT emd2:    ot.emd2(a, b, M) on a precomputed cost matrix M (solver only),
  * POT total:   ot.dist(x, y) + ot.emd2 (what a user of POT pays),
and print the best-of-repeats wall times, the ratios (> 1 means ours is faster) and the agreement
|W_ours^2 - W_POT^2|. The machine may be shared: repeat and take the best time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import ot

from attnflow.numerics.wasserstein import wasserstein


def _best(fn, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 2000])
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print(f"W_2, equal-size uniform clouds on S^{args.d - 1}; best of {args.repeats}; ratio = POT time / ours")
    print(f"{'n':>6} {'ours [s]':>10} {'POT emd2 [s]':>13} {'POT dist+emd2 [s]':>18} {'ratio(emd2)':>12} "
          f"{'ratio(total)':>13} {'|dW^2|':>9}")
    for n in args.sizes:
        x = rng.standard_normal((n, args.d))
        y = rng.standard_normal((n, args.d))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        y /= np.linalg.norm(y, axis=1, keepdims=True)
        a = np.full(n, 1.0 / n)
        M = ot.dist(x, y)
        t_ours, w = _best(lambda: wasserstein(x, y, p=2), args.repeats)
        t_emd, c = _best(lambda: ot.emd2(a, a, M, numItermax=10**8), args.repeats)
        t_tot, _ = _best(lambda: ot.emd2(a, a, ot.dist(x, y), numItermax=10**8), args.repeats)
        print(f"{n:>6} {t_ours:>10.4f} {t_emd:>13.4f} {t_tot:>18.4f} {t_emd / t_ours:>12.2f} "
              f"{t_tot / t_ours:>13.2f} {abs(w * w - float(c)):>9.1e}")


if __name__ == "__main__":
    main()
