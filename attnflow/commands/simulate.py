"""``attnflow simulate``: run one particle system from a seeded start and summarise it.

Prints the final cluster count (with its tolerance), the interaction energy at the start and end and
the gain, the time to cluster, the number of steps and the wall time; optionally writes the
trajectory (``--save out.npz``) and a figure (``--plot out.png``: energy against time and a view of
the trajectory).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from attnflow._base import validate
from attnflow._base.io import check_output_path, save_figure
from attnflow.commands._common import add_quiet_argument, progress_of, reproduce_line

CIRCLE_START_HELP = "circle models (kuramoto, causal_alibi) start from iid uniform angles"

_EPILOG = """\
models (attnflow.numerics.fields.MODELS, one declaration each in attnflow.symbolic.models):
{models}
  Circle models take angles: --d is ignored and the start is iid uniform on the circle.
  Euclidean models start from unit vectors (radii 1).
matrix parameters: models that can draw their matrices ({drawable}) take them as iid N(0, 1/d)
  matrices from --qkv-seed N (with --heads H for heads; --symmetric for the gradient-flow case,
  e.g. Q = I, K = V = V^T, or symmetric heads). Explicit matrices: use the Python API
  attnflow.numerics.simulate(..., Q=..., K=..., V=...).
other parameters: --param NAME=VALUE (repeatable; a number or a plain word, never evaluated),
  e.g. --param alpha=2 (ngpt), --param normalization=per_head (multihead).
clustering: tokens i, j are linked when 1 - <u_i, u_j> <= --tol (u_i the unit direction;
  (cos t_i, sin t_i) for angles); time to cluster is the first saved time with all pairs linked.
"""


def _epilog() -> str:
    from attnflow.numerics.fields import MODELS

    lines = []
    for name, spec in MODELS.items():
        params = ", ".join(spec.param_names)
        lines.append(f"  {name:<13} {spec.manifold:<9} {('params: ' + params) if params else ''}".rstrip())
    drawable = ", ".join(n for n, s in MODELS.items() if s.draw_params is not None) or "none"
    return _EPILOG.format(models="\n".join(lines), drawable=drawable)


def register(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="integrate a particle system and summarise clustering and energy",
        description=(
            "Integrate one attention particle system from a seeded random or equiangular start and "
            "print the final cluster count, energy gain and time to cluster. Default: RK4 with "
            "--dt 0.01 (fixed step, 4th order, equally spaced saves); --rtol selects the adaptive "
            "Dormand-Prince 5(4) integrator."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", default="sa", help="model name (default: sa; the list below)")
    p.add_argument("--n", type=int, default=32, help="number of tokens (default: 32)")
    p.add_argument("--d", type=int, default=3, help="dimension of the sphere's ambient space (default: 3)")
    p.add_argument("--beta", type=float, default=1.0, help="inverse temperature (default: 1)")
    p.add_argument("--t-final", type=float, default=20.0, help="final time (default: 20)")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--dt", type=float, default=None, help="fixed step (default 0.01 unless --rtol)")
    step.add_argument("--rtol", type=float, default=None, help="tolerance: use the adaptive integrator")
    p.add_argument("--method", choices=["euler", "rk4", "lie_euler", "adaptive", "authors"], default=None,
                   help="integrator (default: rk4 with --dt, adaptive with --rtol; 'authors': the papers' "
                        "scripts' unprojected step + normalisation, first order, a different clock)")
    p.add_argument("--save-every", type=int, default=1, help="save every k-th step (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random start (default: 0)")
    p.add_argument("--start", choices=["random", "equiangular"], default="random",
                   help="iid uniform start, or equiangular <x_i,x_j> = --rho (needs d >= n); " + CIRCLE_START_HELP)
    p.add_argument("--rho", type=float, default=0.1, help="inner product of the equiangular start (default: 0.1)")
    p.add_argument("--lam", type=float, default=None, help="ALiBi slope lambda >= 0 (causal_alibi; default: model's)")
    p.add_argument("--qkv-seed", type=int, default=None, help="draw Q, K, V (qkv) or M (multihead) from this seed")
    p.add_argument("--heads", type=int, default=None, help="number of heads H for multihead with --qkv-seed")
    p.add_argument("--symmetric", action="store_true", help="with --qkv-seed: gradient-flow matrices")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="extra model parameter: a number or a plain word (repeatable)")
    p.add_argument("--tol", type=float, default=1e-3, help="cluster tolerance on 1 - <u_i,u_j> (default: 1e-3)")
    p.add_argument("--save", type=Path, default=None, help="write the trajectory to this .npz file")
    p.add_argument("--plot", type=Path, default=None, help="write an energy/trajectory figure (PNG)")
    p.add_argument("--force", action="store_true", help="overwrite existing --save/--plot files")
    p.add_argument("--progress", action="store_true", default=None,
                   help="always show a progress bar (default: automatic, on a terminal after 2 s)")
    add_quiet_argument(p)
    p.set_defaults(func=run)


#: The options that change what simulate computes or prints (the reproduce line repeats them all).
_RESULT_OPTIONS = ["model", "n", "d", "beta", "t_final", "dt", "rtol", "method", "save_every", "seed", "start", "rho",
                   "lam", "qkv_seed", "heads", "symmetric", "param", "tol"]


def _parse_params(items: list[str]) -> dict[str, float | str]:
    """NAME=VALUE pairs: VALUE a number (float) or a plain word (kept as a string); never evaluated."""
    out: dict[str, float | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"--param: expected NAME=VALUE with a Python identifier NAME, got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                raise ValueError(f"--param: {name}={value!r} is neither a number nor a plain word") from None
            out[name] = value
    return out


def _initial_state(args, manifold: str):
    from attnflow.numerics.initial import equiangular, random_angles, random_sphere

    validate.integer("--n", args.n, minimum=1)
    if manifold == "angles":
        if args.start != "random":
            raise ValueError("--start: circle models start from iid uniform angles; use --start random")
        return random_angles(args.n, args.seed)
    validate.integer("--d", args.d, minimum=2)
    if args.start == "equiangular":
        if args.n < 2:
            raise ValueError("--n: an equiangular start needs n >= 2")
        try:
            return equiangular(args.n, args.d, args.rho)
        except ValueError as exc:
            if str(exc).startswith("rho:"):
                raise ValueError(f"--rho:{str(exc)[4:]}") from None
            raise ValueError(f"--start equiangular: {exc}; increase --d or use --start random") from None
    return random_sphere(args.n, args.d, args.seed)


def _check_output(path: Path | None, flag: str, force: bool) -> None:
    if path is None:
        return
    suffixes = (".npz",) if flag == "--save" else (".png", ".pdf", ".svg")
    check_output_path(path, option=flag, force=force, suffixes=suffixes)


# API argument names -> command-line spelling, for error messages
_ARG_NAMES = {"beta:": "--beta:", "t_final:": "--t-final:", "dt:": "--dt:", "rtol:": "--rtol:",
              "save_every:": "--save-every:", "seed:": "--seed:"}


def _cli_message(exc: ValueError) -> str:
    msg = str(exc)
    for api, cli in _ARG_NAMES.items():
        if msg.startswith(api):
            return cli + msg[len(api):]
    return msg


def _check_size(args, dt) -> None:
    """Refuse runs whose state or saved grid would not fit in memory, before allocating anything."""
    n, d = args.n, max(args.d, 1)
    validate.memory("--n", 8.0 * n * d * 8, f"lower --n (got {n}) or --d (got {d})")
    if dt is not None and math.isfinite(args.t_final) and args.t_final >= 0 and math.isfinite(dt) and dt > 0:
        steps = math.ceil(args.t_final / dt)
        if steps > 2**52:
            raise ValueError(f"--dt: {dt:g} is below the float64 resolution of --t-final {args.t_final:g} "
                             f"({steps:.3g} steps); raise --dt")
        saved = steps // max(args.save_every, 1) + 2
        validate.memory("--t-final/--dt/--save-every", 8.0 * saved * (n * d + 2),
                        f"the saved grid has {saved:.3g} states of {n}x{d}: raise --save-every "
                        f"(e.g. --save-every {max(1, steps // 10000)}) or --dt, or lower --t-final")


def run(args: argparse.Namespace) -> int:
    import time

    from attnflow.numerics.fields import MODELS, model_spec
    from attnflow.numerics.simulate import simulate

    try:
        spec = model_spec(args.model)
    except ValueError as exc:
        raise ValueError(f"--{exc}") from None
    if not (math.isfinite(args.tol) and 0 < args.tol < 2):
        raise ValueError(f"--tol: must lie in (0, 2), got {args.tol}")
    validate.integer("--seed", args.seed, minimum=0)
    validate.integer("--save-every", args.save_every, minimum=1)
    if args.qkv_seed is not None:
        validate.integer("--qkv-seed", args.qkv_seed, minimum=0)
    validate.real("--beta", args.beta)
    validate.real("--t-final", args.t_final, lo=0.0)
    for name, value in (("--dt", args.dt), ("--rtol", args.rtol)):
        if value is not None:
            validate.real(name, value, lo=0.0, lo_strict=True)
    _check_output(args.save, "--save", args.force)
    _check_output(args.plot, "--plot", args.force)
    if args.plot is not None:
        from attnflow.plotting import require

        require("--plot")
    dt, rtol = args.dt, args.rtol
    if dt is None and rtol is None:
        if args.method == "adaptive":
            raise ValueError("--rtol: --method adaptive needs --rtol (e.g. 1e-8)")
        dt = 0.01
    if args.method is not None and args.method != "adaptive" and rtol is not None:
        raise ValueError(f"--rtol: --method {args.method} is fixed-step; use --dt, or --method adaptive")
    if args.method == "adaptive" and dt is not None:
        raise ValueError("--dt: --method adaptive takes --rtol, not --dt")

    validate.integer("--n", args.n, minimum=1)
    _check_size(args, dt)
    params = _parse_params(args.param)
    unknown = sorted(set(params) - set(spec.param_names))
    if unknown:
        known = ", ".join(spec.param_names) or "none"
        raise ValueError(f"--param: model {args.model} has no parameter {', '.join(unknown)} (its parameters: {known})")
    if args.lam is not None:
        params["lam"] = args.lam
    x0 = _initial_state(args, spec.manifold)
    if spec.draw_params is not None:
        heads = any(len(m.shape) == 3 for m in spec.matrix_params)  # a (H, d, d) parameter: needs --heads
        if args.qkv_seed is None:
            raise ValueError(
                f"--qkv-seed: model {args.model} needs matrices; pass --qkv-seed N"
                + (" and --heads H" if heads else "")
                + " (explicit matrices: use the Python API)"
            )
        options = {"symmetric": args.symmetric}
        if heads:
            if args.heads is None or args.heads < 1:
                raise ValueError(f"--heads: {args.model} needs --heads H >= 1")
            options["heads"] = args.heads
        params.update(spec.draw_params(args.d, args.qkv_seed, **options))
    elif args.qkv_seed is not None or args.heads is not None:
        drawable = ", ".join(n for n, s in MODELS.items() if s.draw_params is not None)
        raise ValueError(f"--qkv-seed: only for the models that draw matrices ({drawable}), not {args.model}")

    t0 = time.perf_counter()
    try:
        traj = simulate(
            args.model, x0, beta=args.beta, t_final=args.t_final, dt=dt, rtol=rtol, method=args.method,
            save_every=args.save_every, progress=progress_of(args), **params,
        )
    except ValueError as exc:
        raise ValueError(_cli_message(exc)) from None
    wall = time.perf_counter() - t0

    n_clusters = traj.cluster_count(args.tol)
    t_cluster = traj.time_to_cluster(args.tol)
    shape = "x".join(str(s) for s in x0.shape)
    start = f"iid uniform (seed {args.seed})" if args.start == "random" else f"equiangular rho={args.rho:g}"
    print(f"model {args.model} ({spec.manifold}), state {shape}, beta={args.beta:g}, t_final={args.t_final:g}")
    print(f"start: {start}" + (f", matrices from --qkv-seed {args.qkv_seed}" if args.qkv_seed is not None else ""))
    how = f"dt={dt:g}" if traj.method != "adaptive" else f"rtol={rtol:g}, rejected {traj.rejected}"
    print(f"method {traj.method} ({how}): {traj.steps} steps, {traj.nfev} field evaluations, wall time {wall:.2f} s")
    print(f"final cluster count: {n_clusters} (tol {args.tol:g} on 1 - <u_i,u_j>)")
    if traj.energy is not None:
        e0, e1 = traj.energy[0], traj.energy[-1]
        print(f"energy: start {e0:.10g}, end {e1:.10g}, gain {e1 - e0:+.6g}")
    else:
        print(f"energy: {traj.energy_note}")
    if math.isnan(t_cluster):
        print(f"time to cluster (all <u_i,u_j> >= 1 - {args.tol:g}): not reached by t = {traj.times[-1]:g}")
    else:
        print(f"time to cluster (all <u_i,u_j> >= 1 - {args.tol:g}): {t_cluster:.6g} (on the saved-time grid)")
    args.dt = dt  # the step actually used (the default made explicit)
    print("reproduce: " + reproduce_line("simulate", args, _RESULT_OPTIONS))
    if args.save is not None:
        traj.params["start"] = args.start
        traj.params["start_seed"] = args.seed
        traj.save_npz(args.save, force=args.force)
        print(f"wrote {args.save}")
    if args.plot is not None:
        plot_trajectory(traj, args.plot, tol=args.tol, seed=args.seed if args.start == "random" else None)
        print(f"wrote {args.plot}")
    return 0


def plot_trajectory(traj, path: Path, *, tol: float = 1e-3, seed: int | None = None) -> Path:
    """Write :func:`attnflow.plotting.trajectory_figure` of ``traj`` to ``path`` (atomically)."""
    from attnflow.plotting import trajectory_figure

    return save_figure(trajectory_figure(traj, tol=tol, seed=seed), path, dpi=110)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run as: attnflow simulate ...")
