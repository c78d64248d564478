r"""The shift between the phase diagrams of the authors' scheme and RK4 (arXiv 2312.10794).

Reads a sweep store whose spec has ``method = ["authors", "rk4"]`` (e.g.
``examples/sweeps/phase_diagram_2312.10794.toml``) and prints, per model, dimension and beta, the
1/2-level boundaries :math:`t_{1/2}` of both diagrams and their shift
:math:`\Delta(\beta) = t^{\rm authors}_{1/2}(\beta) - t^{\rm RK4}_{1/2}(\beta)`
(:func:`attnflow.numerics.phase.boundary_shift`; positive: the authors' layer clusters later on the
time axis, since its per-token step is :math:`h/(1 + h\langle x_i, a_i\rangle) < h`).

Run:  python examples/phase_shift.py rotf.zarr [--level 0.5]
      python examples/phase_shift.py --reduced --out figures/   (no store, no Dask: SA, d = 3, n = 16,
      8 seeds, simulated here; draws both diagrams side by side; a few seconds)
"""

from __future__ import annotations

import argparse
import itertools

from pathlib import Path

import numpy as np

from attnflow.numerics.phase import boundary_shift, level_crossing


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


def reduced_store(*, n: int = 16, d: int = 3, seeds: int = 8, betas=(0.5, 1.5, 2.5, 3.5), t_final: float = 12.0,
                  num: int = 49, dt: float = 0.02, delta: float = 1e-3):
    """An in-memory dataset shaped like a sweep store (dims method, beta, seed, t) for SA, both schemes."""
    import json

    import xarray as xr

    from attnflow.numerics import observables as ob
    from attnflow.numerics import random_sphere, simulate

    times = np.linspace(0.0, t_final, num)
    methods = ["authors", "rk4"]
    data = np.empty((len(methods), len(betas), seeds, num))
    for k, beta in enumerate(betas):
        x0 = random_sphere(seeds * n, d, seed=k).reshape(seeds, n, d)  # the same starts for both schemes
        for m, method in enumerate(methods):
            tr = simulate("sa", x0, beta=float(beta), t_final=t_final, dt=dt, method=method, t_eval=times, energy=False)
            data[m, k] = ob.pair_fraction(tr.states, delta).T
    spec = {"fixed": {"model": "sa", "n": n, "d": d}, "delta": delta, "params": []}
    return xr.Dataset({"pair_fraction": (("method", "beta", "seed", "t"), data)},
                      coords={"method": methods, "beta": np.asarray(betas, float), "seed": np.arange(seeds), "t": times},
                      attrs={"sweep_spec": json.dumps(spec)})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("store", nargs="?", help="the sweep store (attnflow sweep --out)")
    p.add_argument("--level", type=float, default=0.5)
    p.add_argument("--reduced", action="store_true", help="simulate a reduced SA grid here instead of reading a store")
    p.add_argument("--out", type=Path, default=None, help="with --reduced: folder for the figure of both diagrams")
    p.add_argument("--force", action="store_true", help="overwrite the figure if it exists")
    args = p.parse_args(argv)
    if (args.store is None) == (not args.reduced):
        p.error("give a store, or --reduced")
    if args.reduced:
        path = None
        if args.out is not None:  # vetted before computing
            from attnflow._base.io import check_output_path

            path = check_output_path(args.out / "phase_shift.png", option="--out", force=args.force, suffixes=(".png",))
        ds = reduced_store()
        if path is not None:
            from attnflow._base.io import save_figure
            from attnflow.plotting import sweep_figure

            save_figure(sweep_figure(ds), path, dpi=120)
            print(f"wrote {path}")
    else:
        from attnflow.sweeps import open_store

        ds = open_store(args.store)
    rows = shifts(ds, level=args.level)
    print(f"{'panel':<22} {'beta':>6} {'t_authors':>10} {'t_rk4':>8} {'shift':>8}")
    for label, b, ta, tr, sh in rows:
        name = ", ".join(f"{k}={v}" for k, v in label.items())
        print(f"{name:<22} {b:6.3g} {ta:10.4g} {tr:8.4g} {sh:+8.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
