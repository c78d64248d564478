r"""The metastability staircase (arXiv:2512.01868; cf. the repository HugoKoubbi/2024-transformers-dotm):
n = 5 tokens on the circle, USA in its time-rescaled Kuramoto form (``kuramoto_rescaled``, pair weight
:math:`e^{\beta(\cos(\theta_j-\theta_i)-1)}`, finite at any :math:`\beta`), for several
:math:`\beta` up to 4000.  Tokens start at :math:`\theta_k = a\,g_k\log\beta/\sqrt\beta` (the scaling of
the authors' script; :math:`g = 0, 1, 2.2, 3.6, 5.2`), so that pairs at distance :math:`\Delta` interact
with weight :math:`e^{-\beta\Delta^2/2}`: clusters form one after the other, each after a plateau whose
length grows like :math:`e^{c\beta\Delta^2}` -- a staircase in :math:`\log t`.

Plotted: the order parameter :math:`r(t) = |\frac1n\sum_j e^{i\theta_j}|` and the number of clusters
(single linkage at :math:`1-\cos(\theta_i-\theta_j) < \delta`) against :math:`\log t`.

Integration: the adaptive Dormand--Prince method of :func:`attnflow.numerics.simulate` (rtol 1e-9).  After
the first merge the system is stiff for an explicit scheme (the contraction inside a cluster has rate O(1)
while the plateaus last :math:`e^{c\beta\Delta^2}`), so the horizon is capped at ``--t-max`` (default 1e6,
about 3e5 steps per beta); later steps of the staircase lie beyond it.

Run:  python examples/metastability_staircase.py --out staircase.png   (about 2 minutes)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from attnflow._base.io import save_figure
from attnflow.numerics import observables as ob
from attnflow.numerics import simulate
from attnflow.plotting import staircase

GAPS = np.array([0.0, 1.0, 2.2, 3.6, 5.2])


def initial_angles(beta: float, a: float) -> np.ndarray:
    return a * GAPS * np.log(beta) / np.sqrt(beta)


def run(betas, *, a: float, t_max: float, num: int, delta: float):
    times = np.logspace(-2, np.log10(t_max), num)
    r, k = [], []
    for beta in betas:
        tr = simulate("kuramoto_rescaled", initial_angles(beta, a), beta=float(beta), t_final=float(times[-1]),
                      rtol=1e-9, t_eval=times, energy=False)
        r.append(ob.order_parameter(tr.states))
        k.append(ob.cluster_count(ob.directions(tr.states, "angles"), delta))
        print(f"beta = {beta:g}: {tr.steps} steps; clusters at the end {k[-1][-1]}; "
              f"merges at t = {[f'{times[i + 1]:.3g}' for i in np.flatnonzero(np.diff(k[-1]))]}", flush=True)
    return times, np.array(r), np.array(k, dtype=float)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="the figure (PNG); order parameter and cluster count")
    p.add_argument("--betas", type=float, nargs="+", default=[250.0, 500.0, 1000.0, 2000.0, 4000.0])
    p.add_argument("--a", type=float, default=0.3, help="scale of the initial gaps (default 0.3)")
    p.add_argument("--t-max", type=float, default=1e6)
    p.add_argument("--num", type=int, default=300, help="saved times (log-spaced from 1e-2)")
    p.add_argument("--delta", type=float, default=1e-6, help="cluster threshold on 1 - cos")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    args = p.parse_args(argv)
    if args.out.exists() and not args.force:
        print(f"--out: {args.out} exists; pass --force to overwrite", file=sys.stderr)
        return 2
    if min(args.betas) <= 1 or args.t_max <= 1e-2 or args.a <= 0:
        print("--betas: need beta > 1, --t-max > 1e-2 and --a > 0", file=sys.stderr)
        return 2
    times, r, k = run(args.betas, a=args.a, t_max=args.t_max, num=args.num, delta=args.delta)
    fig = staircase(times, {r"order parameter $r(t)$": r, "number of clusters": k}, args.betas,
                    title=rf"Metastability staircase: $n = 5$ on the circle, kuramoto_rescaled, $a = {args.a:g}$")
    save_figure(fig, args.out, dpi=130)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
