r"""One style for every figure of :mod:`attnflow.plotting` (private).

Figures are built without ``pyplot`` (no global state, no display): :func:`figure` returns a
:class:`matplotlib.figure.Figure` with constrained layout.  Symbols are mathtext (``$\beta$``), every
axis is labelled (time :math:`t` is the model's dimensionless time, energies and inner products are
dimensionless), titles name the run (:func:`run_title`: model, :math:`n`, :math:`d`, :math:`\beta`,
seed) and every drawn curve has a legend entry.

matplotlib is the optional extra ``plot``: :func:`require` says how to install it.
"""

from __future__ import annotations

import math

__all__ = ["INSTALL_HINT", "available", "require", "figure", "run_title", "MODEL_LABELS", "FONT"]

#: How to get matplotlib (the ``plot`` extra).
INSTALL_HINT = 'pip install "attnflow[plot]"'

#: Display names of the models in titles.
MODEL_LABELS = {"sa": "SA", "usa": "USA", "usa_rescaled": "USA (rescaled)", "kuramoto": "Kuramoto",
                "kuramoto_rescaled": "Kuramoto (rescaled)", "causal_alibi": "causal ALiBi", "qkv": "Q/K/V",
                "multihead": "multi-head", "preln": "Pre-LN", "periln": "Peri-LN", "ngpt": "nGPT",
                "sqrt": r"$\sqrt{t}$-scaled", "interp": "attention + perceptron"}

#: Font sizes: title, axis labels, legends, ticks.
FONT = {"title": 11, "label": 10, "legend": 8, "tick": 9}


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def require(option: str = "plot") -> None:
    """Raise ``ValueError`` naming ``option`` and the install command when matplotlib is missing.

    The CLI calls it while it checks its arguments, before any computation.
    """
    if not available():
        raise ValueError(f"{option}: drawing figures needs matplotlib, the optional extra `plot`: {INSTALL_HINT}")


def figure(figsize: tuple[float, float]):
    """A new :class:`matplotlib.figure.Figure` (constrained layout, no ``pyplot``)."""
    if not available():
        raise ImportError(f"attnflow.plotting needs matplotlib, the optional extra `plot`: {INSTALL_HINT}")
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def run_title(model: str | None = None, *, n=None, d=None, beta=None, seed=None, extra=()) -> str:
    r"""The title naming a run: ``"SA, $n = 32$, $d = 3$, $\beta = 1$, seed 0"`` (absent parts left out)."""
    parts = []
    if model:
        parts.append(MODEL_LABELS.get(model, model))
    if n is not None:
        parts.append(f"$n = {n}$")
    if d is not None:
        parts.append(f"$d = {d}$")
    if beta is not None and not (isinstance(beta, float) and math.isnan(beta)):
        parts.append(rf"$\beta = {_num(float(beta))}$")
    if seed is not None:
        parts.append(f"seed {seed}")
    parts.extend(str(x) for x in extra if x)
    return ", ".join(parts)


def style_axes(ax, *, xlabel: str | None = None, ylabel: str | None = None, title: str | None = None,
               legend: bool = True, legend_loc: str = "best", grid: bool = True) -> None:
    """Labels, grid, tick size and (if anything is labelled) the legend of one axes."""
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=FONT["label"])
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=FONT["label"])
    if title is not None:
        ax.set_title(title, fontsize=FONT["title"])
    ax.tick_params(labelsize=FONT["tick"])
    if grid:
        ax.grid(True, alpha=0.25)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=FONT["legend"], loc=legend_loc, framealpha=0.8)
