"""The Q/K/V and multi-head BLAS path against an older version of it and against SA, in one process.

Usage (from the repository root)::

    .venv/bin/python bench/bench_keyed.py --before-rev ddd98ef --sizes 4096 16384 --dims 16 --repeat 5

``--before-rev REV`` writes the generated modules ``qkv.py`` and ``multihead.py`` of commit REV (``git
show``) to ``--before-dir`` and imports them by path; a ``sigmoid_qkv.py`` already in that folder (the
user's model of tests/data/user_models.py rendered by REV's generator) is used for the user model's row,
else that row has no 'before' column.  'before' runs REV's ``<kernel>_velocity_blas`` through the same
dispatch (``attnflow.numerics.velocity``) with REV's thread split (``_run_blocked``, blocks of
max(8, min(128, 4 MiB / (8 n H))) rows); 'after' the current one.  Every entry is the best of
``--repeat`` rounds, the implementations interleaved within a round; pairs/s counts n^2 pairs per call
(a multi-head call evaluates H n^2 head-pairs), and 'vs SA' is that rate over SA's in the same round
set.  Speed decisions use the ratios; the 1-minute load is printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _common import ROOT, git_show, import_path  # bench/_common.py (the script's folder is on sys.path)


def _old_rows(n: int, heads: int) -> int:
    return max(8, min(128, 4 * 2**20 // (8 * n * heads)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before-rev", default=None, help="commit whose generated modules are the 'before' column")
    ap.add_argument("--before-dir", default="/tmp/attnflow_keyed_before", help="folder of the 'before' modules")
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384])
    ap.add_argument("--dims", type=int, nargs="+", default=[16])
    ap.add_argument("--beta", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import numpy as np

    from attnflow.models import load
    from attnflow.numerics import velocity
    from attnflow.numerics.fields import _dispatch

    bdir = Path(a.before_dir)
    old = {}
    if a.before_rev:
        bdir.mkdir(parents=True, exist_ok=True)
        for m in ("qkv", "multihead"):
            (bdir / f"{m}.py").write_text(git_show(a.before_rev, f"numerics/_generated/{m}.py"))
    for m in ("qkv", "multihead", "sigmoid_qkv"):
        if (bdir / f"{m}.py").exists():
            mod = import_path(bdir / f"{m}.py", f"_keyed_before_{m}")
            old.update({k: v for k, v in vars(mod).items() if k.endswith("_velocity_blas")})
    user = {m.name: m for m in load(ROOT / "tests" / "data" / "user_models.py", replace=True)}
    real_run_keyed = _dispatch._run_keyed

    def before_runner(fn, x, head, outs, rows):
        heads = head[0].shape[0] if head[0].ndim == 3 else 1
        return _dispatch._run_blocked(old[fn.__name__], x, head, outs, _old_rows(x.shape[0], heads))

    print(f"bench_keyed: {os.cpu_count()} CPUs, numba threads {_dispatch.numba.get_num_threads()}, beta {a.beta}, "
          f"best of {a.repeat}, before = {a.before_rev or bdir}")
    for d in a.dims:
        for n in a.sizes:
            rng = np.random.default_rng([a.seed, n, d])
            x = rng.standard_normal((n, d))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            Q, K, V = rng.standard_normal((3, d, d)) / np.sqrt(d)
            M = rng.standard_normal((2, d, d)) / np.sqrt(d)
            cases = [("qkv", dict(model="qkv", Q=Q, K=K, V=V), "qkv_velocity_blas"),
                     ("multihead shared", dict(model="multihead", M=M, normalization="shared"),
                      "multihead_shared_velocity_blas"),
                     ("multihead per_head", dict(model="multihead", M=M, normalization="per_head"),
                      "multihead_per_head_velocity_blas"),
                     ("sigmoid_qkv (user)", dict(model=user["sigmoid_qkv"], Q=Q, K=K, V=V), "sigmoid_qkv_velocity_blas")]
            impls = {"sa": lambda: velocity(x, model="sa", beta=a.beta)}
            for label, kw, fname in cases:
                impls[(label, "after")] = lambda kw=kw: velocity(x, beta=a.beta, **kw)
                if fname in old:
                    def run_before(kw=kw):
                        _dispatch._run_keyed = before_runner
                        try:
                            return velocity(x, beta=a.beta, **kw)
                        finally:
                            _dispatch._run_keyed = real_run_keyed
                    impls[(label, "before")] = run_before
            for f in impls.values():  # compile, warm the caches
                f()
            diffs = {label: float(np.abs(impls[(label, "after")]() - impls[(label, "before")]()).max())
                     for label, _, _ in cases if (label, "before") in impls}
            best = dict.fromkeys(impls, float("inf"))
            for _ in range(a.repeat):
                for k, f in impls.items():
                    t0 = time.perf_counter()
                    f()
                    best[k] = min(best[k], time.perf_counter() - t0)
            sa = n * n / best["sa"]
            print(f"\nn = {n}, d = {d}: SA {sa:.3e} pairs/s, 1-min load {os.getloadavg()[0]:.2f}")
            print(f"{'model':<20}{'before':>11}{'after':>11}{'after/before':>13}{'before/SA':>10}{'after/SA':>9}"
                  f"{'max|after-before|':>19}")
            for label, _, _ in cases:
                aft = n * n / best[(label, "after")]
                bef = n * n / best[(label, "before")] if (label, "before") in best else None
                fmt = lambda v, w=11: f"{v:>{w}.3e}" if v is not None else f"{'-':>{w}}"  # noqa: E731
                print(f"{label:<20}{fmt(bef)}{fmt(aft)}"
                      + (f"{aft / bef:>13.2f}{bef / sa:>10.2f}" if bef else f"{'-':>13}{'-':>10}")
                      + f"{aft / sa:>9.2f}" + (f"{diffs[label]:>19.1e}" if label in diffs else f"{'-':>19}"),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
