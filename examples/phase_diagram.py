r"""The clustering phase diagram of self-attention over :math:`(t, \beta)` (arXiv:2512.01868, figure (a);
arXiv:2312.10794), at a reduced size and without a Dask cluster.

For each :math:`\beta` an ensemble of ``--seeds`` systems of ``--n`` tokens drawn uniformly on
:math:`S^{d-1}` runs SA with RK4 (one batched kernel call per stage); the heatmap is the ensemble mean
of the fraction of pairs with :math:`\langle x_i(t), x_j(t)\rangle \ge 1 - \delta`
(:func:`attnflow.numerics.observables.pair_fraction`), with its 1/2-level boundary and the equiangular
prediction :math:`t_\beta` (:func:`attnflow.numerics.phase.equiangular_boundary`) overlaid.  The paper's
figure has n = 32, d = 8, 128, 1024, 64 seeds; ``attnflow sweep examples/sweeps/phase_diagram_2512.01868.toml``
computes it on Dask.

Run:  python examples/phase_diagram.py --out figures/      (a few seconds)
      python examples/phase_diagram.py --store phase.zarr   (a sweep store of figure (a): prints, per d,
      the distance D_d between the 1/2-level boundary and t_beta, with a bootstrap over seeds)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import figure_path, out_folder  # noqa: E402

from attnflow._base.io import save_figure  # noqa: E402
from attnflow.numerics import observables as ob  # noqa: E402
from attnflow.numerics import random_sphere, simulate  # noqa: E402
from attnflow.plotting import phase_diagram  # noqa: E402


def diagram(betas, *, n: int, d: int, seeds: int, t_final: float, num: int, dt: float, delta: float):
    """P(beta, t): the ensemble mean pair fraction, shape (len(betas), num)."""
    times = np.linspace(0.0, t_final, num)
    rows = []
    for k, beta in enumerate(betas):
        x0 = random_sphere(seeds * n, d, seed=k).reshape(seeds, n, d)
        tr = simulate("sa", x0, beta=float(beta), t_final=t_final, dt=dt, t_eval=times, energy=False)
        rows.append(ob.pair_fraction(tr.states, delta).mean(axis=1))
    return times, np.array(rows)


def distances(ds, observable: str = "pair_fraction", level: float = 0.5, boot: int = 200):
    r"""Per ``d`` of a sweep store (dims ``(d, beta, seed, t)``, SA): ``(d, D_d, bootstrap sd, per-beta
    t_1/2 - t_beta)`` with :math:`D_d = \mathrm{mean}_\beta |t_{1/2}(\beta) - t_\beta|` over the
    :math:`\beta` whose boundary is reached (:func:`attnflow.numerics.phase.boundary_distance`); the sd
    resamples the seeds (with replacement, ``boot`` times, generator seed 0)."""
    import json

    from attnflow.numerics.phase import equiangular_boundary, level_crossing

    spec = json.loads(ds.attrs["sweep_spec"])
    n = int(dict(spec["fixed"])["n"])
    delta = float(spec["delta"])
    var = ds[observable].transpose("d", "beta", "seed", "t")
    times, betas = ds["t"].values, ds["beta"].values
    pred = equiangular_boundary(betas, n, delta=delta)
    rng = np.random.default_rng(0)

    def dist(p):
        diff = level_crossing(p, times, level) - pred
        ok = np.isfinite(diff)
        return (float(np.mean(np.abs(diff[ok]))) if ok.any() else float("nan")), diff

    rows = []
    for k, d in enumerate(ds["d"].values):
        a = var.isel(d=k).values  # (beta, seed, t)
        D, per_beta = dist(a.mean(axis=1))
        reps = [dist(a[:, rng.integers(0, a.shape[1], a.shape[1])].mean(axis=1))[0] for _ in range(boot)]
        rows.append((int(d), D, float(np.std(reps)), per_beta))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", default=None, help="a sweep store with dims (d, beta, seed, t): print D_d per d")
    if argv is None:
        argv = sys.argv[1:]
    if "--store" in argv:
        args = p.parse_args(argv)
        import xarray as xr

        ds = xr.open_zarr(args.store)
        print(f"betas: {np.round(ds['beta'].values, 3).tolist()}")
        rows = distances(ds)
        for d, dist, sd, per_beta in rows:
            print(f"d = {d:5d}: D_d = {dist:.4f} (bootstrap sd over seeds {sd:.4f}); t_1/2 - t_beta per beta: "
                  f"{np.round(per_beta, 3).tolist()}")
        common = np.logical_and.reduce([np.isfinite(r[3]) for r in rows])
        if common.any():  # the same betas for every d (D_d above averages over the betas each d reaches)
            print(f"over the betas every d reaches ({np.round(ds['beta'].values[common], 3).tolist()}): "
                  + ", ".join(f"D_{d} = {np.mean(np.abs(pb[common])):.4f}" for d, _, _, pb in rows))
        return 0
    out_folder(p)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--d", type=int, default=8)
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--betas", type=int, default=12, help="number of beta values in [0.5, 8]")
    p.add_argument("--t-final", type=float, default=20.0)
    args = p.parse_args(argv)
    path = figure_path(args.out, f"phase_diagram_n{args.n}_d{args.d}.png", args.force)
    betas = np.linspace(0.5, 8.0, args.betas)
    times, P = diagram(betas, n=args.n, d=args.d, seeds=args.seeds, t_final=args.t_final, num=41, dt=0.05,
                       delta=1e-3)
    fig = phase_diagram(P, times, betas, n=args.n, d=args.d, model="sa",
                        title=rf"SA, $n = {args.n}$, $d = {args.d}$, {args.seeds} seeds (arXiv:2512.01868, reduced)")
    save_figure(fig, path, dpi=120)
    print(f"P(beta, t_final) = {np.round(P[:, -1], 3).tolist()}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
