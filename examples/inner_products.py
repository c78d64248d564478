r"""Tokens cluster: the histogram of the pairwise inner products :math:`\langle x_i(t), x_j(t)\rangle`
over time (arXiv:2312.10794, the histograms of the inner products of a trained Transformer's tokens
across layers, here for the SA dynamics itself): the mass moves to :math:`\langle x_i, x_j\rangle = 1`.

Run:  python examples/inner_products.py --out figures/      (a few seconds)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import figure_path, out_folder  # noqa: E402

from attnflow._base.io import save_figure  # noqa: E402
from attnflow.numerics import random_sphere, simulate  # noqa: E402
from attnflow.plotting import inner_product_histogram  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    out_folder(p)
    p.add_argument("--n", type=int, default=128)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--t-final", type=float, default=8.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    path = figure_path(args.out, "inner_products.png", args.force)
    tr = simulate("sa", random_sphere(args.n, args.d, seed=args.seed), beta=args.beta, t_final=args.t_final,
                  dt=0.05, save_every=4, energy=False)
    print(f"clusters at t = {args.t_final:g}: {tr.cluster_count()}")
    save_figure(inner_product_histogram(tr, seed=args.seed, snapshots=5), path, dpi=120)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
