r"""Figures of the papers (private): phase diagrams over :math:`(t, \beta)` and metastability staircases.

Every function returns a :class:`matplotlib.figure.Figure` (built without ``pyplot``, so no
global state and no display are needed; save it with ``fig.savefig`` or
:func:`attnflow._base.io.save_figure`). matplotlib is imported only when a figure is drawn.

:func:`phase_diagram`    one heatmap :math:`P(\beta, t)` with its empirical 1/2-level boundary and
                         the equiangular prediction :math:`t_\beta` overlaid
:func:`sweep_figure`     the phase diagrams of a sweep store (``attnflow sweep --plot``), one panel
                         per model / n / d / method / parameter value
:func:`staircase`        an observable against :math:`\log t` for several :math:`\beta`

References
----------
arXiv:2512.01868 (the phase diagram of :math:`P(\langle x_i(t), x_j(t)\rangle \ge 0.999)` for
n = 32, d = 8, 128, 1024, with the equiangular prediction; the metastability staircase);
arXiv:2312.10794 (the phase diagrams of SA and USA, d = 2, 3, n = 32).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._style import FONT, MODEL_LABELS, figure as _figure

__all__ = ["phase_diagram", "sweep_figure", "staircase", "PAIR_LABEL", "T_LABEL", "BETA_LABEL"]

#: Colour-bar label of the pair statistic (mathtext).
PAIR_LABEL = r"$P(\langle x_i(t), x_j(t)\rangle \geq 1-\delta)$"

_LABELS = MODEL_LABELS
#: Axis labels (time is the model's dimensionless time).
T_LABEL = r"time $t$ (model units)"
BETA_LABEL = r"inverse temperature $\beta$"


def _delta_text(delta: float) -> str:
    e = math.log10(delta)
    if abs(e - round(e)) < 1e-12:
        return rf"$\delta = 10^{{{int(round(e))}}}$"
    return rf"$\delta = {delta:g}$"


def _draw(ax, p, times, betas, *, n, model, delta, level, prediction, rho0, vmax=1.0, legend=True):
    """Draw one panel on ``ax``; returns the QuadMesh (for the colour bar)."""
    from matplotlib import patheffects

    from attnflow.numerics.phase import equiangular_boundary, level_crossing

    mesh = ax.pcolormesh(times, betas, p, shading="nearest", cmap="RdBu_r", vmin=0.0, vmax=vmax, rasterized=True)
    emp = level_crossing(p, times, level)
    ok = np.isfinite(emp)
    if ok.any():
        ax.plot(emp[ok], np.asarray(betas)[ok], color="white", ls="--", lw=1.8,
                path_effects=[patheffects.withStroke(linewidth=3.2, foreground="black")],
                label=rf"empirical ${level:g}$-level boundary")
    if prediction and model in ("sa", "usa") and n is not None:
        tb = equiangular_boundary(betas, int(n), delta=delta, rho0=rho0, model=model)
        fin = np.isfinite(tb) & (tb <= times[-1] * 1.05)
        if fin.any():
            ax.plot(tb[fin], np.asarray(betas)[fin], color="black", lw=2.0,
                    label=rf"equiangular $t_\beta$ ($\rho_0 = {rho0:g}$)")
    ax.set_xlim(times[0], times[-1])
    ax.set_ylim(min(betas), max(betas))
    ax.set_xlabel(T_LABEL, fontsize=FONT["label"])
    ax.set_ylabel(BETA_LABEL, fontsize=FONT["label"])
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=7, framealpha=0.7)
    return mesh


def _check_grid(p, times, betas):
    p = np.asarray(p, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    b = np.asarray(betas, dtype=np.float64)
    if p.ndim != 2 or p.shape != (b.size, t.size):
        raise ValueError(f"p: expected shape (len(betas), len(times)) = ({b.size}, {t.size}), got {p.shape}")
    if b.size < 2 or t.size < 2:
        raise ValueError("betas: a phase diagram needs at least 2 values of beta and 2 saved times")
    return p, t, b


def phase_diagram(p, times, betas, *, n: int | None = None, d: int | None = None, model: str | None = "sa",
                  delta: float = 1e-3, level: float = 0.5, prediction: bool = True, rho0: float = 0.0,
                  title: str | None = None, colorbar_label: str = PAIR_LABEL):
    r"""One phase diagram: the heatmap of :math:`P(\beta, t)` with its boundary and the prediction.

    .. math:: P(\beta, t) = \mathbb P\bigl(\langle x_i(t), x_j(t)\rangle \ge 1-\delta\bigr)

    (the ensemble mean of :func:`attnflow.numerics.observables.pair_fraction`), drawn over
    :math:`t` (horizontal) and :math:`\beta` (vertical), with the first time it reaches ``level``
    (:func:`attnflow.numerics.phase.level_crossing`, dashed) and, for ``sa``/``usa`` with
    ``prediction``, the equiangular curve :math:`t_\beta`
    (:func:`attnflow.numerics.phase.equiangular_boundary`, solid).

    Parameters
    ----------
    p : array_like, shape (len(betas), len(times))
    times, betas : array_like
    n, d : int, optional
        Shown in the title; ``n`` is needed for the prediction.
    model : str, optional
    delta, level, rho0 : float
    prediction : bool
    title : str, optional
        Default: model, :math:`n`, :math:`d`.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2512.01868; arXiv:2312.10794.
    """
    p, t, b = _check_grid(p, times, betas)
    fig = _figure((5.6, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    mesh = _draw(ax, p, t, b, n=n, model=model, delta=delta, level=level, prediction=prediction, rho0=rho0)
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(colorbar_label)
    if title is None:
        parts = [_LABELS.get(model, model or "")]
        if n is not None:
            parts.append(f"$n = {n}$")
        if d is not None:
            parts.append(f"$d = {d}$")
        parts.append(_delta_text(delta))
        title = ", ".join(x for x in parts if x)
    ax.set_title(title)
    return fig


def _dataset(store):
    if hasattr(store, "data_vars") and hasattr(store, "attrs"):
        return store
    from attnflow.sweeps import open_store

    return open_store(store)


def sweep_figure(store, observable: str = "pair_fraction", *, level: float = 0.5, prediction: bool = True,
                 rho0: float = 0.0, ncols: int | None = None):
    r"""The phase diagrams of a sweep store: one heatmap per combination of the grid's other keys.

    The observable is averaged over seeds (NaN chunks, not yet computed, are left out) and drawn
    over :math:`(t, \beta)` as in :func:`phase_diagram`, with its ``level`` boundary and, for
    ``pair_fraction`` of ``sa``/``usa``, the equiangular prediction :math:`t_\beta`.  Panels are laid
    out with the last grid key (e.g. ``method`` or ``d``) along a row.

    Parameters
    ----------
    store : path or xarray.Dataset
        A sweep store (``attnflow sweep --out``) or the dataset of :func:`attnflow.sweeps.open_store`.
    observable : str
        A recorded observable with a time axis (default ``pair_fraction``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        The observable is not in the store or has no time axis, or ``beta`` is not a dimension
        with at least 2 values.

    References
    ----------
    arXiv:2512.01868; arXiv:2312.10794.
    """
    import json

    ds = _dataset(store)
    if observable not in ds.data_vars or observable == "chunk_done":
        names = [v for v in ds.data_vars if v != "chunk_done"]
        raise ValueError(f"observable: {observable!r} is not in the store (it has {', '.join(names)})")
    var = ds[observable]
    if "t" not in var.dims:
        raise ValueError(f"observable: {observable!r} has no time axis; a phase diagram needs one over (t, beta)")
    if "beta" not in var.dims or var.sizes["beta"] < 2:
        raise ValueError("beta: a phase diagram needs beta as a sweep dimension with at least 2 values "
                         "(beta = {start, stop, num} in the spec)")
    spec = json.loads(ds.attrs["sweep_spec"])
    fixed = dict(spec.get("fixed", {}))
    delta = float(spec.get("delta", 1e-3))
    n_seeds = var.sizes.get("seed", 1)
    panel_dims = [dim for dim in var.dims if dim not in ("beta", "seed", "t")]
    combos = list(itertools.product(*(range(var.sizes[dim]) for dim in panel_dims))) or [()]
    if ncols is None:
        ncols = var.sizes[panel_dims[-1]] if panel_dims and var.sizes[panel_dims[-1]] <= 4 else min(3, len(combos))
    nrows = math.ceil(len(combos) / ncols)
    fig = _figure((4.6 * ncols + 1.2, 3.5 * nrows + 0.6))
    axes = [fig.add_subplot(nrows, ncols, k + 1) for k in range(len(combos))]
    times = np.asarray(ds["t"].values, dtype=np.float64)
    betas = np.asarray(ds["beta"].values, dtype=np.float64)
    mesh = None
    partial = False
    for ax, combo in zip(axes, combos):
        sel = {dim: i for dim, i in zip(panel_dims, combo)}
        sub = var.isel(sel) if sel else var
        arr = np.asarray(sub.transpose(*(["beta"] + (["seed"] if "seed" in sub.dims else []) + ["t"])).values)
        with np.errstate(invalid="ignore"):
            p = np.nanmean(arr, axis=1) if arr.ndim == 3 else arr
        # seeds computed per beta (a partial store: NaN chunks not yet computed are left out)
        counts = np.isfinite(arr).all(axis=2).sum(axis=1) if arr.ndim == 3 else None
        vals = dict(fixed)
        for dim, i in sel.items():
            v = ds[dim].values[i]
            vals[dim] = v.item() if hasattr(v, "item") else v
        model = str(vals.get("model", ""))
        pred = prediction and observable == "pair_fraction"
        vmax = 1.0 if observable == "pair_fraction" else float(np.nanmax(p)) if np.isfinite(p).any() else 1.0
        mesh = _draw(ax, p, times, betas, n=vals.get("n"), model=model, delta=delta, level=level,
                     prediction=pred, rho0=rho0, vmax=vmax, legend=ax is axes[0])
        parts = [_LABELS.get(model, model)]
        for key in ("n", "d"):
            if key in vals:
                parts.append(f"${key} = {vals[key]}$")
        method = vals.get("method", spec.get("method"))
        if method:
            parts.append(str(method))
        parts += [f"{k} = {vals[k]}" for k in spec.get("params", []) if k in vals]
        if counts is not None and counts.min() < n_seeds:
            lo, hi = int(counts.min()), int(counts.max())
            partial = True
            parts.append(f"{lo}{'' if lo == hi else f'-{hi}'} of {n_seeds} seeds")
        ax.set_title(", ".join(parts), fontsize=10)
    label = PAIR_LABEL if observable == "pair_fraction" else observable
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, aspect=25 * max(1, nrows) ** 0.5)
    cb.set_label(label)
    over = f"mean over the seeds computed (of {n_seeds}; see the panels)" if partial else f"mean over {n_seeds} seeds"
    fig.suptitle(f"{label}, {_delta_text(delta)}: {over}", fontsize=11)
    return fig


def staircase(times, values, betas, *, ylabel: str | None = None, title: str | None = None, logx: bool = True):
    r"""Observables against :math:`\log t`, one line per :math:`\beta` (the metastability staircase).

    Parameters
    ----------
    times : array_like, shape (T,)
        Saved times (> 0 where ``logx``).
    values : array_like, shape (len(betas), T), or dict
        E.g. the order parameter :math:`|\frac1n\sum_j e^{i\theta_j}|` or the number of clusters; a
        dict ``{label: array}`` draws one panel per entry (stacked, sharing the time axis).
    betas : array_like
    ylabel : str
        The y label of a single panel (the dict keys label the panels of a dict).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2512.01868 (metastability: plateaus whose lengths grow exponentially in :math:`\beta`).
    """
    t = np.asarray(times, dtype=np.float64)
    b = np.asarray(betas, dtype=np.float64)
    if isinstance(values, dict):
        panels = list(values.items())
    else:
        if ylabel is None:
            raise ValueError("ylabel: give the label of the plotted observable")
        panels = [(ylabel, values)]
    if not panels:
        raise ValueError("values: nothing to draw")
    if logx and np.any(t <= 0):
        raise ValueError("times: must be > 0 on a logarithmic axis (drop t = 0)")
    fig = _figure((6.8, 2.0 + 2.6 * len(panels)))
    from ._trajectory import _cmap

    cmap = _cmap("viridis")
    axes = []
    for k_panel, (label, vals) in enumerate(panels):
        v = np.asarray(vals, dtype=np.float64)
        if v.shape != (b.size, t.size):
            raise ValueError(f"values: expected shape (len(betas), len(times)) = ({b.size}, {t.size}), got {v.shape}")
        ax = fig.add_subplot(len(panels), 1, k_panel + 1, sharex=axes[0] if axes else None)
        axes.append(ax)
        for k, (beta, row) in enumerate(zip(b, v)):
            ax.plot(t, row, color=cmap(k / max(1, b.size - 1)), lw=1.6, label=rf"$\beta = {beta:g}$")
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(T_LABEL + (", log scale" if logx else ""), fontsize=FONT["label"])
        ax.set_ylabel(label)
        if np.all(np.isnan(v) | (v == np.round(v))):  # counts: integer ticks
            from matplotlib.ticker import MaxNLocator

            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
