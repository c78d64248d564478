r"""The interaction energy increases along self-attention dynamics (arXiv:2312.10794, the energy
:math:`E(x) = \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, x_j\rangle}`; ``derivations/energy.md``):
an ensemble of SA systems integrated with RK4, its energies and cluster counts over time.

The script checks the statement on every system (the relative decrease between saved states never
exceeds round-off, 1e-12) and exits 1 otherwise; the figure (:func:`attnflow.plotting.ensemble_figure`)
shows each system's energy, the ensemble mean with one standard deviation, and the number of clusters.

Run:  python examples/energy_monotonicity.py --out figures/      (a few seconds)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import figure_path, out_folder  # noqa: E402

from attnflow._base.io import save_figure  # noqa: E402
from attnflow.numerics import random_sphere, simulate  # noqa: E402
from attnflow.plotting import ensemble_figure  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    out_folder(p)
    p.add_argument("--systems", type=int, default=24)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--d", type=int, default=3)
    p.add_argument("--beta", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    path = figure_path(args.out, "energy_monotonicity.png", args.force)
    x0 = random_sphere(args.systems * args.n, args.d, seed=args.seed).reshape(args.systems, args.n, args.d)
    tr = simulate("sa", x0, beta=args.beta, t_final=20.0, dt=0.02, t_eval=np.linspace(0, 20, 101), energy=True)
    rel = np.diff(tr.energy, axis=0) / np.abs(tr.energy[1:])
    worst = float(rel.min())
    print(f"{args.systems} systems: min relative energy increment between saved states {worst:.3e}")
    save_figure(ensemble_figure(tr, seed=args.seed), path, dpi=120)
    print(f"wrote {path}")
    if worst < -1e-12:
        print("the energy DEcreased beyond round-off: the statement fails", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
