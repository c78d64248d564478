r"""The shift between the phase diagrams of the authors' scheme and RK4 (arXiv 2312.10794).

Reads a sweep store whose spec has ``method = ["authors", "rk4"]`` (e.g.
``examples/sweeps/phase_diagram_2312.10794.toml``) and prints, per model, dimension and beta, the
1/2-level boundaries :math:`t_{1/2}` of both diagrams and their shift
:math:`\Delta(\beta) = t^{\rm authors}_{1/2}(\beta) - t^{\rm RK4}_{1/2}(\beta)`
(:func:`attnflow.numerics.phase.boundary_shift`; positive: the authors' layer clusters later on the
time axis, since its per-token step is :math:`h/(1 + h\langle x_i, a_i\rangle) < h`).

Run:  python examples/phase_shift.py rotf.zarr [--level 0.5]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from attnflow.numerics.phase import boundary_shift, level_crossing
from attnflow.sweeps import open_store


def shifts(ds, observable: str = "pair_fraction", level: float = 0.5):
    """Rows ``(labels, beta, t_authors, t_rk4, shift)`` for every combination of the other grid keys."""
    var = ds[observable]
    if "method" not in var.dims or set(ds["method"].values.tolist()) < {"authors", "rk4"}:
        raise ValueError("store: the spec must have method = [\"authors\", \"rk4\"]")
    methods = [str(m) for m in ds["method"].values.tolist()]
    ia, ir = methods.index("authors"), methods.index("rk4")
    mean = var.mean("seed", skipna=True) if "seed" in var.dims else var
    other = [d for d in mean.dims if d not in ("beta", "method", "t")]
    times = ds["t"].values
    rows = []
    for combo in itertools.product(*(range(mean.sizes[d]) for d in other)):
        sub = mean.isel(dict(zip(other, combo)))
        pa = sub.isel(method=ia).transpose("beta", "t").values
        pr = sub.isel(method=ir).transpose("beta", "t").values
        label = {d: getattr(ds[d].values[i], "item", lambda v=ds[d].values[i]: v)() for d, i in zip(other, combo)}
        ta, tr, sh = level_crossing(pa, times, level), level_crossing(pr, times, level), boundary_shift(pa, pr, times, level)
        for b, x, y, z in zip(ds["beta"].values, ta, tr, sh):
            rows.append((label, float(b), float(x), float(y), float(z)))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("store", help="the sweep store (attnflow sweep --out)")
    p.add_argument("--level", type=float, default=0.5)
    args = p.parse_args(argv)
    rows = shifts(open_store(args.store), level=args.level)
    print(f"{'panel':<22} {'beta':>6} {'t_authors':>10} {'t_rk4':>8} {'shift':>8}")
    for label, b, ta, tr, sh in rows:
        name = ", ".join(f"{k}={v}" for k, v in label.items())
        print(f"{name:<22} {b:6.3g} {ta:10.4g} {tr:8.4g} {sh:+8.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
