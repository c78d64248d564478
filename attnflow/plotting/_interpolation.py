r"""Figures of the measure-to-measure interpolation construction (private)."""

from __future__ import annotations

import numpy as np

from ._style import FONT, figure, style_axes

__all__ = ["interpolation_clouds", "interpolation_w2"]


def _sphere(ax):
    u, v = np.mgrid[0: 2 * np.pi: 40j, 0: np.pi: 20j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", lw=0.4)
    ax.set_box_aspect((1, 1, 1))
    for setl, k in ((ax.set_xlabel, 1), (ax.set_ylabel, 2), (ax.set_zlabel, 3)):
        setl(f"$x^{{({k})}}$", fontsize=FONT["label"])
    ax.tick_params(labelsize=7)


def _title(result, seed):
    N, n = len(result.initial), result.initial[0].shape[0]
    d = result.targets.shape[1]
    s = f"interpolation of $N = {N}$ measures of $n = {n}$ atoms, $d = {d}$"
    return s + (f", seed {seed}" if seed is not None else "")


def interpolation_clouds(result, *, seed: int | None = None):
    r"""The N clouds on :math:`S^2` before and after the shared schedule, with their Dirac targets.

    One colour per measure; stars are the targets :math:`x^i`, the cross the common hole :math:`w_0`.

    Parameters
    ----------
    result : attnflow.numerics.interpolation.InterpolationResult
        Of :func:`attnflow.numerics.interpolation.construct_dirac_interpolation`, with :math:`d = 3`.
    seed : int, optional
        The instance's seed, shown in the title.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2411.04551, Theorem 1.1.
    """
    from ._trajectory import _cmap

    if result.targets.shape[1] != 3:
        raise ValueError(f"result: cloud plots need d = 3, got d = {result.targets.shape[1]}")
    fig = figure((11.5, 5.6))
    colours = _cmap("tab10")
    panels = ((r"$t = 0$", result.initial), (f"$t = T = {result.schedule.total_time:.3g}$", result.final))
    for k, (title, clouds) in enumerate(panels):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        _sphere(ax)
        for i, c in enumerate(clouds):
            ax.scatter(*c.T, s=8, color=colours(i % 10), label=rf"measure $\mu_{{{i}}}$", depthshade=False)
            ax.scatter(*result.targets[i], s=260, marker="*", facecolor="none", edgecolor=colours(i % 10),
                       linewidths=1.5, depthshade=False, label=rf"target $\delta_{{x^{{{i}}}}}$")
        ax.scatter(*result.hole, s=80, marker="x", color="k", label="hole $w_0$")
        ax.set_title(title, fontsize=FONT["title"])
        if k == 0:
            ax.legend(loc="upper left", fontsize=7, ncols=2)
    fig.suptitle(_title(result, seed) + f"\none shared schedule: {result.switches} switches, "
                 rf"$\|\theta\|_\infty = {result.norm_inf:.3g}$, max $W_2 = {result.w2.max():.2e}$",
                 fontsize=FONT["title"])
    return fig


def interpolation_w2(result, *, seed: int | None = None):
    r""":math:`W_2(\mu_i(t), \delta_{x^i})` against :math:`t` for every measure (needs ``result.path``).

    Vertical lines mark the switch times of the schedule, shaded spans its phases, the dashed line
    the accuracy :math:`\varepsilon`.

    Parameters
    ----------
    result : attnflow.numerics.interpolation.InterpolationResult
        Built with ``record_stride`` (so that ``result.path`` holds the trajectory).
    seed : int, optional

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2411.04551, Theorem 1.1.
    """
    from attnflow.numerics.interpolation import dirac_w2

    from ._trajectory import _cmap

    if result.path is None:
        raise ValueError("result: no trajectory recorded; call construct_dirac_interpolation(..., record_stride=k)")
    fig = figure((8.5, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    colours = _cmap("tab10")
    t = result.path.times
    for i in range(len(result.initial)):
        w = [dirac_w2(s[i], result.targets[i]) for s in result.path.snapshots]
        ax.semilogy(t, np.maximum(w, 1e-16), color=colours(i % 10), label=rf"$W_2(\mu_{{{i}}}(t), \delta_{{x^{{{i}}}}})$")
    for k, s in enumerate(result.schedule.switch_times):
        ax.axvline(s, color="0.8", lw=0.6, label="switch of the schedule" if k == 0 else None)
    start, shades = 0.0, {"disentangle": "tab:purple", "cluster": "tab:olive"}
    for lay in result.schedule.layers:
        key = lay.label.split(":")[0]
        if key in shades:
            ax.axvspan(start, start + lay.duration, color=shades[key], alpha=0.12, lw=0,
                       label=f"phase: {key}" if f"phase: {key}" not in ax.get_legend_handles_labels()[1] else None)
        start += lay.duration
    ax.axhline(result.eps, color="k", ls="--", lw=0.8, label=rf"accuracy $\varepsilon = {result.eps:g}$")
    style_axes(ax, xlabel=r"time $t$ (model units)", ylabel=r"Wasserstein distance $W_2$ to the target",
               title=_title(result, seed) + "\n(unshaded: matching phase)")
    return fig
