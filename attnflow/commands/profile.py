"""``attnflow profile``: the lost-in-the-middle retrieval profile in closed form.

Prints the recency threshold t_crit, the smallness condition of the U-shape theorem (both sides),
the location of the minimum, the interval-arithmetic certification verdict and the end values of
S_t; optionally draws the profile (``--plot``) or the time sweep and the t_crit(beta) curve
(``--sweep``).  ``--particles N --prompts P [--seed S]`` adds Monte Carlo estimates from simulated
causal ALiBi particles (printed beside the closed form; points with error bars in ``--plot``).
Theory: arXiv 2605.09213; ``derivations/retrieval.md``.

The closed-form report is built by :func:`report` and the figures by :func:`plot_profile` /
:func:`plot_sweep` (:func:`attnflow.plotting.retrieval_profile` / ``retrieval_sweep``), so a Monte Carlo section (particles) can be added as one more step of
:func:`run` without touching the others.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from attnflow._base import validate
from attnflow._base.io import check_output_path, save_figure
from attnflow.commands._common import add_quiet_argument, progress_of, reproduce_line

SWEEP_TIMES = (0.25, 0.5, 1.0, 1.5, 2.0, 5.0)
MC_PHASES = 8  # equispaced phases of the fact per prompt (variance reduction)
MC_MODES = 6  # Fourier modes estimated by --particles (omega_n a_n < 1e-5 beyond for beta <= 2, M <= 16)
MC_POSITIONS = 9  # fact positions simulated by --particles
SWEEP_BETAS = (0.1, 4.8)


def register(sub) -> None:
    p = sub.add_parser(
        "profile",
        help="closed-form retrieval profile (lost in the middle): t_crit, minimum, U-shape certificate",
        description=(
            "Evaluate the retrieval profile S_t(sigma0) of causal ALiBi attention on the circle "
            "(arXiv 2605.09213): recency threshold t_crit, smallness condition, location of the "
            "minimum, interval-arithmetic certification of the U-shape, end values. --plot draws the "
            "profile; --sweep draws the time sweep and the t_crit(beta) curve."
        ),
    )
    p.add_argument("--beta", type=float, default=1.0, help="inverse temperature beta > 0 (default 1)")
    p.add_argument("--lam", type=float, default=1.0, help="ALiBi slope lambda >= 0 (default 1)")
    p.add_argument("--M", type=float, default=8.0, help="vocabulary size M > 0 (default 8)")
    p.add_argument("--t", type=float, default=1.5, help="time (depth) t >= 0 (default 1.5)")
    p.add_argument("--modes", type=int, default=20, help="Fourier modes in the profile (default 20)")
    p.add_argument("--plot", type=Path, default=None, help="write a PNG (the profile, or the sweep with --sweep)")
    p.add_argument("--sweep", action="store_true",
                   help=f"draw the time sweep t in {SWEEP_TIMES} and t_crit(beta), beta in [0.1, 4.8] "
                        "(into --plot, default retrieval_sweep.png)")
    p.add_argument("--force", action="store_true", help="overwrite existing plot files")
    p.add_argument("--particles", type=int, default=None, metavar="N",
                   help="also simulate N-token causal ALiBi prompts (RK4) and print Monte Carlo estimates of "
                        "S_t and the soft accuracy beside the closed form (points with error bars in --plot)")
    p.add_argument("--prompts", type=int, default=200,
                   help="independent prompts per fact position for --particles (default 200; each simulated "
                        f"at {MC_PHASES} phases)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the Monte Carlo prompts (default 0)")
    p.add_argument("--dt", type=float, default=0.0025, help="RK4 step of --particles (default 0.0025, as the authors)")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def _validate(args) -> None:
    from attnflow.numerics.retrieval._closed import check_params

    for name, value in (("beta", args.beta), ("lam", args.lam), ("M", args.M), ("t", args.t)):
        validate.real(f"--{name}", value)
    if args.beta <= 0:
        raise ValueError(f"--beta: the U-shape theorem needs beta > 0, got {args.beta}")
    if args.lam < 0:
        raise ValueError(f"--lam: the ALiBi slope must be >= 0, got {args.lam}")
    if args.M <= 0:
        raise ValueError(f"--M: the vocabulary size must be > 0, got {args.M}")
    if args.t < 0:
        raise ValueError(f"--t: time must be >= 0, got {args.t}")
    if args.modes < 1:
        raise ValueError(f"--modes: need at least 1 Fourier mode, got {args.modes}")
    validate.memory("--modes", 8.0 * 800 * args.modes * 4, f"use fewer Fourier modes (got {args.modes}; 20 is plenty)")
    check_params(beta=args.beta, lam=args.lam, t=args.t, M=args.M, modes=args.modes)
    if getattr(args, "particles", None) is not None:
        if args.particles < 2:
            raise ValueError(f"--particles: the prompt length N must be >= 2, got {args.particles}")
        if args.prompts < 2:
            raise ValueError(f"--prompts: need >= 2 prompts for a standard error, got {args.prompts}")
        validate.integer("--seed", args.seed, minimum=0)
        if not (math.isfinite(args.dt) and args.dt > 0):
            raise ValueError(f"--dt: the RK4 step must be > 0, got {args.dt}")
        # one RK4 state per simulated prompt: (positions x phases x prompts) rows of N angles
        validate.memory("--particles/--prompts", 8.0 * 8 * MC_POSITIONS * MC_PHASES * args.prompts * args.particles,
                        f"lower --particles (got {args.particles}) or --prompts (got {args.prompts})")


def _output_path(path: Path, force: bool) -> Path:
    return check_output_path(path, option="--plot", force=force, suffixes=(".png",))


def report(*, beta, lam, t, M, modes) -> list[str]:
    """The closed-form report as lines of text."""
    from attnflow.numerics import retrieval as R

    lines = [f"retrieval profile S_t(sigma0): beta={beta:g} lam={lam:g} M={M:g} t={t:g} modes={modes}"]
    tc = R.t_crit(beta=beta, lam=lam, M=M, modes=modes)
    rec = "recency (S_t'(1^-) > 0)" if t < tc else "no recency (S_t'(1^-) <= 0)"
    lines.append(f"  t_crit          = {tc:.6g}   (truncated profile; t = {t:g} -> {rec})")
    sc = R.smallness_condition(beta=beta, lam=lam, t=t)
    lines.append(f"  smallness       : t sup_n a_n = {sc.lhs:.6g} {'<=' if sc.holds else '>'} "
                 f"{sc.rhs:.6g} = min(3 - sqrt 3, 2(1 - e^-lam))  -> {'holds' if sc.holds else 'fails'} "
                 f"(sup at n = {sc.argmax_n}; holds for t <= {sc.t_bound:.6g})")
    am = R.argmin(beta=beta, lam=lam, t=t, M=M, modes=modes)
    if am.interior:
        lines.append(f"  minimum         : interior, sigma0* = {am.sigma0:.8g}, S_t(sigma0*) = {am.value:.8g}")
    else:
        lines.append(f"  minimum         : no interior minimum ({am.reason})")
    cert = R.certify_ushape(beta=beta, lam=lam, t=t, M=M, modes=modes)
    lines.append(f"  certification   : {cert.verdict} -- {cert.reason}")
    if cert.bracket is not None:
        lines.append(f"                    minimum certified in sigma0 in [{cert.bracket[0]:.8g}, {cert.bracket[1]:.8g}]"
                     f" (S_t' < 0 proved analytically for sigma0 <= {cert.sigma_tail:.3g}; {cert.pieces} pieces)")
    small = np.array([1e-3, 1e-6])
    S_small = R.profile(small, beta=beta, lam=lam, t=t, M=M, modes=modes)
    S_one = float(R.profile(1.0, beta=beta, lam=lam, t=t, M=M, modes=modes))
    kap = 1.0 if lam == 0 else lam / (-math.expm1(-lam))
    a = R.fourier_rates(beta, modes)
    w = R.mode_weights(M, modes)
    lines.append(f"  end values      : S_t(1e-3) = {S_small[0]:.6g}, S_t(1e-6) = {S_small[1]:.6g} (primacy, "
                 f"diverges like exp(2 sqrt(a t log 1/sigma0))); S_t(1) = {S_one:.8g} "
                 f"(= lam t/(1 - e^-lam) sum w_n a_n = {kap * t * float(np.dot(w, a)):.8g})")
    return lines


def particle_positions(N: int) -> np.ndarray:
    """Fact positions sigma0 = i/N, i on an even grid of 1..N-1 (at most MC_POSITIONS of them)."""
    i = np.unique(np.rint(np.linspace(1, N - 1, min(MC_POSITIONS, N - 1))).astype(int))
    return i / N


def particles(*, beta, lam, t, M, N, prompts, seed, dt, progress=None):
    """Monte Carlo estimates of S_t and of the soft accuracy on particle_positions(N).

    Returns ``(lines, mc)`` where ``mc`` holds sigma0, the estimate of S_t = sum_n omega_n
    N E[e^{in(theta_N(t) - theta_i*(0))}] (modes 1..MC_MODES) with its standard error, and the
    :class:`attnflow.numerics.retrieval.ParticleEstimate`.
    """
    from attnflow.numerics import retrieval as R

    s = particle_positions(N)
    r = R.mode_correlation_mc(s, beta=beta, lam=lam, t=t, N=N, prompts=prompts, modes=MC_MODES, phases=MC_PHASES,
                              seed=seed, M=M, dt=dt, progress=progress)
    w = R.mode_weights(M, MC_MODES)
    S_mc = r.estimate @ w
    S_se = (r.samples.real @ w).std(axis=1, ddof=1) / math.sqrt(prompts)
    S_cf = R.profile(s, beta=beta, lam=lam, t=t, M=M, modes=20)
    lines = [f"particles: N={N} tokens, {prompts} prompts x {r.phases} phases per position ({r.rows} RK4 "
             f"trajectories, dt={dt:g}, seed={seed}) in {r.seconds:.1f} s",
             "  sigma0   i*   S_t particles (+- se)   S_t closed form   A_N particles (+- se)      A_N first order"]
    for k in range(s.size):
        lines.append(f"  {s[k]:6.4f} {r.i_star[k]:4d}   {S_mc[k]:9.5f} +- {S_se[k]:7.5f}   {S_cf[k]:15.5f}   "
                     f"{r.soft_accuracy[k]:.6f} +- {r.soft_accuracy_stderr[k]:.6f}   {r.soft_accuracy_closed[k]:.6f}")
    lines.append(f"  (S_t particles = sum_n omega_n N E[e^(in(theta_N(t) - theta_i*(0)))], n = 1..{MC_MODES}; the "
                 f"closed form is the N -> infinity limit; A_N baseline sqrt(pi/2)/M = {math.sqrt(math.pi / 2) / M:.6f})")
    return lines, {"sigma0": s, "S": S_mc, "se": S_se, "estimate": r, "seed": seed}


def plot_profile(path: Path, *, beta, lam, t, M, modes, mc=None) -> Path:
    """Write :func:`attnflow.plotting.retrieval_profile` (with the Monte Carlo points ``mc``) to ``path``."""
    from attnflow.plotting import retrieval_profile

    return save_figure(retrieval_profile(beta=beta, lam=lam, t=t, M=M, modes=modes, particles=mc), path, dpi=130)


def plot_sweep(path: Path, *, beta, lam, M, modes, progress=None) -> Path:
    """Write :func:`attnflow.plotting.retrieval_sweep` to ``path``."""
    from attnflow.plotting import retrieval_sweep

    fig = retrieval_sweep(beta=beta, lam=lam, M=M, modes=modes, times=SWEEP_TIMES, betas=SWEEP_BETAS, progress=progress)
    return save_figure(fig, path, dpi=130)


def run(args: argparse.Namespace) -> int:
    _validate(args)
    params = dict(beta=args.beta, lam=args.lam, t=args.t, M=args.M, modes=args.modes)
    if args.sweep:
        path = _output_path(args.plot if args.plot is not None else Path("retrieval_sweep.png"), args.force)
    else:
        path = _output_path(args.plot, args.force) if args.plot is not None else None
    if path is not None:
        from attnflow.plotting import require

        require("--plot")
    for line in report(**params):
        print(line)
    mc = None
    if args.particles is not None:
        lines, mc = particles(beta=args.beta, lam=args.lam, t=args.t, M=args.M, N=args.particles,
                              prompts=args.prompts, seed=args.seed, dt=args.dt, progress=progress_of(args))
        for line in lines:
            print(line)
    options = ["beta", "lam", "M", "t", "modes", "sweep"]
    if args.particles is not None:
        options += ["particles", "prompts", "seed", "dt"]
    print("reproduce: " + reproduce_line("profile", args, options))
    if args.sweep:
        plot_sweep(path, beta=args.beta, lam=args.lam, M=args.M, modes=args.modes, progress=progress_of(args))
        print(f"wrote {path}")
    elif path is not None:
        plot_profile(path, **params, mc=mc)
        print(f"wrote {path}")
    return 0
