r"""Figures of attnflow: every figure the CLI draws, as functions returning a matplotlib ``Figure``.

matplotlib is the optional extra ``plot`` (``pip install "attnflow[plot]"``); this package is the
only part of attnflow that imports it, and only when a figure is drawn (``import attnflow.plotting``
works without it).  Figures are built without ``pyplot`` (no global state, no display): save one
with ``fig.savefig("out.png")`` or :func:`attnflow._base.io.save_figure` (atomic).  One style
throughout: mathtext symbols, labelled axes (time :math:`t` in the model's units), the run's
model, :math:`n`, :math:`d`, :math:`\beta` and seed in the title, a legend entry for every curve.

Trajectories
    :func:`trajectory_figure` (``attnflow simulate --plot``), :func:`inner_product_histogram`
    (the pairwise inner products over time), :func:`ensemble_figure` (energy and cluster count of
    a batch of systems)
Phase diagrams
    :func:`phase_diagram`, :func:`sweep_figure` (``attnflow sweep --plot``), :func:`staircase`
Retrieval (lost in the middle)
    :func:`retrieval_profile` (``attnflow profile --plot``, with ``--particles``),
    :func:`retrieval_sweep` (``attnflow profile --sweep``)
Interpolation
    :func:`interpolation_clouds`, :func:`interpolation_w2` (``attnflow interpolate --plot``)
The HTML check report
    :func:`report_renderers` (``attnflow check --report out.html``)
Installation
    :func:`available`, :func:`require`, :data:`INSTALL_HINT`

Examples
--------
>>> from attnflow.numerics import random_sphere, simulate
>>> from attnflow.plotting import trajectory_figure
>>> traj = simulate("sa", random_sphere(16, 3, seed=0), beta=1.0, t_final=5.0, dt=0.05)
>>> fig = trajectory_figure(traj, seed=0)
>>> fig.savefig("run.png")  # doctest: +SKIP
"""

from ._interpolation import interpolation_clouds, interpolation_w2
from ._phase import BETA_LABEL, PAIR_LABEL, T_LABEL, phase_diagram, staircase, sweep_figure
from ._report import report_renderers
from ._retrieval import SWEEP_BETAS, SWEEP_TIMES, retrieval_profile, retrieval_sweep
from ._style import INSTALL_HINT, available, require, run_title
from ._trajectory import ensemble_figure, inner_product_histogram, trajectory_figure

__all__ = [
    "trajectory_figure",
    "inner_product_histogram",
    "ensemble_figure",
    "phase_diagram",
    "sweep_figure",
    "staircase",
    "retrieval_profile",
    "retrieval_sweep",
    "interpolation_clouds",
    "interpolation_w2",
    "report_renderers",
    "available",
    "require",
    "run_title",
    "INSTALL_HINT",
    "PAIR_LABEL",
    "T_LABEL",
    "BETA_LABEL",
    "SWEEP_TIMES",
    "SWEEP_BETAS",
]
