"""RK4-with-retraction integration of N measures under ONE shared schedule (private).

Public names are re-exported by :mod:`attnflow.numerics.interpolation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._field import layer_field
from ._schedule import Schedule

__all__ = ["flow", "FlowPath", "check_measures", "layer_steps"]

UNIT_TOL = 1e-8


def check_measures(measures, name: str = "measures", d: int | None = None) -> list[np.ndarray]:
    """Validate a list of point clouds on the sphere: shapes, finiteness, unit norm."""
    if isinstance(measures, np.ndarray) and measures.ndim == 2:
        raise ValueError(f"{name}: expected a list of (n_i, d) arrays (one per measure), got one array; wrap it in a list")
    for k, c in enumerate(measures):
        if np.iscomplexobj(c):
            raise ValueError(f"{name}[{k}]: expected real points, got complex values")
    try:
        clouds = [np.array(c, dtype=np.float64, copy=True) for c in measures]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a list of (n_i, d) float arrays ({exc})") from None
    if not clouds:
        raise ValueError(f"{name}: need at least one measure")
    for k, c in enumerate(clouds):
        if c.ndim != 2 or c.shape[0] < 1:
            raise ValueError(f"{name}[{k}]: expected a non-empty (n, d) array, got shape {c.shape}")
        if d is not None and c.shape[1] != d:
            raise ValueError(f"{name}[{k}]: dimension {c.shape[1]} does not match d = {d}")
        if not np.all(np.isfinite(c)):
            raise ValueError(f"{name}[{k}]: contains NaN or inf")
        dev = np.abs(np.linalg.norm(c, axis=1) - 1.0).max()
        if dev > UNIT_TOL:
            raise ValueError(
                f"{name}[{k}]: points must lie on the unit sphere S^(d-1) (max | |x| - 1 | = {dev:.3g}); "
                "normalise them, e.g. x / np.linalg.norm(x, axis=1, keepdims=True)"
            )
    dims = {c.shape[1] for c in clouds}
    if len(dims) > 1:
        raise ValueError(f"{name}: all measures must live in the same R^d, got dimensions {sorted(dims)}")
    return clouds


def layer_steps(duration: float, dt: float) -> int:
    """Number of equal RK4 steps that land exactly on the end of a layer (step <= dt)."""
    return max(1, math.ceil(duration / dt - 1e-9))


def _rk4_step(x: np.ndarray, f, h: float) -> np.ndarray:
    # f: the layer's field (generated kernel of the model "interp", constant in t within a layer)
    k1 = f(0.0, x)
    k2 = f(0.0, x + 0.5 * h * k1)
    k3 = f(0.0, x + 0.5 * h * k2)
    k4 = f(0.0, x + h * k3)
    y = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y / np.linalg.norm(y, axis=1, keepdims=True)


@dataclass
class FlowPath:
    """Recorded trajectory: ``times[k]`` and ``snapshots[k]`` (a list of N (n_i, d) arrays)."""

    times: np.ndarray
    snapshots: list


def flow(measures, schedule: Schedule, *, dt: float | None = None, steps=None,
         record_stride: int | None = None, progress: bool | None = None):
    r"""Integrate ALL N empirical measures with the ONE shared piecewise-constant schedule.

    Each measure :math:`\mu_i = \frac1{n_i}\sum_k \delta_{x_{ik}}` evolves by its own
    continuity equation with the same parameters :math:`\theta(t)`:

    .. math::

        \dot x_{ik}(t) = P_{x_{ik}}\bigl(V(t) A_{B(t)}[\mu_i(t)](x_{ik}) + W(t)(U(t) x_{ik} + b(t))_+\bigr).

    Classical RK4 in the ambient space followed by the retraction :math:`x \mapsto x/|x|`,
    with ``ceil(duration/dt)`` equal steps per layer so that every step ends exactly on a switch
    time (the field is discontinuous in t only there).  Within a layer the field is the generated
    kernel of the model ``"interp"`` (``attnflow.numerics.fields.make_field("interp", beta=1.0, ...)``,
    built once per layer).

    Parameters
    ----------
    measures : list of (n_i, d) arrays
        Unit vectors; measures may have different sizes ``n_i``.
    schedule : Schedule
        Shared parameters.
    dt : float
        Largest step (``ceil(duration/dt)`` steps per layer).
    steps : sequence of int, optional
        Instead of ``dt``: the number of equal steps in each layer.
    record_stride : int, optional
        Record a snapshot every ``record_stride`` steps and at every layer end.
    progress : bool or None
        A bar over the layers: None (default) automatic (:mod:`attnflow._base.progress`), True, False.

    Returns
    -------
    list of (n_i, d) arrays, or ``(final, FlowPath)`` when ``record_stride`` is given.

    References
    ----------
    arXiv 2411.04551, eq. (1.1) and Theorem 1.1 (one shared theta(t) for all
    inputs).
    """
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule: expected a Schedule, got {type(schedule).__name__}")
    if (dt is None) == (steps is None):
        raise ValueError("dt, steps: give exactly one of them (a step size, or steps per layer)")
    if dt is not None:
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt: must be a finite positive step, got {dt!r}")
        steps = [layer_steps(lay.duration, dt) for lay in schedule.layers]
    else:
        steps = list(steps)
        if len(steps) != len(schedule.layers) or any(int(k) != k or k < 1 for k in steps):
            raise ValueError(f"steps: need one positive integer per layer ({len(schedule.layers)} layers)")
    clouds = check_measures(measures, d=schedule.dim)
    if record_stride is not None and (int(record_stride) != record_stride or record_stride < 1):
        raise ValueError(f"record_stride: must be a positive integer, got {record_stride!r}")
    times, snaps = [0.0], [[c.copy() for c in clouds]]
    t = 0.0
    layers = schedule.layers
    from attnflow._base.progress import progress_bar

    layers = progress_bar(progress, layers, desc="flow", unit="layer")
    sizes = np.cumsum([len(c) for c in clouds])[:-1]
    for layer, nsteps in zip(layers, steps):
        h = layer.duration / nsteps
        f = layer_field(layer)
        # without attention the field is pointwise: integrate all atoms of all measures at once
        pointwise = not np.any(layer.V != 0.0)
        for s in range(int(nsteps)):
            if pointwise:
                clouds = np.split(_rk4_step(np.vstack(clouds), f, h), sizes)
            else:
                clouds = [_rk4_step(c, f, h) for c in clouds]
            if record_stride is not None and ((s + 1) % record_stride == 0 or s + 1 == nsteps):
                times.append(t + (s + 1) * h)
                snaps.append([c.copy() for c in clouds])
        t += layer.duration
    if record_stride is None:
        return clouds
    return clouds, FlowPath(np.array(times), snaps)
