r"""Figures of simulated trajectories: one run, the pairwise inner products over time, ensembles (private)."""

from __future__ import annotations

import math

import numpy as np

from ._style import FONT, figure, run_title, style_axes

__all__ = ["trajectory_figure", "inner_product_histogram", "ensemble_figure"]

_T_LABEL = r"time $t$ (model units)"
_E_LABEL = r"interaction energy $E(t)$"


def _seed(traj, seed):
    return traj.params.get("start_seed") if seed is None else seed


def _dims(traj):
    """(n, d) of one system (d = None on the circle)."""
    shape = traj.states.shape[2:] if traj.batched else traj.states.shape[1:]
    if traj.manifold == "angles":
        return int(shape[0]), None
    return int(shape[0]), int(shape[1])


def _title(traj, seed, extra=()):
    n, d = _dims(traj)
    return run_title(traj.model, n=n, d=d, beta=float(traj.beta), seed=_seed(traj, seed),
                     extra=(f"method {traj.method}",) + tuple(extra))


def _pair_inner(traj):
    """Pairwise inner products :math:`\\langle u_i, u_j\\rangle`, i < j, per saved time: (k, P) (systems pooled)."""
    from attnflow.numerics.observables import directions

    u = directions(traj.states, traj.manifold)  # (k, [B,] n, c)
    g = np.einsum("...ic,...jc->...ij", u, u)
    n = g.shape[-1]
    iu = np.triu_indices(n, k=1)
    vals = g[..., iu[0], iu[1]]
    return np.clip(vals.reshape(len(traj.times), -1), -1.0, 1.0)


def trajectory_figure(traj, *, tol: float = 1e-3, seed: int | None = None):
    r"""Energy against time and a view of the tokens of one run (``attnflow simulate --plot``).

    Left: the interaction energy :math:`E(t)` (or, for a model without one, the cluster diameter
    :math:`\min_{i,j}\langle u_i, u_j\rangle`) with the time to cluster
    (:meth:`attnflow.numerics.Trajectory.time_to_cluster`, all :math:`1 - \langle u_i, u_j\rangle \le`
    ``tol``).  Right: for :math:`d = 3` the unit sphere with each token's path, its start and its end;
    on the circle the continuous angles :math:`\theta_i(t)`; otherwise :math:`\langle u_i(t), u_1(t)\rangle`.

    Parameters
    ----------
    traj : attnflow.numerics.Trajectory
        One system (a batch: use :func:`ensemble_figure`).
    tol : float
        Cluster tolerance on :math:`1 - \langle u_i, u_j\rangle`.
    seed : int, optional
        Seed of the start, shown in the title (default: ``traj.params["start_seed"]`` if recorded).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2312.10794 (clustering of self-attention dynamics; the energy is a Lyapunov function,
    ``derivations/energy.md``).
    """
    from attnflow.numerics.trajectory import min_pairwise_inner, unit_directions

    if traj.batched:
        raise ValueError("traj: holds a batch of systems; draw it with ensemble_figure(traj) or pick one with traj.system(b)")
    fig = figure((11.5, 4.8))
    d = traj.states.shape[-1] if traj.manifold != "angles" else 0
    ax1 = fig.add_subplot(1, 2, 1)
    if traj.energy is not None:
        ax1.plot(traj.times, traj.energy, color="C0", lw=1.8,
                 label=rf"$E(t)$, gain ${traj.energy[-1] - traj.energy[0]:+.4g}$")
        ylabel = _E_LABEL
    else:
        m = [min_pairwise_inner(unit_directions(s, traj.manifold)) for s in traj.states]
        ax1.plot(traj.times, m, color="C0", lw=1.8, label=r"$\min_{i,j}\langle u_i, u_j\rangle$ (no energy for this model)")
        ylabel = r"cluster diameter $\min_{i,j}\langle u_i(t), u_j(t)\rangle$"
    t_c = traj.time_to_cluster(tol)
    if not math.isnan(t_c):
        ax1.axvline(t_c, color="0.4", ls="--", lw=0.9, label=rf"time to one cluster $t^* = {t_c:.3g}$")
    style_axes(ax1, xlabel=_T_LABEL, ylabel=ylabel, title="energy" if traj.energy is not None else "cluster diameter")
    if traj.manifold == "angles":
        ax2 = fig.add_subplot(1, 2, 2)
        th = traj.states.reshape(len(traj.times), -1)
        # shift each path by a multiple of 2 pi so tokens that meet on the circle meet in the plot
        th = th - 2 * np.pi * np.round((th[-1] - th[-1, 0]) / (2 * np.pi))
        for i in range(th.shape[1]):
            ax2.plot(traj.times, th[:, i], lw=0.9, color="C0", alpha=0.7,
                     label=r"$\theta_i(t)$, one line per token" if i == 0 else None)
        style_axes(ax2, xlabel=_T_LABEL, ylabel=r"angle $\theta_i(t)$ (rad, shifted by $2\pi k_i$)",
                   title="tokens on the circle")
    elif d == 3:
        ax2 = fig.add_subplot(1, 2, 2, projection="3d")
        u0 = unit_directions(traj.states[0], traj.manifold)
        u1 = unit_directions(traj.states[-1], traj.manifold)
        s, c = np.mgrid[0: np.pi: 13j, 0: 2 * np.pi: 25j]
        ax2.plot_wireframe(np.sin(s) * np.cos(c), np.sin(s) * np.sin(c), np.cos(s), color="0.85", lw=0.4)
        stride = max(1, len(traj.times) // 200)
        paths = np.stack([unit_directions(x, traj.manifold) for x in traj.states[::stride]] + [u1])
        for i in range(paths.shape[1]):
            ax2.plot(*paths[:, i].T, color="C0", lw=0.6, alpha=0.5, label="paths $x_i(t)$" if i == 0 else None)
        ax2.scatter(*u0.T, s=12, color="C0", label=r"start $x_i(0)$")
        ax2.scatter(*u1.T, s=150, color="C3", marker="*",
                    label=rf"end $x_i({traj.times[-1]:g})$: {traj.cluster_count(tol)} cluster(s)")
        ax2.set_box_aspect((1, 1, 1))
        for setl, k in ((ax2.set_xlabel, 1), (ax2.set_ylabel, 2), (ax2.set_zlabel, 3)):
            setl(f"$x^{{({k})}}$", fontsize=FONT["label"])
        ax2.tick_params(labelsize=7)
        ax2.set_title(r"tokens on the sphere $S^2$", fontsize=FONT["title"])
        ax2.legend(loc="upper left", fontsize=FONT["legend"])
    else:
        ax2 = fig.add_subplot(1, 2, 2)
        u = np.stack([unit_directions(x, traj.manifold) for x in traj.states])
        g = np.einsum("tid,td->ti", u, u[:, 0])
        for i in range(g.shape[1]):
            ax2.plot(traj.times, g[:, i], lw=0.9, color="C0", alpha=0.6,
                     label=r"$\langle u_i(t), u_1(t)\rangle$, one line per token" if i == 0 else None)
        style_axes(ax2, xlabel=_T_LABEL, ylabel=r"inner product $\langle u_i(t), u_1(t)\rangle$",
                   title="inner products with token 1")
    fig.suptitle(_title(traj, seed), fontsize=FONT["title"] + 1)
    return fig


def inner_product_histogram(traj, *, bins: int = 60, snapshots: int = 4, seed: int | None = None):
    r"""The histogram of the pairwise inner products :math:`\langle u_i(t), u_j(t)\rangle` over time.

    Left: the density of the :math:`n(n-1)/2` values (pooled over the systems of a batch) at each
    saved time, as a heatmap over :math:`(t, \langle u_i, u_j\rangle)` with a logarithmic colour
    scale; clustering moves the mass to :math:`\langle u_i, u_j\rangle = 1`.  Right: the histograms at
    ``snapshots`` equally spaced saved times.

    Parameters
    ----------
    traj : attnflow.numerics.Trajectory
        One system or a batch.
    bins : int
        Bins on [-1, 1].
    snapshots : int
        Times drawn as histograms on the right.
    seed : int, optional
        Shown in the title (default: ``traj.params["start_seed"]`` if recorded).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2312.10794 (the inner products concentrate at 1 as tokens cluster); arXiv:2512.01868.
    """
    from matplotlib.colors import LogNorm

    if not (isinstance(bins, int) and bins >= 2):
        raise ValueError(f"bins: an integer >= 2, got {bins!r}")
    if not (isinstance(snapshots, int) and snapshots >= 1):
        raise ValueError(f"snapshots: an integer >= 1, got {snapshots!r}")
    vals = _pair_inner(traj)
    if vals.shape[1] == 0:
        raise ValueError("traj: needs n >= 2 tokens for pairwise inner products")
    edges = np.linspace(-1.0, 1.0, bins + 1)
    dens = np.stack([np.histogram(v, bins=edges, density=True)[0] for v in vals])  # (k, bins)
    fig = figure((11.5, 4.6))
    ax = fig.add_subplot(1, 2, 1)
    pos = dens[dens > 0]
    norm = LogNorm(vmin=max(pos.min(), 1e-3), vmax=pos.max()) if pos.size else None
    mesh = ax.pcolormesh(traj.times, 0.5 * (edges[1:] + edges[:-1]), np.where(dens > 0, dens, np.nan).T,
                         shading="nearest", cmap="viridis", norm=norm, rasterized=True)
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(r"density of $\langle u_i, u_j\rangle$ (log scale)", fontsize=FONT["label"])
    style_axes(ax, xlabel=_T_LABEL, ylabel=r"pairwise inner product $\langle u_i(t), u_j(t)\rangle$",
               title="histogram over time", grid=False)
    bx = fig.add_subplot(1, 2, 2)
    idx = np.unique(np.rint(np.linspace(0, len(traj.times) - 1, snapshots)).astype(int))
    cmap = _cmap("viridis")
    for k, i in enumerate(idx):
        bx.stairs(dens[i], edges, color=cmap(k / max(1, len(idx) - 1) * 0.9), lw=1.6,
                  label=f"$t = {traj.times[i]:.3g}$")
    bx.set_yscale("log")
    style_axes(bx, xlabel=r"pairwise inner product $\langle u_i, u_j\rangle$", ylabel="density",
               title="histograms at saved times", legend_loc="upper left")
    extra = (f"{traj.n_systems} systems pooled",) if traj.batched else ()
    fig.suptitle(_title(traj, seed, extra), fontsize=FONT["title"] + 1)
    return fig


def ensemble_figure(traj, *, tol: float = 1e-3, seed: int | None = None, max_lines: int = 50):
    r"""Energy and cluster count over time for an ensemble of independent systems.

    Top: each system's energy :math:`E_b(t)` (thin lines, at most ``max_lines``) with the ensemble
    mean and the band mean :math:`\pm` one standard deviation across systems.  Bottom: the number of
    clusters (single linkage at :math:`1 - \langle u_i, u_j\rangle \le` ``tol``,
    :func:`attnflow.numerics.observables.cluster_count`): the mean with the range [min, max] over
    systems.

    Parameters
    ----------
    traj : attnflow.numerics.Trajectory
        A batch (states ``(k, B, n, d)`` or ``(k, B, n)``); one system is drawn as an ensemble of 1.
    tol : float
        Cluster tolerance.
    seed : int, optional
        Shown in the title.
    max_lines : int
        Systems drawn individually.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2512.01868 (ensembles of uniform starts); arXiv:2312.10794.
    """
    from attnflow.numerics.observables import cluster_count, directions

    u = directions(traj.states, traj.manifold)
    if not traj.batched:
        u = u[:, None]
    counts = cluster_count(u, delta=tol).astype(np.float64)  # (k, B)
    B = counts.shape[1]
    t = traj.times
    e, note = _ensemble_energy(traj)
    fig = figure((8.0, 6.6))
    ax = fig.add_subplot(2, 1, 1)
    if e is not None:
        for b in range(min(B, max_lines)):
            ax.plot(t, e[:, b], color="C0", lw=0.5, alpha=0.35,
                    label=f"one system ({min(B, max_lines)} of {B} drawn)" if b == 0 else None)
        mean, sd = e.mean(axis=1), e.std(axis=1)
        ax.plot(t, mean, color="C3", lw=2.0, label=rf"mean over {B} systems")
        if B > 1:
            ax.fill_between(t, mean - sd, mean + sd, color="C3", alpha=0.18, label=r"mean $\pm$ 1 std")
        style_axes(ax, ylabel=_E_LABEL, title="energy" + note)
    else:
        ax.text(0.5, 0.5, f"no energy: {traj.energy_note or 'none'}", ha="center", va="center",
                transform=ax.transAxes, fontsize=FONT["label"])
        ax.set_axis_off()
    bx = fig.add_subplot(2, 1, 2, sharex=ax if e is not None else None)
    bx.plot(t, counts.mean(axis=1), color="C2", lw=2.0, drawstyle="steps-post", label=f"mean over {B} systems")
    if B > 1:
        bx.fill_between(t, counts.min(axis=1), counts.max(axis=1), step="post", color="C2", alpha=0.2,
                        label="range [min, max] over systems")
    from matplotlib.ticker import MaxNLocator

    bx.yaxis.set_major_locator(MaxNLocator(integer=True))
    style_axes(bx, xlabel=_T_LABEL, ylabel=rf"clusters ($1 - \langle u_i, u_j\rangle \leq {tol:g}$)",
               title="cluster count")
    fig.suptitle(_title(traj, seed, (f"{B} systems",)), fontsize=FONT["title"] + 1)
    return fig


def _ensemble_energy(traj):
    """The energies (k, B) of a trajectory: recorded, or evaluated on the saved states
    (:func:`attnflow.numerics.observables.energy`) when the run did not record them; None if the
    model has none."""
    if traj.energy is not None:
        return (traj.energy if traj.batched else traj.energy[:, None]), ""
    from attnflow.numerics.fields import model_spec
    from attnflow.numerics.observables import energy

    try:
        names = set(model_spec(traj.model).param_names)
        params = {k: v for k, v in traj.params.items() if k in names}
        e = energy(traj.states, model=traj.model, beta=traj.beta, **params)
    except (ValueError, TypeError, AttributeError):
        return None, ""
    e = np.asarray(e, dtype=np.float64)
    return (e if traj.batched else e[:, None]), " (evaluated on the saved states)"


def _cmap(name: str):
    from matplotlib import colormaps

    return colormaps[name]
