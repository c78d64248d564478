"""Figures for the interpolation construction (matplotlib Agg; private)."""

from __future__ import annotations

import numpy as np

from attnflow._base.io import save_figure

from ._geometry import dirac_w2

__all__ = ["plot_clouds", "plot_w2_history"]


def _figure(figsize):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, plt.figure(figsize=figsize)


def _sphere(ax):
    u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : np.pi : 20j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", lw=0.4)
    ax.set_box_aspect((1, 1, 1))
    ax.set_axis_off()


def plot_clouds(result, path: str | None = None):
    """3-D scatter of the N clouds before and after the schedule (d = 3), targets marked.

    One colour per measure; stars are the targets, the cross the common hole ``w0``.
    Returns the figure (and writes ``path`` if given).

    References
    ----------
    arXiv 2411.04551, Theorem 1.1.
    """
    if result.targets.shape[1] != 3:
        raise ValueError(f"result: cloud plots need d = 3, got d = {result.targets.shape[1]}")
    plt, fig = _figure((11, 5.2))
    colours = plt.get_cmap("tab10")
    for k, (title, clouds) in enumerate((("t = 0", result.initial), (f"t = T = {result.schedule.total_time:.3g}", result.final))):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        _sphere(ax)
        for i, c in enumerate(clouds):
            ax.scatter(*c.T, s=8, color=colours(i % 10), label=f"measure {i}", depthshade=False)
            ax.scatter(*result.targets[i], s=260, marker="*", facecolor="none", edgecolor=colours(i % 10),
                       linewidths=1.5, depthshade=False)
        ax.scatter(*result.hole, s=80, marker="x", color="k", label="hole $w_0$")
        ax.set_title(title)
        if k == 0:
            ax.legend(loc="upper left", fontsize=7)
    fig.suptitle(
        f"one shared schedule: {result.switches} switches, "
        f"$\\|\\theta\\|_\\infty$ = {result.norm_inf:.3g}, max $W_2$ = {result.w2.max():.2e} (stars: targets)"
    )
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, dpi=110)
        plt.close(fig)
    return fig


def plot_w2_history(result, path: str | None = None):
    """W2(mu_i(t), delta_{x^i}) against t for every measure (needs ``result.path``).

    Vertical lines mark the switch times; the dashed line is ``eps``.

    References
    ----------
    arXiv 2411.04551, Theorem 1.1.
    """
    if result.path is None:
        raise ValueError("result: no trajectory recorded; call construct_dirac_interpolation(..., record_stride=k)")
    plt, fig = _figure((8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    colours = plt.get_cmap("tab10")
    t = result.path.times
    for i in range(len(result.initial)):
        w = [dirac_w2(s[i], result.targets[i]) for s in result.path.snapshots]
        ax.semilogy(t, np.maximum(w, 1e-16), color=colours(i % 10), label=f"measure {i}")
    for s in result.schedule.switch_times:
        ax.axvline(s, color="0.8", lw=0.6)
    # shade the phases (labels of the layers say which phase they belong to)
    start, shades = 0.0, {"disentangle": "tab:purple", "cluster": "tab:olive"}
    for lay in result.schedule.layers:
        key = lay.label.split(":")[0]
        if key in shades:
            ax.axvspan(start, start + lay.duration, color=shades[key], alpha=0.12, lw=0,
                       label=key if key not in ax.get_legend_handles_labels()[1] else None)
        start += lay.duration
    ax.axhline(result.eps, color="k", ls="--", lw=0.8, label="$\\varepsilon$")
    ax.set_xlabel("t")
    ax.set_ylabel("$W_2(\\mu_i(t), \\delta_{x^i})$")
    ax.set_title("distance to the Dirac targets (grey: switches; unshaded: match)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, dpi=110)
        plt.close(fig)
    return fig
