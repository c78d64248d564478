"""``attnflow sweep SPEC.toml --out runs.zarr``: a resumable parameter sweep on Dask (see :mod:`attnflow.sweeps`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from attnflow.commands._common import add_quiet_argument, progress_of, reproduce_line

_EPILOG = """\
spec: a TOML file with one [sweep] table (read with tomllib; nothing is evaluated), e.g.
  [sweep]
  model = "sa"
  n = 32
  d = [8, 128]
  beta = { start = 0.5, stop = 8.0, num = 16 }
  seeds = 64
  t = { stop = 20.0, num = 41 }
  dt = 0.05
  observables = ["pair_fraction"]
  delta = 1e-3
Keys given a list or a range are dimensions of the result, in spec order (seed always; t last).
keys: {keys}
observables: {observables}
The store is written chunk by chunk (a grid cell x a block of seeds) by this process; rerunning
resumes (complete chunks are skipped); a store of another spec is refused unless --force.
"""


def register(sub) -> None:
    from attnflow.sweeps._spec import KEYS, OBSERVABLES

    p = sub.add_parser(
        "sweep",
        help="run a resumable parameter sweep on Dask into a zarr store",
        description="Run the grid of a sweep spec (model, n, d, beta, model parameters, seeds) on "
                    "dask.distributed and write the observables into a zarr store (xarray.open_zarr).",
        epilog=_EPILOG.replace("{keys}", ", ".join(KEYS)).replace("{observables}", ", ".join(OBSERVABLES)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", type=Path, help="the spec file (TOML with a [sweep] table)")
    p.add_argument("--out", type=Path, required=True,
                   help="the zarr store to write (a folder, created; its parent must exist; resumed if it exists)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running dask scheduler (default: an embedded LocalCluster, one process per core)")
    p.add_argument("--workers", type=int, default=None, help="worker processes of the embedded cluster (default: cores)")
    p.add_argument("--force", action="store_true", help="start over: replace an existing sweep store at --out")
    p.add_argument("--plot", type=Path, default=None, metavar="FIG.png",
                   help="after the sweep, draw its phase diagrams over (t, beta) with the equiangular prediction "
                        "(attnflow.plotting.sweep_figure; needs beta as a dimension and an observable with a time axis)")
    p.add_argument("--plot-observable", default="pair_fraction", metavar="NAME",
                   help="the observable --plot draws (default: pair_fraction)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar of chunks done (default: automatic, on a terminal after 2 s; "
                        "--no-progress or -q: none)")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from attnflow.sweeps import load_spec, sweep

    if args.plot is not None:
        _check_plot(args)
        from attnflow.plotting import require

        require("--plot")
        spec = load_spec(args.spec)  # the spec's own errors first, then the plot's
        if args.plot_observable not in spec.observables:
            raise ValueError(f"--plot-observable: {args.plot_observable!r} is not recorded by this spec "
                             f"(observables: {', '.join(spec.observables)})")
        from attnflow.sweeps import OBSERVABLES

        if not OBSERVABLES[args.plot_observable][0]:
            raise ValueError(f"--plot-observable: {args.plot_observable!r} has no time axis; a phase diagram "
                             "draws an observable over (t, beta), e.g. pair_fraction")
        if "beta" not in spec.dim_names:
            raise ValueError("--plot: a phase diagram needs beta as a dimension of the spec "
                             "(beta = {start, stop, num}); drop --plot or sweep beta")
    try:
        res = sweep(args.spec, args.out, scheduler=args.scheduler, force=args.force, progress=progress_of(args),
                    n_workers=args.workers)
    except ImportError as exc:
        raise ValueError(str(exc)) from None
    except RuntimeError as exc:  # a chunk failed (e.g. a non-finite state): the completed chunks are kept
        print(f"attnflow sweep: {exc}; completed chunks are kept, rerun to resume", file=sys.stderr)
        return 1
    print(f"{res.path}: {res.chunks} chunks ({res.computed} computed, {res.skipped} already complete) "
          f"in {res.wall_time:.1f} s")
    print("reproduce: " + reproduce_line("sweep", args, ["out", "plot", "plot_observable"], positional=[args.spec])
          + "   (the spec file fixes the result; --force starts over)")
    if args.plot is not None:
        from attnflow._base.io import save_figure
        from attnflow.plotting import sweep_figure

        fig = sweep_figure(res.open(), args.plot_observable)
        save_figure(fig, args.plot, dpi=130)
        print(f"wrote {args.plot}")
    return 0


def _check_plot(args) -> None:
    from attnflow._base.io import OutputExistsError, check_output_path

    try:
        check_output_path(args.plot, option="--plot", force=args.force, suffixes=(".png", ".pdf", ".svg"))
    except OutputExistsError:
        raise ValueError(f"--plot: {args.plot} exists; pass --force to overwrite it (--force also starts the sweep "
                         "over: it replaces every output) or choose another path") from None
