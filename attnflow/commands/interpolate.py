"""``attnflow interpolate``: run the Theorem 1.1 construction (arXiv 2411.04551) on a drawn instance."""

from __future__ import annotations

import argparse

from attnflow._base import validate
from attnflow._base.io import check_output_path, save_figure
from attnflow.commands._common import add_quiet_argument, progress_of, reproduce_line


def register(sub) -> None:
    p = sub.add_parser(
        "interpolate",
        help="steer N point clouds to N Dirac targets with one shared attention+perceptron schedule",
        description=(
            "Draw N overlapping clouds on S^(d-1) with a common hole and N distinct targets, build the "
            "three-phase schedule of Theorem 1.1 (arXiv 2411.04551: hole push, clustering, gated "
            "matching), simulate it and print W2 to each target, the switch count against d*N and "
            "||theta||_inf."
        ),
    )
    p.add_argument("--d", type=int, default=3, help="ambient dimension (>= 3)")
    p.add_argument("--N", type=int, default=3, help="number of measures")
    p.add_argument("--n", type=int, default=50, help="atoms per measure")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eps", type=float, default=1e-2, help="W2 accuracy")
    p.add_argument("--T", type=float, default=10.0, help="total time of the schedule")
    p.add_argument("--beta", type=float, default=1.0, help="temperature of the clustering layer")
    p.add_argument("--schedule", action="store_true", help="print the layer table")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="write the clouds before/after (d = 3) to PNG and W2 against time to PNG with suffix _w2")
    p.add_argument("--force", action="store_true", help="overwrite existing --plot files")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from attnflow.numerics.interpolation import construct_dirac_interpolation, draw_instance

    for name in ("d", "N", "n"):
        validate.integer(f"--{name}", getattr(args, name), minimum=1)
    if args.d < 3:
        raise ValueError(f"--d: Theorem 1.1 (arXiv 2411.04551) needs d >= 3, got {args.d}")
    if args.N < 2:
        raise ValueError(f"--N: the construction steers N >= 2 measures, got {args.N}")
    validate.integer("--seed", args.seed, minimum=0)
    validate.real("--eps", args.eps, lo=0.0, lo_strict=True)
    validate.real("--T", args.T, lo=0.0, lo_strict=True)
    validate.real("--beta", args.beta, lo=0.0)
    validate.memory("--n", 8.0 * 4 * args.N * args.n * args.d, f"lower --n (got {args.n}) or --N (got {args.N})")
    if args.plot:
        stem = args.plot[:-4] if args.plot.lower().endswith(".png") else args.plot
        for path in ([f"{stem}.png"] if args.d == 3 else []) + [f"{stem}_w2.png"]:
            check_output_path(path, option="--plot", force=args.force)
        from attnflow.plotting import require

        require("--plot")
    try:
        clouds, targets = draw_instance(args.d, args.N, args.n, seed=args.seed)
        res = construct_dirac_interpolation(
            clouds, targets, T=args.T, eps=args.eps, beta=args.beta, seed=args.seed,
            record_stride=10 if args.plot else None, progress=progress_of(args),
        )
    except ValueError as exc:
        msg = str(exc)
        for api in ("N", "n", "d", "seed", "eps", "T", "beta"):
            if msg.startswith(api + ":"):
                msg = "--" + msg
                break
        raise ValueError(msg) from None
    print(res.summary())
    print("reproduce: " + reproduce_line("interpolate", args, ["d", "N", "n", "seed", "eps", "T", "beta"]))
    if args.schedule:
        print(res.schedule.summary())
    if args.plot:
        stem = args.plot[:-4] if args.plot.lower().endswith(".png") else args.plot
        from attnflow.plotting import interpolation_clouds, interpolation_w2

        if args.d == 3:
            save_figure(interpolation_clouds(res, seed=args.seed), f"{stem}.png", dpi=110)
            print(f"wrote {stem}.png")
        save_figure(interpolation_w2(res, seed=args.seed), f"{stem}_w2.png", dpi=110)
        print(f"wrote {stem}_w2.png")
    return 0 if res.reached else 1
