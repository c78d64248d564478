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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
